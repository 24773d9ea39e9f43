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

  /**
   * {@code headroom}: bytes left below the container's limit now (Long.MAX_VALUE when unknown or unlimited):
   * the thread dump is left out when it would need more than half of them. {@code stackBytes}: what the heap
   * dump was expected to need for the threads' stacks (StackCost), -1 for a thread dump alone.
   */
  static String collect(
      String trigger,
      String dumpFile,
      CgroupMemory.Reading reading,
      int cgroupVersion,
      int thresholdPercent,
      long headroom,
      long stackBytes) {
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
    out.append(",\"threads\":").append(ManagementFactory.getThreadMXBean().getThreadCount());
    if (stackBytes >= 0) out.append(",\"heapDumpStackBytes\":").append(stackBytes);
    out.append('}');
    out.append(",\"nativeMemory\":").append(Json.string(nativeMemory()));
    out.append(",\"threadDump\":").append(Json.string(threadDump(headroom)));
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
   * Frames kept per thread at most: a thread leak of a thousand deep stacks would otherwise make a thread dump
   * of tens of MB, taken while memory keeps growing (measured: 700 threads 1,024 frames deep got the JVM killed
   * before its heap dump).
   */
  static final int MAX_FRAMES = 64;
  /**
   * Frames kept over all threads: besides HotSpot's native copy of each frame (StackCost), each kept frame is
   * a StackTraceElement and its strings in the heap, and a line of text.
   */
  static final int MAX_TOTAL_FRAMES = 16_384;
  /** Frames kept per thread however many threads there are. */
  static final int MIN_FRAMES = 8;
  /** Threads asked for at a time at most: their ThreadInfos are garbage before the next batch. */
  static final int MAX_BATCH = 256;
  /**
   * Native memory one batch may take: HotSpot frees a thread dump's frames only once all its threads are
   * walked, ~6 KB a frame on JDK 11 and 17 (StackCost), so asking 256 threads 64 frames deep at once took
   * ~90 MB there; asked a few at a time, each safepoint's copy is small and reused by the next.
   */
  static final long BATCH_BYTES = 4 << 20;
  /** The thread dump's text stops near this: it is built in the heap, which may be small or nearly full. */
  static final int MAX_CHARS = 1 << 20;

  /** Native bytes a thread dump of {@code threads} threads is taken to need at its peak: one batch's frames. */
  static long threadDumpCost(int threads) {
    int depth = depthFor(threads);
    return Math.min(threads, batchFor(depth)) * (long) depth * StackCost.THREAD_DUMP_PER_FRAME;
  }

  /** Frames kept per thread when there are {@code threads} threads. */
  static int depthFor(int threads) {
    return Math.max(MIN_FRAMES, Math.min(MAX_FRAMES, MAX_TOTAL_FRAMES / Math.max(1, threads)));
  }

  /** Threads asked for at once when each keeps {@code depth} frames. */
  static int batchFor(int depth) {
    return (int) Math.max(1, Math.min(MAX_BATCH, BATCH_BYTES / (depth * StackCost.THREAD_DUMP_PER_FRAME)));
  }

  /**
   * Every thread with its stack (the frames the budget allows) and locks, in jstack's layout; or one line
   * saying why not when it would need more than half of {@code headroom}.
   */
  static String threadDump(long headroom) {
    java.lang.management.ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long[] ids = threads.getAllThreadIds();
    int depth = depthFor(ids.length);
    long cost = threadDumpCost(ids.length);
    if (cost > headroom / 2) {
      return "not taken: " + ids.length + " threads, " + depth + " frames each, would need about "
          + (cost >> 20) + " MiB and " + (headroom >> 20) + " MiB are left below the container's limit; "
          + "every thread's whole stack is in the heap dump\n";
    }
    StringBuilder out = new StringBuilder(32 * 1024);
    int size = batchFor(depth);
    for (int from = 0; from < ids.length; from += size) {
      long[] batch = java.util.Arrays.copyOfRange(ids, from, Math.min(ids.length, from + size));
      int kept = appendThreads(out, threads.getThreadInfo(batch, true, true, depth), depth);
      if (kept < batch.length) {
        out.append("... ").append(ids.length - from - kept).append(" more threads not kept\n");
        break;
      }
    }
    return out.toString();
  }

  /** Appends `all` to `out` until it holds MAX_CHARS; returns how many of `all` were taken. */
  private static int appendThreads(StringBuilder out, ThreadInfo[] all, int depth) {
    for (int n = 0; n < all.length; n++) {
      ThreadInfo t = all[n];
      if (t == null) continue; // ended meanwhile
      if (out.length() > MAX_CHARS) return n;
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
      if (stack.length == depth) out.append("\t... (deeper frames not kept)\n");
      LockInfo[] syncs = t.getLockedSynchronizers();
      if (syncs.length > 0) {
        out.append("\n   Locked ownable synchronizers:\n");
        for (LockInfo l : syncs) out.append("\t- ").append(l).append('\n');
      }
      out.append('\n');
    }
    return all.length;
  }
}
