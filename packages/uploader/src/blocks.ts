// How a dump is cut for upload. The file is split into input blocks whose size grows with their number
// (8 MiB for blocks 1-1000, 16 MiB for 1001-2000, doubling every 1000, 4 GiB at the last), so a dump of up
// to 7.8 TiB fits in S3's 10,000 parts of at most 5 GiB, while small dumps still get parallel parts. A part
// is one block (uncompressed), or as many consecutive blocks, each compressed on its own, as it takes to
// reach S3's 5 MiB minimum part size.

export const MiB = 1024 * 1024;
export const BASE_BLOCK = 8 * MiB;
export const BLOCKS_PER_STEP = 1000;
export const MIN_PART = 5 * MiB;
export const MAX_PARTS = 10_000;

/** Size of block `n` (1-based). */
export function blockSize(n: number): number {
  return BASE_BLOCK * 2 ** Math.floor((n - 1) / BLOCKS_PER_STEP);
}

/** Start offset of block `n` in the file. */
export function blockStart(n: number): number {
  const step = Math.floor((n - 1) / BLOCKS_PER_STEP);
  // Whole steps before this one: BLOCKS_PER_STEP * BASE * (2^step - 1); then the blocks of this step.
  return BLOCKS_PER_STEP * BASE_BLOCK * (2 ** step - 1) + ((n - 1) % BLOCKS_PER_STEP) * blockSize(n);
}

export const MAX_DUMP_BYTES = blockStart(MAX_PARTS) + blockSize(MAX_PARTS);

export class TooLarge extends Error {
  constructor() {
    super(`the dump is larger than ${MAX_DUMP_BYTES} bytes (7.8 TiB), more than 10,000 parts can hold`);
  }
}
