// Follows a dump file while the JVM writes it: reads appended bytes in order, and decides when the writer is
// done. The JVM writes sequentially, in place, never rewriting earlier bytes, so every byte read is final.
// "Done" is structural (the record walk ends on HEAP_DUMP_END at the end of the file), not close_write, which
// also fires when the JVM is killed mid-dump; a file that stops growing for the quiet period is done too.
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { crc32, createGunzip, type Gunzip } from 'node:zlib';
import { HprofParser, type HprofSummary, HprofWorker, type Verdict } from '@kube-heapdump/hprof';

const READ_SIZE = 1024 * 1024;

export interface FollowResult {
  /** Bytes of the file. */
  size: number;
  verdict: Verdict;
  reason?: string;
  sha256: string;
  /** CRC32 of the file's bytes. */
  crc32: number;
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
  /** Bytes read so far; they are final. */
  position = 0;
  private readonly fh: FileHandle;
  private readonly options: FollowOptions;
  private readonly sha = createHash('sha256');
  private crc = 0;
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
    if (this.position >= target || this.finished) return Promise.resolve(Math.min(this.position, target));
    return new Promise((resolve, reject) => this.waiters.push({ target, resolve, reject }));
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
      this.failure = err as Error;
      for (const w of this.waiters) w.reject(this.failure);
      this.waiters = [];
      throw err;
    }
  }

  private async readUntilDone(): Promise<FollowResult> {
    const buf = Buffer.allocUnsafe(READ_SIZE);
    let firstByteAt: Date | undefined;
    let lastGrowth = Date.now();
    for (;;) {
      if (this.stopped) throw new Error('stopped following the dump');
      const { bytesRead } = await this.fh.read(buf, 0, READ_SIZE, this.position);
      if (bytesRead > 0) {
        firstByteAt ??= new Date();
        lastGrowth = Date.now();
        await this.consume(buf.subarray(0, bytesRead));
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
    this.finished = true;
    for (const w of this.waiters) w.resolve(Math.min(this.position, w.target));
    this.waiters = [];
    const v = this.parser.verdict();
    const gzipCut = this.gzipProblem !== undefined && v.verdict === 'complete';
    return {
      size: this.position,
      verdict: gzipCut ? 'incomplete' : v.verdict,
      reason: gzipCut ? `the gzip stream is not whole: ${this.gzipProblem}` : v.reason,
      sha256: this.sha.digest('hex'),
      crc32: this.crc,
      firstByteAt: firstByteAt ?? new Date(),
      doneAt: new Date(),
    };
  }

  /** The class histogram and totals, once `follow` has returned. */
  summary(top = 20): Promise<HprofSummary> {
    return this.worker.finish(top);
  }

  async close(): Promise<void> {
    await this.worker.close();
  }

  private async consume(chunk: Buffer): Promise<void> {
    this.sha.update(chunk);
    this.crc = crc32(chunk, this.crc);
    if (this.gunzip) {
      // The gunzip stream holds on to what it is given: pass a copy of the reused read buffer.
      const copy = Buffer.from(chunk);
      if (!this.gunzip.write(copy)) await new Promise((r) => this.gunzip!.once('drain', r));
    } else {
      this.parser.push(chunk);
      await this.worker.push(chunk);
    }
    this.position += chunk.length;
    this.waiters = this.waiters.filter((w) => {
      if (this.position < w.target) return true;
      w.resolve(w.target);
      return false;
    });
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
