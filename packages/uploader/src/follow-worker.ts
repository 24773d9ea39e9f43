// The reading side of DumpFollower: reads the dump as the JVM writes it, with one reused buffer, and does
// all per-byte work (SHA-256, CRC32, HPROF walk and histogram), in a worker thread so the main thread only
// uploads, or in the main thread when that is cheaper (see FollowOptions.inThread).
// Posts progress (bytes read) and, once the writer is done, the result with the summary.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { crc32, createGunzip } from 'node:zlib';
import { HprofParser, type HprofSummary, summarize, type Verdict } from '@kube-heapdump/hprof';

export interface FollowWorkerData {
  path: string;
  /** The file is gzip (the JVM's -XX:HeapDumpGzipLevel dumps): parse what it decompresses to. */
  gzip: boolean;
  quietMs: number;
  pollMs: number;
}

/** Reads and analyses the dump; runs in a worker thread (below) or, for uncompressed uploads, in the main one. */

export interface FollowedDump {
  size: number;
  verdict: Verdict;
  reason?: string;
  firstByteAt: string;
  doneAt: string;
  sha256: string;
  crc32: number;
  summary: HprofSummary;
}

export type FromFollowWorker =
  | { type: 'progress'; position: number }
  | { type: 'followed'; result: FollowedDump }
  | { type: 'failed'; message: string };

const READ_SIZE = 1024 * 1024;
const PROGRESS_EVERY = 4 * 1024 * 1024;

export async function follow(
  d: FollowWorkerData,
  stopped: () => boolean,
  progress: (position: number) => void,
): Promise<FollowedDump> {
  const fh = await open(d.path, 'r');
  try {
    const parser = new HprofParser();
    const sha = createHash('sha256');
    let crc = 0;
    let gzipProblem: string | undefined;
    const gunzip = d.gzip ? createGunzip() : undefined;
    gunzip
      ?.on('data', (c: Buffer) => parser.push(c))
      .on('error', (err) => {
        gzipProblem = err.message;
      });
    const buf = Buffer.allocUnsafe(READ_SIZE);
    let position = 0;
    let posted = 0;
    let firstByteAt: Date | undefined;
    let lastGrowth = Date.now();
    for (;;) {
      if (stopped()) throw new Error('stopped following the dump');
      const { bytesRead } = await fh.read(buf, 0, READ_SIZE, position);
      if (bytesRead > 0) {
        firstByteAt ??= new Date();
        lastGrowth = Date.now();
        const chunk = buf.subarray(0, bytesRead);
        sha.update(chunk);
        crc = crc32(chunk, crc);
        if (gunzip) {
          // gunzip keeps what it is given; the read buffer is reused.
          if (!gunzip.write(Buffer.from(chunk))) await new Promise((r) => gunzip.once('drain', r));
        } else {
          parser.push(chunk);
        }
        position += bytesRead;
        if (position - posted >= PROGRESS_EVERY) {
          progress(position);
          posted = position;
        }
        continue;
      }
      progress(position);
      posted = position;
      const quiet = Date.now() - lastGrowth;
      const walkedToEnd = parser.verdict().verdict === 'complete';
      // A gzip file is only whole once its last member's trailer is in: give the writer one quiet poll.
      if ((walkedToEnd && (!gunzip || quiet >= d.pollMs)) || quiet >= d.quietMs) break;
      await new Promise((r) => setTimeout(r, d.pollMs));
    }
    if (gunzip) {
      await new Promise<void>((resolve) => {
        gunzip.once('end', resolve).once('error', () => resolve());
        gunzip.end();
      });
    }
    const v = parser.verdict();
    const gzipCut = gzipProblem !== undefined && v.verdict === 'complete';
    const summary = summarize(parser);
    return {
      size: position,
      verdict: gzipCut ? 'incomplete' : v.verdict,
      reason: gzipCut ? `the gzip stream is not whole: ${gzipProblem}` : v.reason,
      firstByteAt: (firstByteAt ?? new Date()).toISOString(),
      doneAt: new Date().toISOString(),
      sha256: sha.digest('hex'),
      crc32: crc,
      summary,
    };
  } finally {
    await fh.close();
  }
}

if (parentPort) {
  let stop = false;
  parentPort.on('message', (m: { type: 'stop' }) => {
    if (m.type === 'stop') stop = true;
  });
  const post = parentPort;
  follow(
    workerData as FollowWorkerData,
    () => stop,
    (position) => post.postMessage({ type: 'progress', position } satisfies FromFollowWorker),
  ).then(
    (result) => parentPort!.postMessage({ type: 'followed', result } satisfies FromFollowWorker),
    (err: Error) =>
      parentPort!.postMessage({ type: 'failed', message: err.message } satisfies FromFollowWorker),
  );
}
