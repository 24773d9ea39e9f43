// A part's body read from the dump file at its offset as the connection takes it, through a few small
// buffers reused once the socket has taken them: memory per part in flight is those buffers, not the part,
// and no garbage accumulates for V8 to collect late (a fresh buffer per read left ~150 MiB of them at peak;
// fresh buffers per part made V8 run a full collection every few parts). The HTTP handler pipes the body
// into the request; `pipe` is where the reuse is safe, because a request's write callback fires only after
// the socket has taken the bytes (or, the request destroyed, will never send them). A compressed part may
// end in a raw zstd frame of a block (parts.ts): its body is then the part's compressed chunks, the frame's
// header, and the block read from the file a raw block at a time, each after its 3-byte header.
import type { FileHandle } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { compressRange } from './compressor.ts';
import { FileChanged, readFully } from './dump-file.ts';
import { RAW_BLOCK, RAW_BLOCK_HEADER, RAW_FRAME_HEADER, writeRawBlockHeader } from './zstd-raw.ts';

/** Bytes per read, and reads a part may have written but not yet flushed. */
const CHUNK = 256 * 1024;
const BUFFERS = 4;

/** File bytes per chunk when framed: the raw blocks that, with their headers, fill a chunk. */
const FRAMED_CHUNK = Math.floor(CHUNK / (RAW_BLOCK + RAW_BLOCK_HEADER)) * RAW_BLOCK;

/** Bytes a body holds while it is sent. */
export const RANGE_BODY_BYTES = CHUNK * BUFFERS;

/**
 * Buffers given back by bodies, for the next ones: the process-wide budget bounds how many bodies are sent
 * at once, so this holds at most as many as the busiest moment used (kept up to a bound).
 */
const spare: Buffer[] = [];
const MAX_SPARE = 64;
const takeBuffer = () => spare.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
const giveBuffer = (buf: Buffer) => {
  if (spare.length < MAX_SPARE) spare.push(buf);
};

export interface RangeFraming {
  /** Sent before the range (held by the part until it is released). */
  lead?: readonly Buffer[];
  /** The range as one raw zstd frame (zstd-raw.ts) rather than as it is in the file. */
  zstdRaw?: boolean;
  /**
   * CRC32 of the range's file bytes when they were digested: bytes read now that differ (the file was
   * rewritten since) fail the body with FileChanged before its end is sent, so the store never takes them.
   */
  crc32?: number;
}

export class FileRangeBody extends Readable {
  private readonly fh: FileHandle;
  private readonly start: number;
  private readonly size: number;
  private readonly lead: readonly Buffer[];
  private readonly framed: boolean;
  /** File bytes per chunk. */
  private readonly chunk: number;
  private readonly expectedCrc: number | undefined;
  private crc = 0;
  private position = 0;
  private piped = false;
  private leadSent = false;

  constructor(fh: FileHandle, start: number, size: number, framing: RangeFraming = {}) {
    super({ highWaterMark: CHUNK });
    this.fh = fh;
    this.start = start;
    this.size = size;
    this.expectedCrc = framing.crc32;
    this.framed = framing.zstdRaw === true;
    this.chunk = this.framed ? FRAMED_CHUNK : CHUNK;
    this.lead = this.framed ? [...(framing.lead ?? []), RAW_FRAME_HEADER] : (framing.lead ?? []);
  }

  override pipe<T extends NodeJS.WritableStream>(destination: T): T {
    this.piped = true;
    this.pump(destination as unknown as Writable).catch((err: Error) => {
      // The request fails with it (the caller sees why); the body itself has no reader to tell: an 'error'
      // event nobody listens to would end the process.
      (destination as unknown as Writable).destroy(err);
      this.destroy(this.listenerCount('error') > 0 ? err : undefined);
    });
    return destination;
  }

  /** For readers that pull instead of piping: a fresh buffer per read (nothing to reuse safely then). */
  override _read(): void {
    if (this.piped) return;
    if (!this.leadSent) {
      this.leadSent = true;
      for (const b of this.lead) this.push(b);
      if (this.lead.length > 0) return; // asked again for more: one read of the file at a time
    }
    const n = Math.min(this.chunk, this.size - this.position);
    if (n === 0) {
      try {
        this.checkUnchanged();
      } catch (err) {
        this.destroy(err as Error);
        return;
      }
      this.push(null);
      return;
    }
    const buf = Buffer.allocUnsafe(CHUNK);
    this.readAt(buf, n).then(
      (bytes) => this.push(buf.subarray(0, bytes)),
      (err: Error) => this.destroy(err),
    );
  }

  /**
   * Reads the next `n` file bytes into `buf`, framed: each raw block after its header, from one read.
   * Resolves to the bytes of `buf` to send.
   */
  private async readAt(buf: Buffer, n: number): Promise<number> {
    const blocks = this.framed ? Math.ceil(n / RAW_BLOCK) : 0;
    const at = blocks * RAW_BLOCK_HEADER;
    const bytes = buf.subarray(at, at + n);
    await readFully(this.fh, bytes, this.start + this.position);
    if (this.expectedCrc !== undefined) this.crc = crc32(bytes, this.crc);
    this.position += n;
    // Block j moves left by the headers after its own, to follow its header.
    for (let j = 0; j < blocks; j++) {
      const from = at + j * RAW_BLOCK;
      const len = Math.min(RAW_BLOCK, n - j * RAW_BLOCK);
      const to = j * (RAW_BLOCK + RAW_BLOCK_HEADER) + RAW_BLOCK_HEADER;
      if (to !== from) buf.copyWithin(to, from, from + len);
      writeRawBlockHeader(buf, to - RAW_BLOCK_HEADER, len, this.position === this.size && j === blocks - 1);
    }
    return n + at;
  }

  /** Throws FileChanged when the bytes read are not those digested. */
  private checkUnchanged(): void {
    if (this.expectedCrc !== undefined && this.crc !== this.expectedCrc) {
      throw new FileChanged(
        `the dump file's bytes at ${this.start}..${this.start + this.size} changed after they were digested`,
      );
    }
  }

  private async pump(dest: Writable): Promise<void> {
    const free: Buffer[] = [];
    let taken = 0;
    const next = (): Buffer | undefined => {
      const buf = free.pop();
      if (buf || taken === BUFFERS) return buf;
      taken++;
      return takeBuffer();
    };
    let pumping = true;
    let wake: (() => void) | undefined;
    let gone = false;
    const onGone = () => {
      gone = true;
      wake?.();
    };
    dest.once('close', onGone).once('error', onGone);
    try {
      for (const b of this.lead) dest.write(b);
      while (this.position < this.size && !gone) {
        let buf = next();
        while (!buf && !gone) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          buf = free.pop();
        }
        if (!buf) break;
        const bytes = await this.readAt(buf, Math.min(this.chunk, this.size - this.position));
        const chunk = buf;
        dest.write(chunk.subarray(0, bytes), () => {
          if (pumping) free.push(chunk);
          else giveBuffer(chunk);
          wake?.();
        });
      }
      if (!gone) {
        this.checkUnchanged();
        dest.end();
      }
    } finally {
      pumping = false;
      for (const buf of free.splice(0)) giveBuffer(buf);
      dest.off('close', onGone).off('error', onGone);
    }
  }
}

/**
 * A part ending in a block compressed while it is sent: blocks past 62.5 GiB grow up to 2 GiB, and their frame
 * is never held whole. The part's digests came from compressing the block once before, keeping only them;
 * zstd and gzip at a fixed level make the same bytes of the same input again, and the CRC32 of what is sent
 * is checked against that first pass before the body ends (a file changed since fails it with FileChanged).
 */
export class CompressedRangeBody extends Readable {
  private readonly fh: FileHandle;
  private readonly start: number;
  private readonly size: number;
  private readonly compression: 'gzip' | 'zstd';
  private readonly lead: readonly Buffer[];
  private readonly expectedCrc: number;
  private started = false;
  private wake: (() => void) | undefined;
  private gone: (() => void) | undefined;
  private destination: Writable | undefined;

  constructor(
    fh: FileHandle,
    range: { start: number; size: number; compression: 'gzip' | 'zstd'; crc32: number },
    lead: readonly Buffer[],
  ) {
    super({ highWaterMark: CHUNK });
    this.fh = fh;
    this.start = range.start;
    this.size = range.size;
    this.compression = range.compression;
    this.expectedCrc = range.crc32;
    this.lead = lead;
  }

  override pipe<T extends NodeJS.WritableStream>(destination: T): T {
    this.destination = destination as unknown as Writable;
    return super.pipe(destination);
  }

  override _read(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
    if (this.started) return;
    this.started = true;
    for (const b of this.lead) this.push(b);
    void this.run();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.gone?.(); // compression waiting for room stops, and frees the process's compressor
    callback(err);
  }

  private async run(): Promise<void> {
    let crc = 0;
    const ended = new Promise<never>((_, reject) => {
      this.gone = () => reject(new Error('the part was not sent to its end'));
    });
    ended.catch(() => {});
    try {
      await compressRange(
        {
          fh: this.fh,
          start: this.start,
          size: this.size,
          sink: (chunk) => {
            crc = crc32(chunk, crc);
            if (this.destroyed) return ended;
            if (this.push(chunk)) return undefined;
            return Promise.race([new Promise<void>((resolve) => (this.wake = resolve)), ended]);
          },
        },
        this.compression,
      );
      if (crc !== this.expectedCrc) {
        throw new FileChanged(
          `the dump file's bytes at ${this.start}..${this.start + this.size} changed after they were digested`,
        );
      }
      this.push(null);
    } catch (err) {
      if (this.destroyed) return;
      // The request fails with it; an 'error' event nobody listens to would end the process.
      this.destination?.destroy(err as Error);
      this.destroy(this.listenerCount('error') > 0 ? (err as Error) : undefined);
    }
  }
}
