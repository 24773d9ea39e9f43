// Ships one dump file: a multipart upload that starts with the first bytes and follows the writer, parts cut
// by the block schedule, each part's state saved so a restart resumes; then the object is completed with a
// whole-object CRC32 the store checks (combined from the part CRC32s), verified, summarized, and the local file
// removed.
import { type FileHandle, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { constants, gzip, zstdCompress } from 'node:zlib';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import {
  alreadyCompressed,
  CONTENT_TYPES,
  type Compression,
  DUMP_METADATA,
  dumpKey,
  type HprofSummary,
  newDumpId,
  STORED_SUMMARY_SCHEMA,
  type StoredDumpSummary,
  SUMMARY_METADATA,
  s3ErrorCode,
  summaryKey,
  type UploaderConfig,
} from '@kube-heapdump/contract';
import { analyse } from './analysis.ts';
import { blockSize, blockStart, MAX_PARTS, MIN_PART, TooLarge } from './blocks.ts';
import { combinedCrc32, crc32Base64 } from './crc32.ts';
import { DumpFollower, type FollowResult } from './follower.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import { TaskPool } from './pool.ts';
import { isCredentialError, type RetryPolicy, withRetry } from './s3.ts';
import type { PartRecord, StateStore, UploadState } from './state.ts';

const gzipAsync = promisify(gzip);
const zstdAsync = promisify(zstdCompress);

export interface ShipperDeps {
  cfg: UploaderConfig;
  s3: S3Client;
  log: Logger;
  metrics: Metrics;
  state: StateStore;
  retry: RetryPolicy;
  version: string;
  pollMs: number;
  /** Parts uploading at once. */
  concurrency: number;
  /** Aborted at shutdown: retries stop. */
  stopping?: AbortSignal;
}

/** The upload must start over, under a new key: the key is taken (If-None-Match refused it) or the store lost the upload. */
class Restart extends Error {}

/**
 * zstd level 1 with a 128 KiB window (windowLog 17) and a checksum per frame. Measured on a 2.2 GB dump, one
 * core, 8 MiB blocks: 735 MB/s at 18.5x, vs 591 MB/s at 19.7x with level 1's own 512 KiB window; gzip level 1
 * ran 464 MB/s at 7.2x.
 */
const ZSTD_PARAMS = {
  [constants.ZSTD_c_compressionLevel]: 1,
  [constants.ZSTD_c_windowLog]: 17,
  [constants.ZSTD_c_checksumFlag]: 1,
};

/**
 * Blocks compressed at once (zlib runs them on libuv's thread pool). One: while a JVM dumps on 2 cores it
 * already uses ~1.35 of them (measured 8.3-10.3 CPU-seconds in a 6.3-7.5 s dump of 2.55 GB); a second
 * compressing thread finished no sooner there (11.3-11.5 s vs 11.6-11.9 s from the file's creation to the
 * object) and cost ~10 MiB more peak RSS (138 vs 128 MiB).
 */
const COMPRESS_PARALLEL = 1;

export class Shipper {
  private readonly d: ShipperDeps;
  private readonly buffers = new BufferPool();
  constructor(deps: ShipperDeps) {
    this.d = deps;
  }

  async ship(file: string): Promise<void> {
    const fh = await open(join(this.d.cfg.dir, file), 'r');
    try {
      const ino = (await fh.stat()).ino;
      let state = await this.d.state.load(file);
      if (state?.doneAt && state.ino === ino) return; // shipped before, file kept
      if (state && state.ino !== ino) {
        await this.abandon(state, 'a new file replaced the one being uploaded');
        state = undefined;
      }
      for (;;) {
        try {
          await this.shipOnce(fh, file, ino, state);
          return;
        } catch (err) {
          if (!(err instanceof Restart)) throw err;
          const current = await this.d.state.load(file);
          if (current) await this.abandon(current, err.message);
          state = undefined;
        }
      }
    } finally {
      await fh.close();
    }
  }

  /** Aborts an upload we will not finish (best effort: lifecycle rules abort leftovers after a day too). */
  async abandon(state: UploadState, why: string): Promise<void> {
    const { cfg, s3, log } = this.d;
    if (state.doneAt) {
      await this.d.state.remove(state.file); // shipped, and the kept file was removed since: nothing to abandon
      return;
    }
    if (!state.completedAt) {
      try {
        await s3.send(
          new AbortMultipartUploadCommand({ Bucket: cfg.bucket, Key: state.key, UploadId: state.uploadId }),
        );
      } catch (err) {
        if (s3ErrorCode(err) !== 'NoSuchUpload')
          log.warn({ key: state.key, code: s3ErrorCode(err) }, 'could not abort an abandoned upload');
      }
    }
    log.info({ file: state.file, key: state.key, why }, 'upload abandoned');
    await this.d.state.remove(state.file);
  }

  private async shipOnce(fh: FileHandle, file: string, ino: number, resumed?: UploadState): Promise<void> {
    const { cfg, log } = this.d;
    // The JVM gzipped it (-XX:HeapDumpGzipLevel): stored as it is, walked and analysed through gunzip.
    const jvmGzipped = alreadyCompressed(file);
    // A resumed upload keeps the compression its parts were made with, whatever the configuration says now.
    const state = resumed ?? (await this.createUpload(fh, file, ino, jvmGzipped ? 'none' : cfg.compression));
    const compression = state.compression;
    const follower = new DumpFollower(fh, {
      gzip: jvmGzipped,
      quietMs: cfg.quietSeconds * 1000,
      pollMs: this.d.pollMs,
    });
    log.info(
      { file, key: state.key, resumed: Boolean(resumed), partsDone: state.parts.length, compression },
      resumed ? 'resuming dump upload' : 'dump detected, uploading while it is written',
    );
    const pool = new TaskPool(this.d.concurrency);
    const saves = new SaveQueue(this.d.state, state);
    const following = follower.follow();
    following.catch(() => {}); // awaited below; a failure also rejects the producer's waitFor
    try {
      if (!state.completedAt) {
        if (compression === 'none') await this.produceRaw(fh, follower, state, pool, saves);
        else await this.produceCompressed(fh, follower, state, pool, saves, compression);
      }
      await pool.drain();
    } catch (err) {
      follower.stop();
      await following.catch(() => {});
      await saves.flush().catch(() => {});
      throw err;
    }
    const followed = await following;
    await saves.flush();
    log.info(
      { file, bytes: followed.size, verdict: followed.verdict, reason: followed.reason },
      'dump written',
    );
    const storedBytes = state.parts.reduce((n, p) => n + p.size, 0);
    if (!state.completedAt) {
      await this.complete(state);
      state.completedAt = new Date().toISOString();
      await this.d.state.save(state);
    }
    await this.verify(state, storedBytes);
    const uploadedAt = new Date();
    const seconds = (uploadedAt.getTime() - followed.firstByteAt.getTime()) / 1000;
    this.d.metrics.dumpShipped(followed.verdict, seconds);
    log.info(
      {
        file,
        key: state.key,
        originalBytes: followed.size,
        storedBytes,
        seconds,
        afterDumpSeconds: (uploadedAt.getTime() - followed.doneAt.getTime()) / 1000,
      },
      'dump object complete',
    );
    // The dump is safe: now the summary (SHA-256 and class histogram, one more read of the file).
    // Also when stopping: a dump without its summary would show no verdict in `heapdump list`.
    const analysis = await analyse({ path: join(cfg.dir, file), size: followed.size, gzip: jvmGzipped });
    await this.putSummary(
      state,
      followed,
      storedBytes,
      compression,
      uploadedAt,
      analysis.sha256,
      analysis.summary,
    );
    if (cfg.deleteAfterUpload) {
      await rm(join(cfg.dir, file), { force: true });
      await this.d.state.remove(file);
    } else {
      await this.d.state.save({ ...state, doneAt: new Date().toISOString() });
    }
    log.info(
      {
        file,
        key: state.key,
        verdict: followed.verdict,
        originalBytes: followed.size,
        storedBytes,
        seconds,
        afterDumpSeconds: (uploadedAt.getTime() - followed.doneAt.getTime()) / 1000,
        summarySeconds: (Date.now() - uploadedAt.getTime()) / 1000,
        deleted: cfg.deleteAfterUpload,
      },
      'dump stored',
    );
  }

  private async createUpload(
    fh: FileHandle,
    file: string,
    ino: number,
    compression: Compression,
  ): Promise<UploadState> {
    const { cfg, s3 } = this.d;
    const birth = (await fh.stat()).birthtime;
    const startedAt = birth.getTime() > 0 ? birth : new Date();
    const { namespace, app, name: pod } = cfg.pod;
    const key = dumpKey({
      prefix: cfg.prefix,
      namespace,
      app,
      pod,
      startedAt,
      id: newDumpId(),
      file,
      compression,
    });
    const created = await this.call('CreateMultipartUpload', () =>
      s3.send(
        new CreateMultipartUploadCommand({
          Bucket: cfg.bucket,
          Key: key,
          ContentType: CONTENT_TYPES[compression],
          Metadata: {
            [DUMP_METADATA.pod]: cfg.pod.name,
            [DUMP_METADATA.namespace]: cfg.pod.namespace,
            [DUMP_METADATA.node]: cfg.pod.node,
            [DUMP_METADATA.app]: cfg.pod.app,
            [DUMP_METADATA.file]: encodeURIComponent(file),
            [DUMP_METADATA.startedAt]: startedAt.toISOString(),
            [DUMP_METADATA.compression]: compression,
            [DUMP_METADATA.uploaderVersion]: this.d.version,
          },
          ...(cfg.checksums ? { ChecksumAlgorithm: 'CRC32', ChecksumType: 'FULL_OBJECT' } : {}),
        }),
      ),
    );
    const state: UploadState = {
      version: 1,
      file,
      ino,
      key,
      uploadId: created.UploadId!,
      startedAt: startedAt.toISOString(),
      compression,
      parts: [],
    };
    await this.d.state.saveParts(file, []);
    await this.d.state.save(state);
    return state;
  }

  /** Uncompressed: part n is block n, read from the file at its offset (no copy in memory). */
  private async produceRaw(
    fh: FileHandle,
    follower: DumpFollower,
    state: UploadState,
    pool: TaskPool,
    saves: SaveQueue,
  ): Promise<void> {
    const done = new Set(state.parts.map((p) => p.partNumber));
    for (let n = 1; ; n++) {
      if (n > MAX_PARTS) throw new TooLarge();
      const start = blockStart(n);
      const size = Math.max(0, (await follower.waitFor(start + blockSize(n))) - start);
      if (size === 0 && n > 1) break;
      if (!done.has(n)) {
        const record = { partNumber: n, firstBlock: n, lastBlock: n };
        await pool.add(async () => {
          // A reused buffer per part in flight: streaming the range would leave gigabytes of garbage chunks
          // that V8 collects late (measured: 156 MB of ArrayBuffers at peak on a 2.2 GB dump).
          const buf = this.buffers.acquire(size);
          try {
            await readRange(fh, buf, start, size);
            await this.uploadPart(state, saves, record, [buf.subarray(0, size)], size);
          } finally {
            this.buffers.release(buf);
          }
        });
      }
      if (size < blockSize(n)) break;
    }
  }

  /**
   * Compressed: each block is compressed on its own (a gzip member or zstd frame), and consecutive compressed
   * blocks make a part once they reach S3's 5 MiB minimum.
   */
  private async produceCompressed(
    fh: FileHandle,
    follower: DumpFollower,
    state: UploadState,
    pool: TaskPool,
    saves: SaveQueue,
    compression: 'gzip' | 'zstd',
  ): Promise<void> {
    // Resume after the parts done without a gap, each starting where the previous one ended; later ones are
    // uploaded again (with other block ranges, so their old records go).
    state.parts.sort((a, b) => a.partNumber - b.partNumber);
    const gap = state.parts.findIndex(
      (p, i) => p.partNumber !== i + 1 || p.firstBlock !== (i === 0 ? 1 : state.parts[i - 1]!.lastBlock + 1),
    );
    if (gap >= 0) {
      state.parts.splice(gap);
      await this.d.state.saveParts(state.file, state.parts);
    }
    const last = state.parts.at(-1);
    let partNumber = (last?.partNumber ?? 0) + 1;
    let block = (last?.lastBlock ?? 0) + 1;

    const compress = (b: Buffer): Promise<Buffer> =>
      // zlib's 16 KiB output chunks: 1 MiB ones saved ~25% CPU per block but left 1 MiB of garbage per block,
      // and peak RSS rose 8-11 MiB on an 8.8 GB dump (V8 collects it late).
      compression === 'gzip' ? gzipAsync(b, { level: 1 }) : zstdAsync(b, { params: ZSTD_PARAMS });
    const pending: { block: number; compressed: Promise<Buffer> }[] = [];
    let chunks: Buffer[] = [];
    let chunkBytes = 0;
    let firstBlock = block;

    const emit = async (lastBlock: number) => {
      const body = chunks;
      const size = chunkBytes;
      const record = { partNumber: partNumber++, firstBlock, lastBlock };
      chunks = [];
      chunkBytes = 0;
      firstBlock = lastBlock + 1;
      await pool.add(() => this.uploadPart(state, saves, record, body, size));
    };
    const takeCompressed = async () => {
      const next = pending.shift()!;
      const c = await next.compressed;
      chunks.push(c);
      chunkBytes += c.length;
      if (chunkBytes >= MIN_PART) await emit(next.block);
    };

    for (; ; block++) {
      if (block > MAX_PARTS) throw new TooLarge();
      const start = blockStart(block);
      const size = Math.max(0, (await follower.waitFor(start + blockSize(block))) - start);
      if (size === 0 && (block > 1 || partNumber > 1)) break;
      const bytes = this.buffers.acquire(size);
      await readRange(fh, bytes, start, size); // overlaps the compression of the previous block
      if (pending.length >= COMPRESS_PARALLEL) await takeCompressed();
      const compressed = compress(bytes.subarray(0, size));
      void compressed.finally(() => this.buffers.release(bytes)).catch(() => {});
      pending.push({ block, compressed });
      if (size < blockSize(block)) {
        block++;
        break;
      }
    }
    while (pending.length > 0) await takeCompressed();
    if (chunkBytes > 0 || partNumber === 1) await emit(block - 1);
  }

  private async uploadPart(
    state: UploadState,
    saves: SaveQueue,
    record: Omit<PartRecord, 'etag' | 'size' | 'checksum'>,
    body: readonly Uint8Array[],
    size: number,
  ): Promise<void> {
    const { cfg, s3 } = this.d;
    // Ours, given to the SDK (which then neither computes it again nor wraps the body in aws-chunked
    // encoding), kept for the whole-object CRC32 at completion.
    const checksum = cfg.checksums ? crc32Base64(body) : undefined;
    let res: { ETag?: string };
    try {
      res = await this.call(`UploadPart ${record.partNumber}`, () =>
        s3.send(
          new UploadPartCommand({
            Bucket: cfg.bucket,
            Key: state.key,
            UploadId: state.uploadId,
            PartNumber: record.partNumber,
            Body: Readable.from(body),
            ContentLength: size,
            ...(checksum ? { ChecksumCRC32: checksum } : {}),
          }),
        ),
      );
    } catch (err) {
      if (s3ErrorCode(err) === 'NoSuchUpload')
        throw new Restart('the store no longer has the multipart upload');
      throw err;
    }
    this.d.metrics.bytesUploaded += size;
    saves.part({ ...record, etag: res.ETag!, checksum, size });
  }

  private async complete(state: UploadState): Promise<void> {
    const { cfg, s3 } = this.d;
    const parts = [...state.parts].sort((a, b) => a.partNumber - b.partNumber);
    try {
      await this.call('CompleteMultipartUpload', () =>
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: cfg.bucket,
            Key: state.key,
            UploadId: state.uploadId,
            IfNoneMatch: '*',
            MultipartUpload: {
              Parts: parts.map((p) => ({
                PartNumber: p.partNumber,
                ETag: p.etag,
                ...(cfg.checksums ? { ChecksumCRC32: p.checksum } : {}),
              })),
            },
            ...(cfg.checksums ? { ChecksumCRC32: combinedCrc32(parts), ChecksumType: 'FULL_OBJECT' } : {}),
          }),
        ),
      );
    } catch (err) {
      const code = s3ErrorCode(err);
      if (code === 'PreconditionFailed') throw new Restart(`the key ${state.key} is taken`);
      if (code === 'NoSuchUpload') throw new Restart('the store no longer has the multipart upload');
      throw err;
    }
  }

  /** HEAD the new object when allowed; a least-privilege credential may not read, and the store's own CRC32 check stands. */
  private async verify(state: UploadState, storedBytes: number): Promise<void> {
    const { cfg, s3, log } = this.d;
    try {
      const head = await s3.send(new HeadObjectCommand({ Bucket: cfg.bucket, Key: state.key }));
      if (head.ContentLength !== storedBytes || head.Metadata?.pod !== cfg.pod.name) {
        throw new Error(
          `the stored object ${state.key} has ${head.ContentLength} bytes and pod "${head.Metadata?.pod}", expected ${storedBytes} and "${cfg.pod.name}"`,
        );
      }
    } catch (err) {
      const code = s3ErrorCode(err);
      if (!isCredentialError(code)) throw err;
      log.debug({ key: state.key }, "not allowed to HEAD the object; relying on the store's CRC32 check");
    }
  }

  private async putSummary(
    state: UploadState,
    followed: FollowResult,
    storedBytes: number,
    compression: Compression,
    uploadedAt: Date,
    sha256: string,
    hprof: HprofSummary,
  ): Promise<void> {
    const { cfg, s3 } = this.d;
    const doc: StoredDumpSummary = {
      ...hprof,
      storedSchema: STORED_SUMMARY_SCHEMA,
      // The follower's verdict also covers a JVM gzip file whose last member is cut.
      verdict: followed.verdict,
      ...(followed.reason ? { reason: followed.reason } : {}),
      dump: {
        bucket: cfg.bucket,
        key: state.key,
        file: state.file,
        originalBytes: followed.size,
        storedBytes,
        compression,
        sha256,
        parts: state.parts.length,
        pod: cfg.pod.name,
        namespace: cfg.pod.namespace,
        node: cfg.pod.node,
        app: cfg.pod.app,
        uploaderVersion: this.d.version,
      },
      timings: {
        firstByteSeen: followed.firstByteAt.toISOString(),
        dumpComplete: followed.doneAt.toISOString(),
        uploadComplete: uploadedAt.toISOString(),
        dumpSeconds: (followed.doneAt.getTime() - followed.firstByteAt.getTime()) / 1000,
        uploadAfterDumpSeconds: (uploadedAt.getTime() - followed.doneAt.getTime()) / 1000,
      },
    };
    try {
      await this.call('PutObject summary', () =>
        s3.send(
          new PutObjectCommand({
            Bucket: cfg.bucket,
            Key: summaryKey(state.key),
            Body: JSON.stringify(doc, null, 2),
            ContentType: 'application/json',
            IfNoneMatch: '*',
            Metadata: {
              [SUMMARY_METADATA.verdict]: followed.verdict,
              [SUMMARY_METADATA.sha256]: sha256,
              [SUMMARY_METADATA.originalSize]: String(followed.size),
              [SUMMARY_METADATA.storedSize]: String(storedBytes),
              [SUMMARY_METADATA.pod]: cfg.pod.name,
              [SUMMARY_METADATA.namespace]: cfg.pod.namespace,
              [SUMMARY_METADATA.app]: cfg.pod.app,
            },
          }),
        ),
      );
    } catch (err) {
      // Written already by a run that stopped before removing its state.
      if (s3ErrorCode(err) !== 'PreconditionFailed') throw err;
    }
  }

  private call<T>(what: string, f: () => Promise<T>): Promise<T> {
    return withRetry(
      what,
      f,
      this.d.retry,
      this.d.log,
      (code) => this.d.metrics.s3Error(code),
      this.d.stopping,
    );
  }
}

/** Reads `size` bytes at `start` into `buf`. */
async function readRange(fh: FileHandle, buf: Buffer, start: number, size: number): Promise<void> {
  for (let got = 0; got < size; ) {
    const { bytesRead } = await fh.read(buf, got, size - got, start + got);
    if (bytesRead === 0) throw new Error(`the dump file is shorter than ${start + size} bytes`);
    got += bytesRead;
  }
}

/** Buffers reused across parts: memory stays at (parts in flight) x (block size), whatever the dump size. */
class BufferPool {
  private free: Buffer[] = [];

  acquire(size: number): Buffer {
    const i = this.free.findIndex((b) => b.length >= size);
    if (i >= 0) return this.free.splice(i, 1)[0]!;
    return Buffer.allocUnsafeSlow(Math.max(size, 1));
  }

  release(buf: Buffer): void {
    // Blocks only grow: drop buffers too small for the current block size.
    this.free = this.free.filter((b) => b.length >= buf.length);
    if (this.free.length < 8) this.free.push(buf);
  }
}

/** Records each part as it completes, one write at a time, in order. */
class SaveQueue {
  private readonly store: StateStore;
  private readonly state: UploadState;
  private chain: Promise<void> = Promise.resolve();
  constructor(store: StateStore, state: UploadState) {
    this.store = store;
    this.state = state;
  }

  part(record: PartRecord): void {
    const i = this.state.parts.findIndex((p) => p.partNumber === record.partNumber);
    if (i >= 0) this.state.parts[i] = record;
    else this.state.parts.push(record);
    this.chain = this.chain.then(() => this.store.savePart(this.state.file, record));
  }

  flush(): Promise<void> {
    return this.chain;
  }
}
