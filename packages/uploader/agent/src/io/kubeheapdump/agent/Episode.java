package io.kubeheapdump.agent;

/**
 * When to take a threshold dump, decided from one reading at a time (no I/O here; Watchdog reads and acts).
 * What counts is the memory the kernel cannot reclaim plus what the dump itself will need (StackCost). Armed,
 * it dumps once that reaches the threshold, or sooner, from the re-arm mark up, when memory grows fast enough
 * to reach the threshold within {@link #LEAD_NANOS}: the dump and its upload take about that long (test/watchdog-oom.test.ts
 * (a): a small heap written and stored 0.33 s after the threshold was seen), and a leak of 40 MB/s crosses
 * the last tenth of a 256 MiB limit in 0.6 s. Then it stays disarmed until the count falls below the re-arm
 * mark: one dump per episode.
 */
final class Episode {
  enum Action {
    NONE,
    DUMP,
    /** The threshold was reached but the dump could not fit below the limit: not taken this episode. */
    SKIP,
    REARM
  }

  /** How far ahead growth is looked at. */
  static final long LEAD_NANOS = 1_000_000_000L;
  /** Growth is measured over about this much of the last readings. */
  private static final long WINDOW_NANOS = 1_000_000_000L;
  /** Readings kept for the growth: a second and more at the fastest poll (Watchdog.FAST_INTERVAL_MS). */
  private static final int KEPT = 32;

  private final int threshold;
  private final int rearm;
  private final long[] times = new long[KEPT];
  private final long[] counts = new long[KEPT];
  private int readings;
  private boolean armed = true;
  private long lastLimit;

  Episode(int threshold, int rearm) {
    this.threshold = threshold;
    this.rearm = rearm;
  }

  /** {@code counted}: bytes the kernel cannot reclaim plus what a dump needs; {@code limit} > 0. */
  Action next(long nanos, long counted, long limit) {
    times[readings % KEPT] = nanos;
    counts[readings % KEPT] = counted;
    readings++;
    lastLimit = limit;
    if (armed) {
      boolean reached = counted * 100 >= threshold * limit;
      double ahead = counted + growthPerSecond() * LEAD_NANOS / 1e9;
      boolean soon = counted * 100 >= rearm * limit && ahead * 100 >= threshold * (double) limit;
      if (!reached && !soon) return Action.NONE;
      armed = false;
      return counted >= limit ? Action.SKIP : Action.DUMP;
    }
    if (counted * 100 < rearm * limit) {
      armed = true;
      return Action.REARM;
    }
    return Action.NONE;
  }

  /** Armed and at or above the re-arm mark: worth reading more often. */
  boolean near() {
    return armed && lastLimit > 0 && lastCount() * 100 >= rearm * lastLimit;
  }

  /** Percent of the limit counted at the last reading. */
  long percent() {
    return lastLimit <= 0 ? 0 : lastCount() * 100 / lastLimit;
  }

  private long lastCount() {
    return readings == 0 ? 0 : counts[(readings - 1) % KEPT];
  }

  /**
   * Bytes a second the count grew over about the last WINDOW_NANOS (0 when falling, or under 200 ms of
   * readings).
   */
  double growthPerSecond() {
    if (readings < 2) return 0;
    int newest = (readings - 1) % KEPT;
    int from = newest;
    for (int back = 1; back < Math.min(readings, KEPT); back++) {
      from = (readings - 1 - back) % KEPT;
      if (times[newest] - times[from] >= WINDOW_NANOS) break;
    }
    long span = times[newest] - times[from];
    if (span < 200_000_000L) return 0;
    return Math.max(0, (counts[newest] - counts[from]) * 1e9 / span);
  }
}
