package io.kubeheapdump.agent;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.LockInfo;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.lang.management.MonitorInfo;
import java.lang.management.ThreadInfo;
import java.time.Instant;
import javax.management.ObjectName;

/**
 * The small JSON file stored beside a dump (schema kube-heapdump/evidence/v1, the contract's
 * packages/contract/src/evidence.ts): why it was taken, the container's memory figures, the JVM's own, a
 * thread dump and, when Native Memory Tracking is on, its summary.
 */
final class Evidence {
  static final String SCHEMA = "kube-heapdump/evidence/v1";

  private Evidence() {}

  static String collect(
      String trigger, String dumpFile, CgroupMemory.Reading reading, int cgroupVersion, int thresholdPercent) {
    StringBuilder out = new StringBuilder(64 * 1024);
    out.append("{\"schema\":").append(Json.string(SCHEMA));
    out.append(",\"trigger\":").append(Json.string(trigger));
    out.append(",\"takenAt\":").append(Json.string(Instant.now().toString()));
    out.append(",\"dumpFile\":").append(Json.string(dumpFile));
    out.append(",\"pid\":").append(ProcessHandle.current().pid());
    out.append(",\"container\":");
    if (reading == null) out.append("null");
    else {
      out.append("{\"cgroupVersion\":").append(cgroupVersion);
      out.append(",\"usageBytes\":").append(reading.usage);
      out.append(",\"inactiveFileBytes\":").append(reading.inactiveFile);
      out.append(",\"workingSetBytes\":").append(reading.workingSet());
      out.append(",\"limitBytes\":").append(reading.limit);
      out.append(",\"thresholdPercent\":").append(thresholdPercent).append('}');
    }
    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    MemoryUsage nonHeap = ManagementFactory.getMemoryMXBean().getNonHeapMemoryUsage();
    out.append(",\"jvm\":{\"version\":").append(Json.string(System.getProperty("java.vm.version")));
    out.append(",\"heapUsedBytes\":").append(heap.getUsed());
    out.append(",\"heapCommittedBytes\":").append(heap.getCommitted());
    out.append(",\"heapMaxBytes\":").append(heap.getMax());
    out.append(",\"nonHeapUsedBytes\":").append(nonHeap.getUsed());
    for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
      if (!pool.getName().equals("direct")) continue;
      out.append(",\"directBufferBytes\":").append(pool.getMemoryUsed());
      out.append(",\"directBufferCount\":").append(pool.getCount());
    }
    out.append(",\"threads\":").append(ManagementFactory.getThreadMXBean().getThreadCount()).append('}');
    out.append(",\"nativeMemory\":").append(Json.string(nativeMemory()));
    out.append(",\"threadDump\":").append(Json.string(threadDump()));
    return out.append("}\n").toString();
  }

  /**
   * NMT's summary through the DiagnosticCommand MBean, only when -XX:NativeMemoryTracking is on: the
   * platform MBean server is never created otherwise (creating it early starts java.util.logging, which
   * some application servers must configure first).
   */
  private static String nativeMemory() {
    try {
      String nmt =
          ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
              .getVMOption("NativeMemoryTracking")
              .getValue();
      if (nmt.equals("off")) return null;
      Object text =
          ManagementFactory.getPlatformMBeanServer()
              .invoke(
                  new ObjectName("com.sun.management:type=DiagnosticCommand"),
                  "vmNativeMemory",
                  new Object[] {new String[] {"summary"}},
                  new String[] {String[].class.getName()});
      return String.valueOf(text);
    } catch (Exception | LinkageError e) {
      return "not available: " + e;
    }
  }

  /**
   * Frames kept per thread: a thread leak of a thousand deep stacks would otherwise make a thread dump of tens
   * of MB, taken while memory keeps growing (measured: 700 threads 1,024 frames deep got the JVM killed
   * before its heap dump).
   */
  static final int MAX_FRAMES = 64;
  /** The thread dump's text stops near this: it is built in the heap, which may be small or nearly full. */
  static final int MAX_CHARS = 4 << 20;

  /** Every thread with its stack (MAX_FRAMES deep) and locks, in jstack's layout. */
  static String threadDump() {
    StringBuilder out = new StringBuilder(32 * 1024);
    java.lang.management.ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    ThreadInfo[] all = threads.getThreadInfo(threads.getAllThreadIds(), true, true, MAX_FRAMES);
    for (int n = 0; n < all.length; n++) {
      ThreadInfo t = all[n];
      if (t == null) continue; // ended meanwhile
      if (out.length() > MAX_CHARS) {
        out.append("... ").append(all.length - n).append(" more threads not kept\n");
        break;
      }
      out.append('"').append(t.getThreadName()).append("\" #").append(t.getThreadId());
      if (t.isDaemon()) out.append(" daemon");
      out.append(" prio=").append(t.getPriority()).append('\n');
      out.append("   java.lang.Thread.State: ").append(t.getThreadState());
      if (t.getLockName() != null) out.append(" on ").append(t.getLockName());
      if (t.getLockOwnerName() != null) out.append(" owned by \"").append(t.getLockOwnerName()).append('"');
      out.append('\n');
      StackTraceElement[] stack = t.getStackTrace();
      for (int i = 0; i < stack.length; i++) {
        out.append("\tat ").append(stack[i]).append('\n');
        for (MonitorInfo m : t.getLockedMonitors()) {
          if (m.getLockedStackDepth() == i) out.append("\t- locked ").append(m).append('\n');
        }
      }
      if (stack.length == MAX_FRAMES) out.append("\t... (deeper frames not kept)\n");
      LockInfo[] syncs = t.getLockedSynchronizers();
      if (syncs.length > 0) {
        out.append("\n   Locked ownable synchronizers:\n");
        for (LockInfo l : syncs) out.append("\t- ").append(l).append('\n');
      }
      out.append('\n');
    }
    return out.toString();
  }
}
