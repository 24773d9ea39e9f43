// Compression that follows the link (parts.ts): with zstd, a block goes raw (zstd-raw.ts) only when the link
// takes bytes faster than blocks compress and has room for one more part now. The link's rate is the dump's
// bytes stored per second of time with a part of it in flight (parts overlap: a part's own rate says little),
// the compressor's the input bytes per second of each block. A link capped in total (1 Gbit/s) or sending one
// part at a time at a connection's cap stores slower than one core compresses: every block is compressed; a
// fast store on the same network gets raw blocks. Room: the writer is well ahead (parts.ts) and the
// process-wide budget would start the part at once.

/** Weight of the newest block in the compressor's running average. */
const WEIGHT = 0.3;

export class Adapt {
  /** Blocks sent raw so far (for the log). */
  rawBlocks = 0;
  private readonly sendsAtOnce: (cost: number) => boolean;
  private compressRate: number | undefined;
  private inFlight = 0;
  /** Start (ms) of the current stretch with parts in flight, and the seconds of the stretches before it. */
  private busySince = 0;
  private busyBefore = 0;
  /** Bytes stored, and seconds with parts in flight up to the last one stored. */
  private storedBytes = 0;
  private busySeconds = 0;

  /** `sendsAtOnce`: whether a part holding `cost` bytes would start sending now. */
  constructor(sendsAtOnce: (cost: number) => boolean) {
    this.sendsAtOnce = sendsAtOnce;
  }

  /** A part started sending at `at` (ms, performance.now()). */
  partStarted(at: number): void {
    if (this.inFlight++ === 0) this.busySince = at;
  }

  /** A part started at or after its `partStarted` ended at `at`: stored (`bytes`) or given up (0). */
  partEnded(bytes: number, at: number): void {
    this.storedBytes += bytes;
    const stretch = (at - this.busySince) / 1000;
    this.busySeconds = this.busyBefore + stretch;
    if (--this.inFlight === 0) this.busyBefore += stretch;
  }

  /** A block of `bytes` was compressed in `seconds`. */
  blockCompressed(bytes: number, seconds: number): void {
    if (seconds <= 0) return;
    const rate = bytes / seconds;
    this.compressRate =
      this.compressRate === undefined ? rate : this.compressRate + WEIGHT * (rate - this.compressRate);
  }

  /** Whether the next block, ending a part that holds `cost` bytes, should go raw; compressed until measured. */
  wantsRaw(cost: number): boolean {
    if (this.compressRate === undefined || this.storedBytes === 0 || this.busySeconds <= 0) return false;
    return this.storedBytes / this.busySeconds >= this.compressRate && this.sendsAtOnce(cost);
  }
}
