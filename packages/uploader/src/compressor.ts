// Compression of blocks, one at a time for the whole process (zlib runs it on libuv's thread pool): while a
// JVM dumps on a small node it already uses most of the cores (docs/benchmarks.md), and a second compressing
// thread finished no sooner and cost memory. Each block becomes an independent zstd frame or gzip member,
// fed from the file in pieces through two buffers the process reuses (one is read while zlib compresses the
// other), so a block never sits whole in memory, whatever its size; the output is kept as zlib's chunks, not
// copied into one buffer.
import type { FileHandle } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { constants, createGzip, createZstdCompress, type Gzip, type ZstdCompress } from 'node:zlib';
import { MiB } from './blocks.ts';
import { readFully } from './dump-file.ts';

/** zstd level 1, a 128 KiB window and a checksum per frame: the choice measured in docs/benchmarks.md. */
const ZSTD_PARAMS = {
  [constants.ZSTD_c_compressionLevel]: 1,
  [constants.ZSTD_c_windowLog]: 17,
  [constants.ZSTD_c_checksumFlag]: 1,
};

const PIECE = MiB;
/** Allocated on first use: a process that never compresses never holds them. */
let pieces: [Buffer, Buffer] | undefined;

export interface BlockRange {
  fh: FileHandle;
  start: number;
  size: number;
  /** Sees each piece, in file order, before it is compressed, and may change it in place (redaction). */
  onPiece?: (piece: Buffer) => void;
  /**
   * Takes the compressed chunks as they come instead of their being kept and returned (blocks past 62.5 GiB,
   * up to 2 GiB, whose frame is never held whole); a promise returned holds compression until it resolves.
   */
  sink?: (chunk: Buffer) => Promise<void> | undefined;
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Compresses `size` bytes of the file at `start` as one frame (member), after every compression asked for
 * before it; resolves to the compressed bytes, in zlib's 16 KiB output chunks (larger ones were cheaper per
 * block but raised peak memory).
 */
export function compressRange(range: BlockRange, compression: 'gzip' | 'zstd'): Promise<Buffer[]> {
  const run = () => compressNow(range, compression);
  const result = queue.then(run, run);
  queue = result.catch(() => undefined);
  return result;
}

async function compressNow(range: BlockRange, compression: 'gzip' | 'zstd'): Promise<Buffer[]> {
  pieces ??= [Buffer.allocUnsafeSlow(PIECE), Buffer.allocUnsafeSlow(PIECE)];
  const z = compression === 'gzip' ? createGzip({ level: 1 }) : createZstdCompress({ params: ZSTD_PARAMS });
  const out: Buffer[] = [];
  const sink = range.sink;
  z.on('data', (chunk: Buffer) => {
    if (!sink) {
      out.push(chunk);
      return;
    }
    const wait = sink(chunk);
    if (wait) {
      // zlib stops once its output is full, and with it the writes below: memory stays a few chunks.
      z.pause();
      wait.then(
        () => z.resume(),
        (err: Error) => z.destroy(err),
      );
    }
  });
  const ended = finished(z);
  ended.catch(() => {}); // awaited below; a failure while a piece is read must not go unhandled meanwhile
  try {
    // A piece's buffer is read into again only once zlib has consumed it: its write has called back.
    let written: Promise<void> = Promise.resolve();
    for (let at = 0, i = 0; at < range.size; i++) {
      const piece = pieces[i % 2]!.subarray(0, Math.min(PIECE, range.size - at));
      await readFully(range.fh, piece, range.start + at);
      range.onPiece?.(piece);
      await written;
      written = write(z, piece);
      written.catch(() => {});
      at += piece.length;
    }
    await written;
    z.end();
    await ended;
  } catch (err) {
    z.destroy();
    throw err;
  }
  return out;
}

function write(z: Gzip | ZstdCompress, piece: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    z.write(piece, (err) => (err ? reject(err) : resolve()));
  });
}
