// One dump's parts in flight: they run in the process-wide limiter's budget; the first failure is kept and
// thrown to the producer (at its next part) and from `drain`, after every part under way has settled.
import type { Limiter } from './limiter.ts';

export class InFlight {
  private readonly limiter: Limiter;
  private readonly running = new Set<Promise<void>>();
  private failure: unknown;

  constructor(limiter: Limiter) {
    this.limiter = limiter;
  }

  /** Waits for room in the budget, then starts `task`; throws an earlier part's failure instead. */
  async start(cost: number, task: () => Promise<void>): Promise<void> {
    this.throwIfFailed();
    const release = await this.limiter.acquire(cost);
    if (this.failure !== undefined) {
      release();
      this.throwIfFailed();
    }
    const p: Promise<void> = task()
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => {
        release();
        this.running.delete(p);
      });
    this.running.add(p);
  }

  async drain(): Promise<void> {
    await Promise.all(this.running);
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
