// A byte-rate limit (token bucket), to emulate a network link in benchmarks: one for the whole server (a link
// capped in total) or one per request (an S3 connection).
import { Transform, type TransformCallback } from 'node:stream';

export class RateLimit {
  private nextFree = 0;
  readonly bytesPerSecond: number;
  private readonly clock: () => number;
  /** `clock`: milliseconds, performance.now() unless a test gives its own. */
  constructor(bytesPerSecond: number, clock: () => number = () => performance.now()) {
    this.bytesPerSecond = bytesPerSecond;
    this.clock = clock;
  }

  /** Milliseconds to wait before `bytes` may pass; reserves them. */
  reserve(bytes: number): number {
    const now = this.clock();
    const start = Math.max(now, this.nextFree);
    this.nextFree = start + (bytes / this.bytesPerSecond) * 1000;
    return start - now;
  }

  stream(): Transform {
    return new Transform({
      highWaterMark: 1 << 20,
      transform: (chunk: Buffer, _enc, done: TransformCallback) => {
        const wait = this.reserve(chunk.length);
        if (wait < 1) done(null, chunk);
        else setTimeout(() => done(null, chunk), wait);
      },
    });
  }
}

/** `125MB/s`, `1GiB/s`, `500KB/s`, or a plain number of bytes per second. */
export function parseRate(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMG]i?B)?(?:\/s)?$/i.exec(text.trim());
  if (!m) throw new Error(`rate "${text}" is not like 125MB/s`);
  const units: Record<string, number> = {
    kb: 1e3,
    mb: 1e6,
    gb: 1e9,
    kib: 1024,
    mib: 1024 ** 2,
    gib: 1024 ** 3,
  };
  const unit = m[2] ? units[m[2].toLowerCase()] : 1;
  const rate = Number(m[1]) * (unit ?? 1);
  if (!(rate > 0)) throw new Error(`rate "${text}" must be positive`);
  return rate;
}
