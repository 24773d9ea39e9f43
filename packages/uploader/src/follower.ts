// Follows a dump file while the JVM writes it: reads appended bytes in order, and decides when the writer is
// done. The JVM writes sequentially, in place, never rewriting earlier bytes, so every byte read is final.
// "Done" is structural (the record walk ends on HEAP_DUMP_END at the end of the file), not close_write, which
// also fires when the JVM is killed mid-dump; a file that stops growing for the quiet period is done too.
import type { FileHandle } from 'node:fs/promises';
import { createGunzip, type Gunzip } from 'node:zlib';
import { HprofParser, type HprofSummary, HprofWorker, type Verdict } from '@kube-heapdump/hprof';

const READ_SIZE = 1024 * 1024;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export interface FollowResult {
  /** Bytes of the file. */
  size: number;
  verdict: Verdict;
  reason?: string;
  firstByteAt: Date;
  doneAt: Date;
}

export interface FollowOptions {
  /** The file is gzip (the JVM's -XX:HeapDumpGzipLevel dumps): parse what it decompresses to. */
  gzip: boolean;
  quietMs: number;
  pollMs: number;
}

export class DumpFollower {
  /** Bytes read and analysed so far. */
  position = 0;
  /** Bytes known to be in the file (fstat): final, uploadable before they are analysed. */
  private written = 0;
  private sizePoller: NodeJS.Timeout | undefined;
  private readonly fh: FileHandle;
  private readonly options: FollowOptions;
  private readonly parser = new HprofParser({ histogram: false });
  private readonly worker = new HprofWorker();
  private readonly gunzip: Gunzip | undefined;
  private gzipProblem: string | undefined;
  private finished = false;
  private stopped = false;
  private failure: Error | undefined;
  private waiters: { target: number; resolve: (available: number) => void; reject: (err: Error) => void }[] =
    [];

  constructor(fh: FileHandle, options: FollowOptions) {
    this.fh = fh;
    this.options = options;
    if (options.gzip) {
      const gunzip = createGunzip();
      gunzip.on('data', (chunk: Buffer) => {
        this.parser.push(chunk);
        gunzip.pause();
        this.worker.push(chunk).then(
          () => gunzip.resume(),
          () => gunzip.resume(),
        );
      });
      gunzip.on('error', (err) => {
        this.gzipProblem = err.message;
      });
      this.gunzip = gunzip;
    }
  }

  /**
   * Resolves once `target` bytes are readable or the writer is done, with how many are (up to target).
   * Rejects when following failed or was stopped: then nothing is known about the end of the file.
   */
  waitFor(target: number): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    const known = Math.max(this.position, this.written);
    if (known >= target || this.finished) return Promise.resolve(Math.min(known, target));
    this.sizePoller ??= setInterval(() => void this.pollSize(), this.options.pollMs);
    return new Promise((resolve, reject) => this.waiters.push({ target, resolve, reject }));
  }

  private async pollSize(): Promise<void> {
    try {
      this.written = Math.max(this.written, (await this.fh.stat()).size);
    } catch {
      return; // the read loop reports file errors
    }
    this.release();
  }

  /** Resolves the waiters whose bytes are there. */
  private release(): void {
    const known = Math.max(this.position, this.written);
    this.waiters = this.waiters.filter((w) => {
      if (known < w.target) return true;
      w.resolve(w.target);
      return false;
    });
  }

  /** Ends `follow` early (the upload is abandoned); it then rejects. */
  stop(): void {
    this.stopped = true;
  }

  /** Reads until the writer is done. */
  async follow(): Promise<FollowResult> {
    try {
      return await this.readUntilDone();
    } catch (err) {
      clearInterval(this.sizePoller);
      this.failure = err as Error;
      for (const w of this.waiters) w.reject(this.failure);
      this.waiters = [];
      throw err;
    }
  }

  private async readUntilDone(): Promise<FollowResult> {
    let buf = Buffer.allocUnsafeSlow(READ_SIZE);
    let firstByteAt: Date | undefined;
    let lastGrowth = Date.now();
    for (;;) {
      if (this.stopped) throw new Error('stopped following the dump');
      const { bytesRead } = await this.fh.read(buf, 0, READ_SIZE, this.position);
      if (bytesRead > 0) {
        firstByteAt ??= new Date();
        lastGrowth = Date.now();
        await this.consume(buf.subarray(0, bytesRead));
        buf = Buffer.allocUnsafeSlow(READ_SIZE); // the last one was handed to the worker
        continue;
      }
      const quiet = Date.now() - lastGrowth;
      const walkedToEnd = this.parser.verdict().verdict === 'complete';
      // A gzip file is only whole once its last member's trailer is in: give the writer one quiet poll.
      if ((walkedToEnd && (!this.gunzip || quiet >= this.options.pollMs)) || quiet >= this.options.quietMs)
        break;
      await new Promise((r) => setTimeout(r, this.options.pollMs));
    }
    if (this.gunzip) await this.endGunzip();
    clearInterval(this.sizePoller);
    this.finished = true;
    for (const w of this.waiters) w.resolve(Math.min(this.position, w.target));
    this.waiters = [];
    const v = this.parser.verdict();
    const gzipCut = this.gzipProblem !== undefined && v.verdict === 'complete';
    return {
      size: this.position,
      verdict: gzipCut ? 'incomplete' : v.verdict,
      reason: gzipCut ? `the gzip stream is not whole: ${this.gzipProblem}` : v.reason,
      firstByteAt: firstByteAt ?? new Date(),
      doneAt: new Date(),
    };
  }

  /**
   * Once `follow` has returned: the class histogram and totals, and the SHA-256 and CRC32 of the file's bytes
   * (computed on the worker thread, off the event loop that drives the uploads).
   */
  async analysis(top = 20): Promise<{ summary: HprofSummary; sha256: string; crc32: number }> {
    const { summary, digests } = await this.worker.finishWithDigests(top);
    return { summary, sha256: digests?.sha256 ?? EMPTY_SHA256, crc32: digests?.crc32 ?? 0 };
  }

  async close(): Promise<void> {
    await this.worker.close();
  }

  /** Takes ownership of `chunk` (its memory goes to the worker thread). */
  private async consume(chunk: Buffer): Promise<void> {
    this.position += chunk.length;
    this.release();
    if (this.gunzip) {
      // The gunzip stream holds on to what it is given; the original goes to the worker.
      if (!this.gunzip.write(Buffer.from(chunk))) await new Promise((r) => this.gunzip!.once('drain', r));
    } else {
      this.parser.push(chunk);
    }
    await this.worker.push(chunk, { parse: !this.gunzip, digest: true, transfer: true });
  }

  private endGunzip(): Promise<void> {
    const gunzip = this.gunzip!;
    return new Promise((resolve) => {
      gunzip.once('end', resolve);
      gunzip.once('error', () => resolve());
      gunzip.end();
      gunzip.resume();
    });
  }
}
