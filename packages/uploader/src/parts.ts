// Part production: how the growing dump file becomes numbered parts, each with its digests and a body that
// can be sent (and sent again). Uncompressed, part n is block n, digested from the file and streamed from it
// at its offset when sent; compressed, consecutive blocks each become an independent frame (or member) and a
// part is as many of them as it takes to reach S3's 5 MiB minimum; with zstd, a block compressing would hold
// back ends its part as a raw zstd frame streamed from the file (`Adapt`). The part plans come out in order; the
// caller decides how many are in flight. With redaction, the symbols used as names are first read ahead
// (symbol-scan.ts: a few MB), then every block is read in order from the start and redacted in memory before its digests are taken (a resumed upload reads and redacts the blocks it already
// sent, to reach the same state, and sends none of them again); a raw part's body is then that memory.
// Every byte digested for a part also goes, in file order, into the dump's SHA-256 (the summary's: what was
// sent, not what the file holds later); each plan carries the hash so far, so a resumed upload, which reads
// the parts it sent again, finds out whether the file still holds those bytes (else FileChanged).
import type { Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import type { ActiveRedactMode, HprofRedactor } from '@kube-heapdump/hprof';
import type { Adapt } from './adapt.ts';
import { BASE_BLOCK, blockSize, blockStart, MAX_PARTS, MIN_PART, MiB, TooLarge } from './blocks.ts';
import { compressRange } from './compressor.ts';
import { digestInto, digestRange, PartDigester, type PartDigests } from './digests.ts';
import { FileChanged, readFully } from './dump-file.ts';
import type { DumpFollower } from './follower.ts';
import { CompressedRangeBody, FileRangeBody, RANGE_BODY_BYTES } from './part-body.ts';
import type { PartRecord } from './state.ts';
import { dumpRedactor } from './symbol-scan.ts';
import { rawFrameBytes } from './zstd-raw.ts';

export interface PartPlan {
  record: Pick<PartRecord, 'partNumber' | 'firstBlock' | 'lastBlock'>;
  /** Bytes of the part as stored. */
  size: number;
  digests: PartDigests;
  /** Bytes the part's body holds in memory while it is sent (the process-wide budget counts them). */
  cost: number;
  /** Hex SHA-256 of the dump's bytes (uncompressed, redacted) from the start to the end of this part. */
  sha256: string;
  /** A fresh body for each attempt. */
  body(): Readable;
  /** Gives back what the body holds, once the part is stored or given up (no attempt follows). */
  release?: () => void;
}

export interface PartSource {
  fh: FileHandle;
  follower: DumpFollower;
  /** Compute MD5 (Content-MD5) too, not only CRC32. */
  md5: (partNumber: number) => boolean;
  /** Redact the parts' bytes: blocks are then read in order from the start. */
  redact?: ActiveRedactMode;
  /** zstd without redaction: send a block raw when compressing it would hold the upload back (adapt.ts). */
  adapt?: Adapt;
  /** Fed every byte of the dump as sent (uncompressed, redacted), in file order: a fresh SHA-256. */
  hash: Hash;
  /** Parts sent before (a resumed upload), with their recorded `sha256` when they have one. */
  sent?: ReadonlyMap<number, string | undefined>;
}

/** The dump's hash so far, in hex (the hash goes on). */
const hashSoFar = (src: PartSource): string => src.hash.copy().digest('hex');

/** After the bytes of sent part `n` were read again: FileChanged when they are not those sent. */
function checkSent(src: PartSource, n: number): void {
  const recorded = src.sent?.get(n);
  if (recorded !== undefined && recorded !== hashSoFar(src)) {
    throw new FileChanged(`the dump file no longer holds the bytes sent in part ${n}: it was rewritten`);
  }
}

/** Reads `size` bytes at `start` into the dump's hash (and through `redactor` first), through `buf`. */
async function hashRange(
  src: PartSource,
  start: number,
  size: number,
  buf: Buffer,
  redactor?: HprofRedactor,
): Promise<void> {
  for (let at = 0; at < size; at += buf.length) {
    const piece = buf.subarray(0, Math.min(buf.length, size - at));
    await readFully(src.fh, piece, start + at);
    redactor?.push(piece);
    src.hash.update(piece);
  }
}

/**
 * Whether block `block` is compressed as its part is sent rather than held compressed until then: blocks past
 * 62.5 GiB, which grow up to 2 GiB (not when redacting: a block's redaction depends on every byte before it).
 */
export function compressedWhileSent(block: number, redacting: boolean): boolean {
  return blockSize(block) > BASE_BLOCK && !redacting;
}

/** The dump's redactor, once the symbols used as names are read ahead (symbol-scan.ts). */
const redactorOf = (src: PartSource, mode: ActiveRedactMode): Promise<HprofRedactor> =>
  dumpRedactor(mode, src.fh, (end) => src.follower.waitFor(end));

/** Blocks the writer must be ahead of the block in hand before it goes raw (one more is read meanwhile). */
const ADAPT_BACKLOG_BLOCKS = 2;

/** Bytes of block n in the file (fewer for the last one); 0 once past the end. */
async function blockBytes(src: PartSource, n: number): Promise<number> {
  if (n > MAX_PARTS) throw new TooLarge();
  const start = blockStart(n);
  return Math.max(0, (await src.follower.waitFor(start + blockSize(n))) - start);
}

/** Uncompressed: part n is block n, for the blocks not in `done` (a resumed upload's parts). */
export function rawParts(src: PartSource, done: ReadonlySet<number>): AsyncGenerator<PartPlan> {
  return src.redact ? redactedRawParts(src, src.redact, done) : fileRawParts(src, done);
}

async function* fileRawParts(src: PartSource, done: ReadonlySet<number>): AsyncGenerator<PartPlan> {
  const digestBuffer = Buffer.allocUnsafe(1024 * 1024);
  const toHash = (bytes: Buffer) => src.hash.update(bytes);
  for (let n = 1; ; n++) {
    const size = await blockBytes(src, n);
    if (size === 0 && n > 1) return;
    const start = blockStart(n);
    if (done.has(n)) {
      await hashRange(src, start, size, digestBuffer);
      checkSent(src, n);
    } else {
      const { digests, crc32 } = await digestRange(src.fh, start, size, src.md5(n), digestBuffer, toHash);
      yield {
        record: { partNumber: n, firstBlock: n, lastBlock: n },
        size,
        digests,
        sha256: hashSoFar(src),
        cost: RANGE_BODY_BYTES,
        body: () => new FileRangeBody(src.fh, start, size, { crc32 }),
      };
    }
    if (size < blockSize(n)) return;
  }
}

/** Redacted and uncompressed: each block read into its own memory, redacted, sent from there. */
async function* redactedRawParts(
  src: PartSource,
  mode: ActiveRedactMode,
  done: ReadonlySet<number>,
): AsyncGenerator<PartPlan> {
  const redactor = await redactorOf(src, mode);
  for (let n = 1; ; n++) {
    const size = await blockBytes(src, n);
    if (size === 0 && n > 1) return;
    const held = redactedBlocks.take(size);
    const buf = held.subarray(0, size);
    try {
      await readFully(src.fh, buf, blockStart(n));
      redactor.push(buf);
      src.hash.update(buf);
      if (done.has(n)) checkSent(src, n);
    } catch (err) {
      redactedBlocks.give(held);
      throw err;
    }
    if (done.has(n)) {
      redactedBlocks.give(held);
    } else {
      const digester = new PartDigester(src.md5(n));
      digester.update(buf);
      yield {
        record: { partNumber: n, firstBlock: n, lastBlock: n },
        size,
        digests: digester.digests(),
        sha256: hashSoFar(src),
        cost: size,
        body: () => Readable.from([buf], { objectMode: false }),
        release: () => redactedBlocks.give(held),
      };
    }
    if (size < blockSize(n)) return;
  }
}

/**
 * Redacted raw parts are sent from memory: a block each, reused once its part is stored (fresh ones cost V8 a
 * full collection each). The process-wide budget bounds how many are in flight; one more is being read.
 */
class BlockPool {
  private free: Buffer[] = [];

  take(size: number): Buffer {
    const i = this.free.findIndex((b) => b.length >= size);
    if (i >= 0) return this.free.splice(i, 1)[0]!;
    // Blocks only grow (the schedule doubles them past 62.5 GiB): a smaller one is no longer of use.
    this.free.pop();
    return Buffer.allocUnsafeSlow(Math.max(size, 1));
  }

  give(buf: Buffer): void {
    this.free.push(buf);
  }
}

const redactedBlocks = new BlockPool();

/**
 * Compressed: parts from block `firstBlock` on, numbered from `firstPart` (a resumed upload continues after
 * the parts it has). Each block is one frame (member), compressed as soon as it is in the file.
 */
export async function* compressedParts(
  src: PartSource,
  compression: 'gzip' | 'zstd',
  firstBlock: number,
  firstPart: number,
): AsyncGenerator<PartPlan> {
  let partNumber = firstPart;
  let partFirstBlock = firstBlock;
  let chunks: Buffer[] = [];
  let chunkBytes = 0;
  let digester = new PartDigester(src.md5(partNumber));
  /**
   * The part so far, and the block that ends it, sent from the file: as a raw zstd frame, or (`bytes`: its
   * frame's size) compressed again while it is sent.
   */
  const plan = (
    lastBlock: number,
    tail?: { start: number; size: number; crc32: number; bytes?: number },
  ): PartPlan => {
    const lead = chunks;
    const tailBytes = tail ? (tail.bytes ?? rawFrameBytes(tail.size)) : 0;
    const p: PartPlan = {
      record: { partNumber, firstBlock: partFirstBlock, lastBlock },
      size: chunkBytes + tailBytes,
      digests: digester.digests(),
      sha256: hashSoFar(src),
      cost: chunkBytes + (tail ? RANGE_BODY_BYTES : 0),
      body: !tail
        ? () => Readable.from(lead, { objectMode: false })
        : tail.bytes === undefined
          ? () => new FileRangeBody(src.fh, tail.start, tail.size, { lead, zstdRaw: true, crc32: tail.crc32 })
          : () => new CompressedRangeBody(src.fh, { ...tail, compression }, lead),
    };
    partNumber++;
    partFirstBlock = lastBlock + 1;
    chunks = [];
    chunkBytes = 0;
    digester = new PartDigester(src.md5(partNumber));
    return p;
  };
  let digestBuffer: Buffer | undefined;
  const adapt = compression === 'zstd' && !src.redact ? src.adapt : undefined;
  const goesRaw = (a: Adapt, block: number, size: number): boolean =>
    size > 0 &&
    src.follower.hasOrDone(blockStart(block) + size + ADAPT_BACKLOG_BLOCKS * blockSize(block)) &&
    a.wantsRaw(chunkBytes + RANGE_BODY_BYTES);

  const redactor = src.redact ? await redactorOf(src, src.redact) : undefined;
  await replayBefore(src, blockStart(firstBlock), redactor);
  checkSent(src, firstPart - 1);
  const onPiece = (piece: Buffer) => {
    redactor?.push(piece);
    src.hash.update(piece);
  };
  let block = firstBlock;
  for (; ; block++) {
    const size = await blockBytes(src, block);
    if (size === 0 && block > 1) break; // an empty file is one part holding one empty frame
    const last = size < blockSize(block);
    if (adapt && goesRaw(adapt, block, size)) {
      const start = blockStart(block);
      digestBuffer ??= Buffer.allocUnsafe(MiB);
      let sourceCrc = 0;
      await digestInto(digester, src.fh, start, size, digestBuffer, true, (bytes) => {
        src.hash.update(bytes);
        sourceCrc = crc32(bytes, sourceCrc);
      });
      adapt.rawBlocks++;
      yield plan(block, { start, size, crc32: sourceCrc });
      if (last) return;
      continue;
    }
    const began = performance.now();
    const start = blockStart(block);
    // Past 62.5 GiB a block's frame could be up to 2 GiB: it is kept only while it is no larger than a base
    // block's (a part must reach 5 MiB, and a block that compresses well joins the next ones); beyond, only
    // its digests are, and its part compresses it again when sent.
    const large = compressedWhileSent(block, redactor !== undefined);
    let frameCrc = 0;
    let bytes = 0;
    let kept: Buffer[] | undefined = [];
    await compressRange(
      {
        fh: src.fh,
        start,
        size,
        onPiece,
        sink: (chunk) => {
          digester.update(chunk);
          bytes += chunk.length;
          if (large) frameCrc = crc32(chunk, frameCrc);
          // zlib slices its chunks from a 16 KiB buffer per frame: a few bytes kept (a block of zeros) would
          // keep all of it, thousands of times over, outside what the budget counts.
          kept?.push(chunk.byteLength * 4 < chunk.buffer.byteLength ? Buffer.from(chunk) : chunk);
          if (large && bytes > BASE_BLOCK) kept = undefined;
          return undefined;
        },
      },
      compression,
    );
    adapt?.blockCompressed(size, (performance.now() - began) / 1000);
    if (!kept) yield plan(block, { start, size, crc32: frameCrc, bytes });
    else {
      chunks.push(...kept);
      chunkBytes += bytes;
      if (chunkBytes >= MIN_PART || last) yield plan(block);
    }
    if (last) return;
  }
  if (chunkBytes > 0) yield plan(block - 1);
}

/**
 * Reads the bytes sent before a restart (those before `end`) again, only to bring the dump's hash (and
 * `redactor`) to that offset. `end` is where the next block would start: past the file's end once the last
 * block, a short one, was sent, so only what the file holds is read (a file cut shorter than was sent fails
 * the recorded hash after this, in checkSent).
 */
async function replayBefore(src: PartSource, end: number, redactor?: HprofRedactor): Promise<void> {
  if (end === 0) return;
  const held = await src.follower.waitFor(end);
  await hashRange(src, 0, held, Buffer.allocUnsafe(MiB), redactor);
}
