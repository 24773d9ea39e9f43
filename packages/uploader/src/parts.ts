// Part production: how the growing dump file becomes numbered parts, each with its digests and a body that
// can be sent (and sent again). Uncompressed, part n is block n, digested from the file and streamed from it
// at its offset when sent; compressed, consecutive blocks each become an independent frame (or member) and a
// part is as many of them as it takes to reach S3's 5 MiB minimum. The part plans come out in order; the
// caller decides how many are in flight. With redaction, every block is read in order from the start and
// redacted in memory before its digests are taken (a resumed upload reads and redacts the blocks it already
// sent, to reach the same state, and sends none of them again); a raw part's body is then that memory.
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { HprofRedactor, type Redaction } from '@kube-heapdump/hprof';
import { BASE_BLOCK, blockSize, blockStart, MAX_PARTS, MIN_PART, TooLarge } from './blocks.ts';
import { compressBlock } from './compressor.ts';
import { digestRange, PartDigester, type PartDigests } from './digests.ts';
import type { DumpFollower } from './follower.ts';
import { FileRangeBody, RANGE_BODY_BYTES } from './part-body.ts';
import type { PartRecord } from './state.ts';

export interface PartPlan {
  record: Pick<PartRecord, 'partNumber' | 'firstBlock' | 'lastBlock'>;
  /** Bytes of the part as stored. */
  size: number;
  digests: PartDigests;
  /** Bytes the part's body holds in memory while it is sent (the process-wide budget counts them). */
  cost: number;
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
  redact?: Redaction;
}

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
  for (let n = 1; ; n++) {
    const size = await blockBytes(src, n);
    if (size === 0 && n > 1) return;
    if (!done.has(n)) {
      const start = blockStart(n);
      const digests = await digestRange(src.fh, start, size, src.md5(n), digestBuffer);
      yield {
        record: { partNumber: n, firstBlock: n, lastBlock: n },
        size,
        digests,
        cost: RANGE_BODY_BYTES,
        body: () => new FileRangeBody(src.fh, start, size),
      };
    }
    if (size < blockSize(n)) return;
  }
}

/** Redacted and uncompressed: each block read into its own memory, redacted, sent from there. */
async function* redactedRawParts(
  src: PartSource,
  mode: Redaction,
  done: ReadonlySet<number>,
): AsyncGenerator<PartPlan> {
  const redactor = new HprofRedactor(mode);
  for (let n = 1; ; n++) {
    const size = await blockBytes(src, n);
    if (size === 0 && n > 1) return;
    const held = await redactedBlocks.acquire(size);
    const buf = held.subarray(0, size);
    try {
      await readBlock(src.fh, buf, blockStart(n), size);
      redactor.push(buf);
    } catch (err) {
      redactedBlocks.release(held);
      throw err;
    }
    if (done.has(n)) {
      redactedBlocks.release(held);
    } else {
      const digester = new PartDigester(src.md5(n));
      digester.update(buf);
      yield {
        record: { partNumber: n, firstBlock: n, lastBlock: n },
        size,
        digests: digester.digests(),
        cost: size,
        body: () => Readable.from([buf], { objectMode: false }),
        release: () => redactedBlocks.release(held),
      };
    }
    if (size < blockSize(n)) return;
  }
}

/** Blocks read for compression: two for the whole process (one read while the other compresses). */
class BlockBuffers {
  private free: Buffer[] = [];
  private count = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly max: number;
  constructor(max: number) {
    this.max = max;
  }

  async acquire(size: number): Promise<Buffer> {
    for (;;) {
      const i = this.free.findIndex((b) => b.length >= size);
      if (i >= 0) return this.free.splice(i, 1)[0]!;
      if (this.free.length > 0) {
        // Blocks only grow (the schedule doubles them past 62.5 GiB): replace a smaller one.
        this.free.pop();
        this.count--;
      }
      if (this.count < this.max) {
        this.count++;
        return Buffer.allocUnsafeSlow(Math.max(size, 1));
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  release(buf: Buffer): void {
    this.free.push(buf);
    this.waiting.shift()?.();
  }
}

const blockBuffers = new BlockBuffers(2);
/**
 * Redacted raw parts are sent from memory: a block each, reused once its part is stored (fresh ones cost V8 a
 * full collection each). The process-wide budget bounds how many are in flight; one more is being read.
 */
const redactedBlocks = new BlockBuffers(Number.POSITIVE_INFINITY);

async function readBlock(fh: FileHandle, buf: Buffer, start: number, size: number): Promise<void> {
  for (let got = 0; got < size; ) {
    const { bytesRead } = await fh.read(buf, got, size - got, start + got);
    if (bytesRead === 0) throw new Error(`the dump file is shorter than ${start + size} bytes`);
    got += bytesRead;
  }
}

/**
 * Compressed: parts from block `firstBlock` on, numbered from `firstPart` (a resumed upload continues after
 * the parts it has). Reading the next block overlaps compressing this one.
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
  const plan = (lastBlock: number): PartPlan => {
    const body = chunks;
    const digester = new PartDigester(src.md5(partNumber));
    for (const c of body) digester.update(c);
    const p: PartPlan = {
      record: { partNumber, firstBlock: partFirstBlock, lastBlock },
      size: chunkBytes,
      digests: digester.digests(),
      cost: chunkBytes,
      body: () => Readable.from(body, { objectMode: false }),
    };
    partNumber++;
    partFirstBlock = lastBlock + 1;
    chunks = [];
    chunkBytes = 0;
    return p;
  };

  const redactor = src.redact ? new HprofRedactor(src.redact) : undefined;
  if (redactor) await redactBefore(src, redactor, blockStart(firstBlock));
  let pending: { block: number; compressed: Promise<Buffer> } | undefined;
  let block = firstBlock;
  let last = false;
  while (!last) {
    const size = await blockBytes(src, block);
    if (size === 0 && (block > 1 || partNumber > 1 || pending)) break;
    const buf = await blockBuffers.acquire(size);
    try {
      await readBlock(src.fh, buf, blockStart(block), size);
      redactor?.push(buf.subarray(0, size));
    } catch (err) {
      blockBuffers.release(buf);
      throw err;
    }
    const compressed = compressBlock(buf.subarray(0, size), compression);
    void compressed.finally(() => blockBuffers.release(buf)).catch(() => {});
    if (pending) {
      const done = pending;
      pending = { block, compressed };
      chunks.push(await done.compressed);
      chunkBytes += chunks.at(-1)!.length;
      if (chunkBytes >= MIN_PART) yield plan(done.block);
    } else {
      pending = { block, compressed };
    }
    last = size < blockSize(block);
    block++;
  }
  if (pending) {
    chunks.push(await pending.compressed);
    chunkBytes += chunks.at(-1)!.length;
    yield plan(pending.block);
  } else if (chunkBytes > 0 || partNumber === 1) {
    yield plan(block - 1); // an empty file is one empty part
  }
}

/** Reads and redacts the first `end` bytes (sent before a restart) only to bring `redactor` to that offset. */
async function redactBefore(src: PartSource, redactor: HprofRedactor, end: number): Promise<void> {
  if (end === 0) return;
  await src.follower.waitFor(end);
  const buf = await blockBuffers.acquire(BASE_BLOCK);
  try {
    for (let at = 0; at < end; ) {
      const n = Math.min(buf.length, end - at);
      await readBlock(src.fh, buf, at, n);
      redactor.push(buf.subarray(0, n));
      at += n;
    }
  } finally {
    blockBuffers.release(buf);
  }
}
