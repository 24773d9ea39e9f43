// `heapdump get`: download a dump, decompress it on the fly to .hprof, verify its SHA-256, resume after an
// interruption. The stored (compressed) bytes go to `<out>.download` as they arrive; a rerun replays them
// through the decompressor and asks the store only for the rest (Range), so memory never grows with the dump.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { chmod, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { keyTimestamp, parseDumpKey, summaryKey } from '@kube-heapdump/contract';
import { createDecompressor } from '@kube-heapdump/hprof';
import { headDump, type SummaryFacts, storedCompression, summaryFacts } from './catalog.ts';
import { describeStoreError, StoreError, UsageError } from './errors.ts';
import { humanBytes, printable } from './format.ts';
import type { Store } from './store.ts';

export interface GetOptions {
  output?: string;
  force: boolean;
  /** Draw a progress line on stderr (when it is a terminal). */
  progress: boolean;
}

export interface GetResult {
  path: string;
  bytes: number;
  sha256: string;
  /** False when the dump has no summary to check against. */
  verified: boolean;
  resumedFrom: number;
  /** What the summary says of the dump. */
  facts: SummaryFacts;
}

/** Heap dumps hold secrets: the dump and its partial files are for the user who downloads them only. */
const PRIVATE = 0o600;

function defaultName(store: Store, key: string): string {
  const parsed = parseDumpKey(store.prefix, key);
  const name = parsed
    ? `${parsed.pod}-${keyTimestamp(parsed.startedAt)}-${parsed.file}`
    : basename(key).replace(/\.(gz|zst)$/, '');
  // A key's last segment can hold anything a name can; the file name must not move the user elsewhere.
  return name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
}

/** The download stopped (network, store): what was stored so far is kept for a rerun to resume from. */
class Interrupted extends Error {}

/** Bad `-o` (an existing file without --force, a directory, a missing directory) is a usage error, exit 2. */
async function checkOutput(out: string, force: boolean): Promise<void> {
  const dir = dirname(out);
  const where = await stat(dir).catch(() => undefined);
  if (!where) throw new UsageError(`${out}: the directory ${dir} does not exist`);
  if (!where.isDirectory()) throw new UsageError(`${out}: ${dir} is not a directory`);
  const existing = await stat(out).catch(() => undefined);
  if (existing?.isDirectory()) throw new UsageError(`${out} is a directory; pass a file name with -o`);
  if (existing && !force) throw new UsageError(`${out} exists; pass --force to overwrite it`);
}

class Progress {
  private last = 0;
  private done = 0;
  private readonly started = Date.now();
  private readonly total: number;
  private readonly enabled: boolean;
  constructor(total: number, enabled: boolean) {
    this.total = total;
    this.enabled = enabled;
  }
  add(n: number): void {
    this.done += n;
    if (this.enabled && Date.now() - this.last > 200) this.draw();
  }
  draw(final = false): void {
    if (!this.enabled) return;
    this.last = Date.now();
    const seconds = Math.max((Date.now() - this.started) / 1000, 0.001);
    const rate = this.done / seconds;
    const eta = rate > 0 ? Math.ceil((this.total - this.done) / rate) : 0;
    const pct = this.total > 0 ? Math.floor((this.done / this.total) * 100) : 100;
    process.stderr.write(
      `\r${humanBytes(this.done)} / ${humanBytes(this.total)}  ${pct}%  ${humanBytes(rate)}/s  ETA ${eta}s\u001b[K${final ? '\n' : ''}`,
    );
  }
}

export async function get(store: Store, key: string, options: GetOptions): Promise<GetResult> {
  const what = `s3://${store.bucket}/${printable(key)}`;
  const out = options.output ?? defaultName(store, key);
  await checkOutput(out, options.force);

  const head = await headDump(store, key);
  let expected: SummaryFacts;
  try {
    expected = await summaryFacts(store, key);
  } catch (err) {
    throw describeStoreError(err, `s3://${store.bucket}/${summaryKey(key)}`, store.endpoint);
  }
  const total = head.ContentLength ?? 0;
  const compression = storedCompression(store, key, head.Metadata);

  const partial = `${out}.download`;
  let have = existsSync(partial) ? (await stat(partial)).size : 0;
  if (have > total) {
    await rm(partial);
    have = 0;
  }
  if (have > 0) await chmod(partial, PRIVATE); // left by a version that wrote it readable by all
  const progress = new Progress(total, options.progress);

  async function* storedBytes(): AsyncGenerator<Uint8Array> {
    if (have > 0) {
      for await (const chunk of createReadStream(partial, { end: have - 1, highWaterMark: 1 << 20 })) {
        progress.add((chunk as Buffer).length);
        yield chunk as Buffer;
      }
    }
    if (have >= total) return;
    let body: AsyncIterator<Uint8Array>;
    try {
      const res = await store.client.send(
        new GetObjectCommand({ Bucket: store.bucket, Key: key, Range: `bytes=${have}-`, IfMatch: head.ETag }),
      );
      body = (res.Body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    } catch (err) {
      throw describeStoreError(err, what, store.endpoint);
    }
    const file = await open(partial, 'a', PRIVATE);
    try {
      for (;;) {
        let next: IteratorResult<Uint8Array>;
        try {
          next = await body.next();
        } catch (err) {
          throw new Interrupted((err as Error).message);
        }
        if (next.done) break;
        await file.write(next.value);
        progress.add(next.value.length);
        yield next.value;
      }
    } finally {
      await file.close();
    }
  }

  const hash = createHash('sha256');
  let bytes = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  const decompress = createDecompressor(compression);
  const temp = `${out}.part`;
  try {
    await rm(temp, { force: true }); // a mode is only given to a file being created
    await pipeline(
      Readable.from(storedBytes()),
      decompress,
      measure,
      createWriteStream(temp, { mode: PRIVATE }),
    );
  } catch (err) {
    await rm(temp, { force: true });
    if (err instanceof StoreError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e instanceof Interrupted)
      throw new StoreError(`${what}: the download stopped (${e.message}); run again to resume`);
    if (e.syscall !== undefined) throw new StoreError(`${printable(temp)}: ${e.message}`); // our disk, not the data
    // What is left is the decompressor's complaint: the stored bytes are bad, keeping them cannot help a rerun.
    await rm(partial, { force: true });
    throw new StoreError(
      `${what}: the stored ${compression} data is corrupt (${e.message}); nothing kept. ` +
        `\`heapdump inspect ${printable(key)}\` says how much of it reads`,
    );
  } finally {
    progress.draw(true);
  }
  const sha256 = hash.digest('hex');
  if (expected.sha256 !== undefined && (sha256 !== expected.sha256 || bytes !== expected.originalBytes)) {
    await rm(temp, { force: true });
    await rm(partial, { force: true });
    throw new StoreError(
      `${what}: the downloaded dump does not match its summary (sha256 ${sha256}, ${bytes} bytes; expected ` +
        `${expected.sha256}, ${expected.originalBytes} bytes); removed it, run again to download it afresh`,
    );
  }
  await rename(temp, out);
  await rm(partial, { force: true });
  return {
    path: out,
    bytes,
    sha256,
    verified: expected.sha256 !== undefined,
    resumedFrom: have,
    facts: expected,
  };
}
