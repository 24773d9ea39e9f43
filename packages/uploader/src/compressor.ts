// Compression of blocks, one at a time for the whole process (zlib runs it on libuv's thread pool): while a
// JVM dumps on a small node it already uses most of the cores (docs/benchmarks.md), and a second compressing
// thread finished no sooner and cost memory. Each block becomes an independent zstd frame or gzip member.
import { promisify } from 'node:util';
import { constants, gzip, zstdCompress } from 'node:zlib';

const gzipAsync = promisify(gzip);
const zstdAsync = promisify(zstdCompress);

/** zstd level 1, a 128 KiB window and a checksum per frame: the choice measured in docs/benchmarks.md. */
const ZSTD_PARAMS = {
  [constants.ZSTD_c_compressionLevel]: 1,
  [constants.ZSTD_c_windowLog]: 17,
  [constants.ZSTD_c_checksumFlag]: 1,
};

let queue: Promise<unknown> = Promise.resolve();

/**
 * Compresses `block` after every compression asked for before it. zlib's default 16 KiB output chunks: 1 MiB
 * ones were cheaper per block but left 1 MiB of garbage each, which raised peak memory.
 */
export function compressBlock(block: Buffer, compression: 'gzip' | 'zstd'): Promise<Buffer> {
  const run = () =>
    compression === 'gzip' ? gzipAsync(block, { level: 1 }) : zstdAsync(block, { params: ZSTD_PARAMS });
  const result = queue.then(run, run);
  queue = result.catch(() => undefined);
  return result;
}
