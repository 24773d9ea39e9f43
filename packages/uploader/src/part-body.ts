// A part's body read from the dump file at its offset as the connection takes it, through a few small
// buffers reused once the socket has taken them: memory per part in flight is those buffers, not the part,
// and no garbage accumulates for V8 to collect late (a fresh buffer per read left ~150 MiB of them at peak;
// fresh buffers per part made V8 run a full collection every few parts). The HTTP handler pipes the body
// into the request; `pipe` is where the reuse is safe, because a request's write callback fires only after
// the socket has taken the bytes (or, the request destroyed, will never send them).
import type { FileHandle } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';

/** Bytes per read, and reads a part may have written but not yet flushed. */
const CHUNK = 256 * 1024;
const BUFFERS = 4;

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

export class FileRangeBody extends Readable {
  private readonly fh: FileHandle;
  private readonly start: number;
  private readonly size: number;
  private position = 0;
  private piped = false;

  constructor(fh: FileHandle, start: number, size: number) {
    super({ highWaterMark: CHUNK });
    this.fh = fh;
    this.start = start;
    this.size = size;
  }

  override pipe<T extends NodeJS.WritableStream>(destination: T): T {
    this.piped = true;
    this.pump(destination as unknown as Writable).catch((err: Error) => {
      (destination as unknown as Writable).destroy(err);
      this.destroy(err);
    });
    return destination;
  }

  /** For readers that pull instead of piping: a fresh buffer per read (nothing to reuse safely then). */
  override _read(): void {
    if (this.piped) return;
    const n = Math.min(CHUNK, this.size - this.position);
    if (n === 0) {
      this.push(null);
      return;
    }
    const buf = Buffer.allocUnsafe(n);
    this.readAt(buf, n).then(
      () => this.push(buf),
      (err: Error) => this.destroy(err),
    );
  }

  private async readAt(buf: Buffer, n: number): Promise<void> {
    for (let got = 0; got < n; ) {
      const { bytesRead } = await this.fh.read(buf, got, n - got, this.start + this.position + got);
      if (bytesRead === 0) throw new Error(`the dump file is shorter than ${this.start + this.size} bytes`);
      got += bytesRead;
    }
    this.position += n;
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
      while (this.position < this.size && !gone) {
        let buf = next();
        while (!buf && !gone) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          buf = free.pop();
        }
        if (!buf) break;
        const n = Math.min(CHUNK, this.size - this.position);
        await this.readAt(buf, n);
        const chunk = buf;
        dest.write(chunk.subarray(0, n), () => {
          if (pumping) free.push(chunk);
          else giveBuffer(chunk);
          wake?.();
        });
      }
      if (!gone) dest.end();
    } finally {
      pumping = false;
      for (const buf of free.splice(0)) giveBuffer(buf);
      dest.off('close', onGone).off('error', onGone);
    }
  }
}
