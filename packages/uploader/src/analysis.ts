// The per-byte work that only the summary needs: SHA-256 of the file and the HPROF class histogram. It runs
// once the object is complete, so that while the JVM writes, the CPU goes to getting the bytes stored
// (measured on a 2.2 GB dump: hashing and the histogram took ~5 of the uploader's 7.7 CPU-seconds, and on
// 2 cores they slowed the JVM's own dump writing). It runs on the main thread: each 1 MiB step is a few
// milliseconds of work between reads, and a worker thread cost ~20 MiB more peak RSS.
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { STORED_SUMMARY_CLASSES } from '@kube-heapdump/contract';
import { type ActiveRedactMode, type HprofSummary, SymbolUses, summarize } from '@kube-heapdump/hprof';
import { ParserFeed } from './feed.ts';
import { dumpRedactor } from './symbol-scan.ts';

export interface AnalysisRequest {
  /** The dump, as opened (and checked) for shipping: never opened again by name. */
  fh: FileHandle;
  /** Bytes to read: the file as followed (a truncated file may still be growing). */
  size: number;
  /** The file is gzip (the JVM's -XX:HeapDumpGzipLevel dumps): parse what it decompresses to. */
  gzip: boolean;
  /** The bytes were stored redacted: hash what was stored (the same redaction, from the start). */
  redact?: ActiveRedactMode;
}

export interface Analysis {
  /** Of the bytes read (redacted as stored). */
  sha256: string;
  /** A gzip file: SHA-256 and size of what it decompresses to (what a reader of the object gets). */
  inflated?: { sha256: string; bytes: number };
  summary: HprofSummary;
  /** Redacted: symbols used as names only after the first heap sub-record (not HotSpot's order), so blanked. */
  lateNames?: number;
}

const READ_SIZE = 1024 * 1024;

/** Reads the first `size` bytes once, into one reused buffer: hashes them as stored and parses them. */
export async function analyse(req: AnalysisRequest): Promise<Analysis> {
  const { fh } = req;
  const redactor = req.redact
    ? await dumpRedactor(req.redact, fh, (end) => Math.min(end, req.size))
    : undefined;
  // A writer other than HotSpot may use names after the heap dump began: they were blanked, and are counted.
  const late = req.redact ? new SymbolUses({ whole: true }) : undefined;
  const sha = createHash('sha256');
  const inflatedSha = req.gzip ? createHash('sha256') : undefined;
  let inflatedBytes = 0;
  const feed = new ParserFeed({
    histogram: true,
    gzip: req.gzip,
    inflated: (chunk) => {
      inflatedSha?.update(chunk);
      inflatedBytes += chunk.length;
    },
  });
  const buf = Buffer.allocUnsafe(READ_SIZE);
  for (let position = 0; position < req.size; ) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(READ_SIZE, req.size - position), position);
    if (bytesRead === 0) throw new Error(`the dump file is shorter than the ${req.size} bytes followed`);
    const chunk = buf.subarray(0, bytesRead);
    late?.push(chunk);
    redactor?.push(chunk);
    sha.update(chunk);
    await feed.push(chunk);
    position += bytesRead;
  }
  // The verdict of the full walk (sub-records too, and a gzip stream cut short), the one `inspect` gives.
  const { verdict, reason } = await feed.end();
  const { reason: _, ...summary } = summarize(feed.parser, STORED_SUMMARY_CLASSES);
  return {
    sha256: sha.digest('hex'),
    ...(inflatedSha ? { inflated: { sha256: inflatedSha.digest('hex'), bytes: inflatedBytes } } : {}),
    summary: { ...summary, verdict, ...(reason ? { reason } : {}) },
    ...(late?.lateUses ? { lateNames: late.lateUses } : {}),
  };
}

/** SHA-256 of the first `size` bytes: all a file that is not a heap dump gets (it is stored as it is). */
export async function hashFile(fh: FileHandle, size: number): Promise<{ sha256: string }> {
  const sha = createHash('sha256');
  const buf = Buffer.allocUnsafe(READ_SIZE);
  for (let position = 0; position < size; ) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(READ_SIZE, size - position), position);
    if (bytesRead === 0) throw new Error(`the file is shorter than the ${size} bytes followed`);
    sha.update(buf.subarray(0, bytesRead));
    position += bytesRead;
  }
  return { sha256: sha.digest('hex') };
}
