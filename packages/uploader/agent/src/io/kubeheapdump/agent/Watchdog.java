package io.kubeheapdump.agent;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/**
 * The agent's one thread. Every {@code interval} ms (50 ms while armed above the re-arm mark) it reads the
 * container's memory (CgroupMemory), adds what a dump would need (StackCost), and when the Episode says so
 * takes one heap dump with its evidence into the dump directory: at {@code threshold} % of the limit, or
 * sooner when growing fast; then none until the count falls below {@code rearm} %: one dump per episode. While
 * disarmed, the JVM's own HeapDumpOnOutOfMemoryError is off, so an OutOfMemoryError in the same episode adds
 * no second dump. It also serves requests from {@code <dir>/.kube-heapdump/requests/} ({@code <id>.heap},
 * {@code <id>.threads}: `heapdump trigger`), answering each with {@code <id>.done}.
 */
final class Watchdog implements Runnable {
  static final class Settings {
    final int threshold;
    final int rearm;
    final long intervalMs;
    final Path dir;

    private Settings(int threshold, int rearm, long intervalMs, Path dir) {
      this.threshold = threshold;
      this.rearm = rearm;
      this.intervalMs = intervalMs;
      this.dir = dir;
    }

    /** {@code threshold=90,rearm=80,interval=250,dir=/dumps}; every key optional. */
    static Settings parse(String options, Path defaultDir) {
      int threshold = 90;
      Integer rearm = null;
      long interval = 250;
      Path dir = defaultDir;
      if (options != null && !options.isEmpty()) {
        for (String kv : options.split(",")) {
          int eq = kv.indexOf('=');
          String k = eq < 0 ? kv : kv.substring(0, eq);
          String v = eq < 0 ? "" : kv.substring(eq + 1);
          try {
            if (k.equals("threshold")) threshold = Integer.parseInt(v);
            else if (k.equals("rearm")) rearm = Integer.parseInt(v);
            else if (k.equals("interval")) interval = Long.parseLong(v);
            else if (k.equals("dir")) dir = Paths.get(v);
            else throw new IllegalArgumentException("unknown option " + k);
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option " + k + "=" + v + " is not a number");
          }
        }
      }
      if (threshold < 0 || threshold > 99) throw new IllegalArgumentException("threshold must be 0-99");
      int r = rearm != null ? rearm : Math.max(0, threshold - 10);
      if (threshold > 0 && (r < 0 || r >= threshold)) throw new IllegalArgumentException("rearm must be below threshold");
      if (interval < 10) throw new IllegalArgumentException("interval must be at least 10 ms");
      return new Settings(threshold, r, interval, dir);
    }
  }

  /**
   * The interval while armed above the re-arm mark: a 40 MB/s leak crosses 10 MiB in 250 ms, a twentieth of
   * the room above a 90 % threshold of a 256 MiB limit.
   */
  static final long FAST_INTERVAL_MS = 50;

  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");

  private final Settings s;
  private final Path requests;
  private CgroupMemory memory;
  private final StackCost stackCost = new StackCost();
  private final Episode episode;
  /** HeapDumpOnOutOfMemoryError was on and we turned it off for this episode. */
  private boolean oomDumpSuppressed;

  Watchdog(Settings s) {
    this.s = s;
    this.requests = s.dir.resolve(".kube-heapdump").resolve("requests");
    this.episode = new Episode(s.threshold, s.rearm);
  }

  static void log(String message) {
    System.err.println("kube-heapdump agent: " + message);
  }

  @Override
  public void run() {
    try {
      memory = CgroupMemory.resolve(Paths.get("/"));
      if (memory == null) log("no memory cgroup found: threshold dumps off");
      else if (s.threshold > 0) {
        CgroupMemory.Reading r = memory.read();
        log(
            "watching cgroup v" + memory.version + " memory: " + mib(r.unreclaimable()) + " of "
                + (r.limit < 0 ? "no limit (threshold dumps wait for one)" : mib(r.limit))
                + ", dump at " + s.threshold + "%, re-armed below " + s.rearm + "%");
      }
    } catch (IOException | RuntimeException e) {
      log("cannot read the memory cgroup (" + e + "): threshold dumps off");
      memory = null;
    }
    prepare();
    while (true) {
      try {
        Thread.sleep(episode.near() ? Math.min(FAST_INTERVAL_MS, s.intervalMs) : s.intervalMs);
        if (memory != null && s.threshold > 0) check();
        serveRequests();
      } catch (InterruptedException e) {
        return;
      } catch (IOException | RuntimeException e) {
        log("watchdog error, going on: " + e);
      }
    }
  }

  /**
   * Loads the management classes a dump needs now, in this thread, so the threshold path does not spend
   * ~200 ms loading them while memory keeps growing (measured on JDK 17: evidence in 210 ms cold).
   */
  private static void prepare() {
    ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class).getVMOption("HeapDumpOnOutOfMemoryError");
    ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    ManagementFactory.getPlatformMXBeans(java.lang.management.BufferPoolMXBean.class);
    ManagementFactory.getThreadMXBean().getThreadCount();
    Evidence.threadDump(Long.MAX_VALUE);
  }

  /**
   * One reading for the Episode. A dump that could not fit below the limit is not taken: it would get a JVM
   * the kernel was not killing killed (on JDK 11 a leak of deep threads needs more for its dump than it uses).
   */
  private void check() throws IOException {
    CgroupMemory.Reading r = memory.read();
    if (r.limit <= 0) return;
    long stacks = stackCost.heapDump();
    long counted = r.unreclaimable() + stacks;
    Episode.Action action = episode.next(System.nanoTime(), counted, r.limit);
    if (action == Episode.Action.NONE) return;
    if (action == Episode.Action.REARM) {
      suppressOomDump(false);
      log("memory at " + episode.percent() + "% of the limit with what a dump needs: re-armed");
      return;
    }
    suppressOomDump(true);
    String why =
        "memory at " + r.unreclaimable() * 100 / r.limit + "% of the limit (" + mib(r.unreclaimable()) + " of "
            + mib(r.limit) + "), " + episode.percent() + "% with the ~" + mib(stacks) + " the dump needs for "
            + stackCost.describeLast() + ", growing " + mib((long) episode.growthPerSecond()) + "/s";
    if (action == Episode.Action.SKIP) log(why + ": no heap dump, it would not fit below the limit");
    else {
      log(why + ": taking a heap dump");
      dump("memory-threshold", "threshold", r, stacks);
    }
  }

  private void suppressOomDump(boolean suppress) {
    try {
      HotSpotDiagnosticMXBean diag = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
      if (suppress && Boolean.parseBoolean(diag.getVMOption("HeapDumpOnOutOfMemoryError").getValue())) {
        diag.setVMOption("HeapDumpOnOutOfMemoryError", "false");
        oomDumpSuppressed = true;
      } else if (!suppress && oomDumpSuppressed) {
        diag.setVMOption("HeapDumpOnOutOfMemoryError", "true");
        oomDumpSuppressed = false;
      }
    } catch (RuntimeException e) {
      log("cannot change HeapDumpOnOutOfMemoryError: " + e);
    }
  }

  /**
   * Writes the heap dump and its evidence beside it (atomically); returns the dump's file name. The evidence
   * comes first while its thread dump costs little next to the memory left (a quarter of it at most), so that
   * a JVM killed during the dump or its merge still leaves it; else after the dump: the thread dump needs
   * memory and time (HotSpot copies every frame it reports; young collections walk every stack), which a
   * thread leak at the threshold does not leave (measured: 3,700 threads, JDK 17, killed during the thread
   * dump, before the heap dump), while the heap dump, one safepoint, holds every thread's whole stack. The
   * uploader waits a little for the evidence of a dump named like ours (packages/uploader/src/evidence.ts).
   */
  private String dump(String trigger, String kind, CgroupMemory.Reading r, long stacks) throws IOException {
    String stamp = ZonedDateTime.now(ZoneOffset.UTC).format(STAMP);
    String name = "heapdump-" + kind + "-" + stamp + ".hprof";
    for (int i = 2; Files.exists(s.dir.resolve(name)) || Files.exists(PartialDumps.dir(s.dir).resolve(name)); i++) {
      name = "heapdump-" + kind + "-" + stamp + "-" + i + ".hprof";
    }
    String evidence = name + ".evidence.json";
    long headroom = headroom();
    int threads = ManagementFactory.getThreadMXBean().getThreadCount();
    boolean evidenceFirst = Evidence.threadDumpCost(threads) <= headroom / 4;
    if (evidenceFirst) writeEvidence(evidence, trigger, name, r, headroom, stacks);
    long start = System.nanoTime();
    // Written aside and renamed whole: on JDK 22+ the JVM may die during the merge that ends the dump, and
    // the next JVM finishes it from there (PartialDumps).
    Path partial = PartialDumps.dir(s.dir);
    Files.createDirectories(partial);
    Path aside = partial.resolve(name);
    try (FileChannel lockFile = PartialDumps.lockFile(aside)) {
      lockFile.lock(); // released as the channel closes
      ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class).dumpHeap(aside.toString(), liveOnly(trigger));
      Files.move(aside, s.dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(PartialDumps.lockPath(aside));
    }
    log(
        "heap dump written: " + name + " (" + mib(Files.size(s.dir.resolve(name))) + " in "
            + (System.nanoTime() - start) / 1_000_000 + " ms)");
    if (!evidenceFirst) {
      try {
        writeEvidence(evidence, trigger, name, r, headroom(), stacks);
      } catch (IOException | RuntimeException e) {
        log("evidence of " + name + " not written: " + e);
      }
    }
    return name;
  }

  /**
   * Whether the dump collects the heap first (HotSpot's {@code live}). Not for a threshold dump before JDK 17:
   * there the collection's copying into untouched pages and the dumper's own buffers took 12 MiB of RSS (6 MiB
   * without the collection; JDK 17 and 21: 8 MiB, 0-1 MiB without), which got the JVM killed mid-dump in 4 of 11
   * runs of test/watchdog-oom.test.ts (c) on JDK 11, 0 of 13 without it. Such a dump also holds the objects no
   * longer reachable, which {@code heapdump analyze} reports apart.
   */
  private static boolean liveOnly(String trigger) {
    return !trigger.equals("memory-threshold") || Runtime.version().feature() >= 17;
  }

  /** Bytes below the container's limit now; Long.MAX_VALUE when there is no limit or it cannot be read. */
  private long headroom() {
    CgroupMemory.Reading now = readQuietly();
    return now == null || now.limit <= 0 ? Long.MAX_VALUE : Math.max(0, now.limit - now.unreclaimable());
  }

  private void writeEvidence(
      String name, String trigger, String dumpFile, CgroupMemory.Reading r, long headroom, long stacks)
      throws IOException {
    String json =
        Evidence.collect(trigger, dumpFile, r, memory == null ? 0 : memory.version, s.threshold, headroom, stacks);
    Path tmp = s.dir.resolve("." + name + ".tmp");
    Files.write(tmp, json.getBytes(StandardCharsets.UTF_8));
    Files.move(tmp, s.dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
  }

  private void serveRequests() throws IOException {
    if (!Files.isDirectory(requests)) return;
    try (DirectoryStream<Path> files = Files.newDirectoryStream(requests, "*.{heap,threads}")) {
      for (Path request : files) {
        String file = request.getFileName().toString();
        String id = file.substring(0, file.lastIndexOf('.'));
        if (!id.matches("[A-Za-z0-9_-]{1,64}") || !Files.deleteIfExists(request)) continue;
        String answer;
        try {
          CgroupMemory.Reading r = readQuietly();
          if (file.endsWith(".heap")) answer = "{\"file\":" + Json.string(dump("on-demand", "ondemand", r, stackCost.heapDump())) + "}";
          else {
            String name = "threaddump-" + ZonedDateTime.now(ZoneOffset.UTC).format(STAMP) + "-" + id + ".evidence.json";
            writeEvidence(name, "on-demand", null, r, headroom(), -1);
            log("thread dump written: " + name);
            answer = "{\"file\":" + Json.string(name) + "}";
          }
        } catch (IOException | RuntimeException e) {
          answer = "{\"error\":" + Json.string(e.toString()) + "}";
          log("request " + id + " failed: " + e);
        }
        Path tmp = requests.resolve("." + id + ".done.tmp");
        Files.write(tmp, answer.getBytes(StandardCharsets.UTF_8));
        Files.move(tmp, requests.resolve(id + ".done"), StandardCopyOption.ATOMIC_MOVE);
      }
    }
  }

  private CgroupMemory.Reading readQuietly() {
    try {
      return memory == null ? null : memory.read();
    } catch (IOException e) {
      return null;
    }
  }

  private static String mib(long bytes) {
    return String.format("%.1f MiB", bytes / 1048576.0);
  }
}
