// One budget for the whole process: parts in flight across every dump share the connections (slots) and the
// memory their bodies hold (bytes). A producer waits for room before it makes the next part, so memory stays
// the same whether one dump or twenty are uploading.

export interface LimiterOptions {
  /** Parts in flight at once, across all dumps. */
  slots: number;
  /** Bytes part bodies may hold at once, across all dumps. */
  bytes: number;
}

export class Limiter {
  private readonly options: LimiterOptions;
  private usedSlots = 0;
  private usedBytes = 0;
  private readonly waiting: { cost: number; grant: () => void }[] = [];

  constructor(options: LimiterOptions) {
    this.options = options;
  }

  /**
   * Waits until a slot and `cost` bytes are free, and takes them; the returned function gives them back.
   * A cost above the whole budget is granted alone, when nothing else is in flight.
   */
  acquire(cost: number): Promise<() => void> {
    return new Promise((resolve) => {
      this.waiting.push({ cost, grant: () => resolve(this.releaser(cost)) });
      this.grant();
    });
  }

  /** Whether `cost` would be granted at once: nobody waits, a slot and the bytes are free. */
  wouldGrant(cost: number): boolean {
    return (
      this.waiting.length === 0 &&
      this.usedSlots < this.options.slots &&
      this.usedBytes + cost <= this.options.bytes
    );
  }

  get inFlight(): { slots: number; bytes: number } {
    return { slots: this.usedSlots, bytes: this.usedBytes };
  }

  private releaser(cost: number): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.usedSlots--;
      this.usedBytes -= cost;
      this.grant();
    };
  }

  /** Grants in arrival order: a large request is not overtaken forever by small ones. */
  private grant(): void {
    for (;;) {
      const next = this.waiting[0];
      if (!next) return;
      const fits = this.usedSlots < this.options.slots && this.usedBytes + next.cost <= this.options.bytes;
      if (!fits && this.usedSlots > 0) return;
      this.waiting.shift();
      this.usedSlots++;
      this.usedBytes += next.cost;
      next.grant();
    }
  }
}
