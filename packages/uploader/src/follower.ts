// Follows a dump file while the JVM writes it, and decides when the writer is done. The JVM writes
// sequentially, in place, never rewriting earlier bytes, so every byte in the file is final and can be
// uploaded at once. "Done" is structural (the record walk ends on HEAP_DUMP_END at the end of the file),
// not close_write, which also fires when the JVM is killed mid-dump; a file that stops growing for the quiet
// period is done too. Only the record walk runs here, on the main thread: it reads record headers and passes
// over heap dump segment bodies without reading them; hashing and the class histogram wait for the object to
// be stored (analysis.ts). A file that is not a heap dump (a crash log, a Flight Recorder file) is not walked:
// it is done once quiet.
import type { FileHandle } from 'node:fs/promises';
import type { Verdict } from '@kube-heapdump/hprof';
import { FileChanged, type FileMark, fileMark } from './dump-file.ts';
import { ParserFeed } from './feed.ts';

export interface FollowResult {
  /** Bytes of the file. */
  size: number;
  /** The record walk's; undefined for a file not walked (not a heap dump). */
  verdict?: Verdict;
  reason?: string;
  firstByteAt: Date;
  doneAt: Date;
  /** The file when the writer was done: a file written to after that changed under the upload. */
  mark: FileMark;
}

export interface FollowOptions {
  /** Walk the HPROF records (done at HEAP_DUMP_END); false: done only when quiet. */
  hprof: boolean;
  /** The file is gzip (the JVM's -XX:HeapDumpGzipLevel dumps): walk what it decompresses to. */
  gzip: boolean;
  quietMs: number;
  pollMs: number;
  /** Bytes never read past (the volume's size limit): a file growing beyond is cut there, incomplete. */
  maxBytes: number;
}

// Record headers are small and heap dump segment bodies are passed over unread: a small buffer per dump.
const READ_SIZE = 256 * 1024;

export class DumpFollower {
  /** Bytes read and walked so far. */
  private position = 0;
  /** Bytes known to be in the file (fstat): final, uploadable before they are walked. */
  private written = 0;
  private sizePoller: NodeJS.Timeout | undefined;
  private finished = false;
  private stopped = false;
  private failure: Error | undefined;
  private waiters: { target: number; resolve: (available: number) => void; reject: (err: Error) => void }[] =
    [];
  private readonly fh: FileHandle;
  private readonly options: FollowOptions;

  constructor(fh: FileHandle, options: FollowOptions) {
    this.fh = fh;
    this.options = options;
  }

  /**
   * Resolves once `target` bytes are in the file or the writer is done, with how many are (up to target).
   * Rejects when following failed or was stopped: then nothing is known about the end of the file.
   */
  waitFor(target: number): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    const known = Math.max(this.position, this.written);
    if (known >= target || this.finished) return Promise.resolve(Math.min(known, target));
    this.sizePoller ??= setInterval(() => void this.pollSize(), this.options.pollMs);
    return new Promise((resolve, reject) => this.waiters.push({ target, resolve, reject }));
  }

  /** True once `target` bytes are known to be in the file, or the writer is done: nothing to wait for. */
  hasOrDone(target: number): boolean {
    return this.finished || Math.max(this.position, this.written) >= target;
  }

  /** Ends `follow` early (the upload is abandoned); it then rejects. */
  stop(): void {
    this.stopped = true;
  }

  /** Follows until the writer is done. */
  async follow(): Promise<FollowResult> {
    try {
      const r = await this.walk();
      this.finished = true;
      this.release();
      for (const w of this.waiters) w.resolve(Math.min(r.size, w.target));
      this.waiters = [];
      return r;
    } catch (err) {
      this.fail(err as Error);
      throw this.failure;
    } finally {
      clearInterval(this.sizePoller);
    }
  }

  private async walk(): Promise<FollowResult> {
    const { gzip, pollMs, quietMs } = this.options;
    const feed = this.options.hprof ? new ParserFeed({ histogram: false, gzip }) : undefined;
    const buf = Buffer.allocUnsafe(READ_SIZE);
    const max = this.options.maxBytes;
    let firstByteAt: Date | undefined;
    let lastGrowth = Date.now();
    let cut = false;
    for (;;) {
      if (this.stopped) throw new Error('stopped following the dump');
      if (this.failure) throw this.failure;
      if (this.position >= max) {
        cut = (await this.fh.stat()).size > max;
        if (cut) break;
      }
      if (feed && feed.skippable > 0) {
        const inFile = Math.min(await this.fileSize(), max) - this.position;
        const n = Math.min(feed.skippable, inFile);
        if (n > 0) {
          feed.skipUnread(n);
          this.position += n;
          lastGrowth = Date.now();
          this.release();
          continue;
        }
      }
      const want = Math.min(READ_SIZE, max - this.position);
      const { bytesRead } = want > 0 ? await this.fh.read(buf, 0, want, this.position) : { bytesRead: 0 };
      if (bytesRead > 0) {
        firstByteAt ??= new Date();
        lastGrowth = Date.now();
        await feed?.push(buf.subarray(0, bytesRead));
        this.position += bytesRead;
        this.release();
        continue;
      }
      const quiet = Date.now() - lastGrowth;
      const walkedToEnd = feed?.parser.verdict().verdict === 'complete';
      // A gzip file is only whole once its last member's trailer is in: give the writer one quiet poll.
      if ((walkedToEnd && (!gzip || quiet >= pollMs)) || quiet >= quietMs) break;
      await new Promise((r) => setTimeout(r, pollMs));
    }
    const over = `the file grew past the ${max} bytes allowed (HEAPDUMP_MAX_DUMP_BYTES): shipped up to there`;
    const v = feed ? await feed.end() : undefined;
    // Cut short, a walk that reached its end is not complete; a file not walked only says why.
    const { verdict, reason } = !cut
      ? (v ?? {})
      : { verdict: v && (v.verdict === 'complete' ? 'incomplete' : v.verdict), reason: over };
    const mark = await fileMark(this.fh);
    if (mark.size < Math.min(this.position, max)) throw this.shrank(mark.size);
    return {
      size: this.position,
      ...(verdict ? { verdict } : {}),
      ...(reason ? { reason } : {}),
      firstByteAt: firstByteAt ?? new Date(),
      doneAt: new Date(),
      mark,
    };
  }

  /** The file's size now; FileChanged when it is below what was already known to be there. */
  private async fileSize(): Promise<number> {
    const size = (await this.fh.stat()).size;
    if (size < Math.min(Math.max(this.position, this.written), this.options.maxBytes))
      throw this.shrank(size);
    return size;
  }

  private shrank(size: number): FileChanged {
    const known = Math.max(this.position, this.written);
    return new FileChanged(
      `the dump file shrank from ${known} to ${size} bytes: it was truncated or rewritten`,
    );
  }

  private async pollSize(): Promise<void> {
    let size: number;
    try {
      size = await this.fileSize();
    } catch (err) {
      if (err instanceof FileChanged) this.fail(err);
      return; // other file errors: the walk reports them
    }
    this.written = Math.max(this.written, Math.min(size, this.options.maxBytes));
    this.release();
  }

  /** Following failed: waiters are told now, the walk at its next step. */
  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiters) w.reject(err);
    this.waiters = [];
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
}
