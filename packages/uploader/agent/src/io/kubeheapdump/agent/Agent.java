package io.kubeheapdump.agent;

import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * kube-heapdump's JVM agent: {@code -javaagent:<dump dir>/.kube-heapdump/agent.jar[=threshold=90,rearm=80,interval=250]}.
 * Finishes any dump the previous JVM was killed writing (PartialDumps), starts one daemon thread (Watchdog) and returns: it never stops the application from starting, whatever
 * goes wrong (said once on stderr).
 */
public final class Agent {
  private Agent() {}

  public static void premain(String options, Instrumentation instrumentation) {
    start(options);
  }

  public static void agentmain(String options, Instrumentation instrumentation) {
    start(options);
  }

  static void start(String options) {
    try {
      Watchdog.Settings s = Watchdog.Settings.parse(options, defaultDir());
      // Before the application starts, so that its memory does not grow during the copy.
      PartialDumps.recover(s.dir);
      String missing = missingModule();
      if (missing != null) {
        Watchdog.log(
            "not started: this Java runtime lacks the module " + missing
                + " (heap dumps need it); add it to the image's jlink --add-modules");
        return;
      }
      Thread t = new Thread(new Watchdog(s), "kube-heapdump-watchdog");
      t.setDaemon(true);
      t.setPriority(Thread.MAX_PRIORITY);
      t.start();
    } catch (RuntimeException e) {
      Watchdog.log("not started: " + e.getMessage());
    }
  }

  /**
   * The first module the watchdog needs that a jlinked runtime may leave out (java.management:
   * ManagementFactory, thread dumps; jdk.management: HotSpotDiagnosticMXBean, heap dumps), or null.
   * java.instrument is not checked: without it the JVM refuses the -javaagent option before any agent runs.
   */
  static String missingModule() {
    for (String module : new String[] {"java.management", "jdk.management"}) {
      if (!ModuleLayer.boot().findModule(module).isPresent()) return module;
    }
    return null;
  }

  /** The dump directory: the jar lives in {@code <dir>/.kube-heapdump/}. */
  private static Path defaultDir() {
    try {
      Path jar = Paths.get(Agent.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      return jar.getParent().getParent();
    } catch (Exception e) {
      return Paths.get("/dumps");
    }
  }
}
