package io.kubeheapdump.agent;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;

/**
 * The native memory HotSpot's own stack walks take, so the watchdog keeps room for them: to dump the heap it
 * copies every frame of every thread, and to make a thread dump every frame it reports, into memory freed
 * only when it is done, a peak the kernel counts. Measured by scripts/stack-cost (peak RSS around each call,
 * 1,000 threads 38-40 frames deep; docs/benchmarks.md): a heap dump takes 3.9-4.3 KB a frame on JDK 11 and
 * 0.1 KB on 17, 21 and 25; a thread dump 4.8-5.6 KB on JDK 11 and 17 and 0.16 KB on 21 and 25 (up to 1 KB with
 * its heap objects when the heap must grow for them). JDK 11 in a 256 MiB cgroup was still killed dumping a
 * leak of 830 threads counted at 5 KiB a frame (test/watchdog-oom.test.ts (b)); at 6 KiB it is not. The
 * figures below are those, rounded up; features not measured take the costlier neighbour's.
 */
final class StackCost {
  private static final int FEATURE = Runtime.version().feature();
  static final long HEAP_DUMP_PER_FRAME = FEATURE < 17 ? 6 << 10 : 512;
  static final long THREAD_DUMP_PER_FRAME = FEATURE < 21 ? 6 << 10 : 1 << 10;
  /** Threads whose whole stacks are walked to learn the mean depth, one walk each (its memory freed after). */
  private static final int SAMPLE = 16;
  /** The mean depth is learnt again after this, or sooner when the thread count grows by a quarter. */
  private static final long RESAMPLE_NANOS = 10_000_000_000L;

  private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
  private double meanDepth;
  private int sampledThreads = -1;
  private long sampledAt;
  private int lastThreads;

  /** Bytes a heap dump taken now is expected to need for the stacks of every thread. */
  long heapDump() {
    int n = threads.getThreadCount();
    long now = System.nanoTime();
    if (sampledThreads < 0 || now - sampledAt > RESAMPLE_NANOS || n > sampledThreads + Math.max(16, sampledThreads / 4)) {
      meanDepth = sampleDepth();
      sampledThreads = n;
      sampledAt = now;
    }
    lastThreads = n;
    return (long) (n * meanDepth * HEAP_DUMP_PER_FRAME);
  }

  /** "3,700 threads' stacks (34 frames on average)": what the last {@link #heapDump} counted. */
  String describeLast() {
    return String.format("%,d threads' stacks (%.0f frames on average)", lastThreads, meanDepth);
  }

  /** The mean depth of up to SAMPLE threads spread over all of them, each walked alone. */
  private double sampleDepth() {
    long[] ids = threads.getAllThreadIds();
    int k = Math.min(SAMPLE, ids.length);
    long frames = 0;
    int seen = 0;
    for (int i = 0; i < k; i++) {
      ThreadInfo t = threads.getThreadInfo(ids[(int) ((long) i * ids.length / k)], Integer.MAX_VALUE);
      if (t == null) continue; // ended meanwhile
      frames += t.getStackTrace().length;
      seen++;
    }
    return seen == 0 ? 0 : (double) frames / seen;
  }
}
