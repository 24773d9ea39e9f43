// How a dump is cut for upload: input blocks of 8 MiB for the first 8,000 (62.5 GiB), so the memory of the
// parts in flight stays the same up to dumps of that size; then, only for larger dumps, doubling every 250
// blocks up to 2 GiB, so a dump of up to ~1 TiB fits in S3's 10,000 parts (at most 5 GiB each). A part is
// one block (uncompressed), or as many consecutive blocks, each compressed on its own, as it takes to reach
// S3's 5 MiB minimum part size.

export const MiB = 1024 * 1024;
export const BASE_BLOCK = 8 * MiB;
/** Blocks of BASE_BLOCK before sizes grow. */
export const BASE_BLOCKS = 8000;
/** After BASE_BLOCKS, the size doubles every this many blocks. */
export const BLOCKS_PER_STEP = 250;
export const MIN_PART = 5 * MiB;
export const MAX_PARTS = 10_000;

function step(n: number): number {
  return n <= BASE_BLOCKS ? 0 : Math.floor((n - BASE_BLOCKS - 1) / BLOCKS_PER_STEP) + 1;
}

/** Size of block `n` (1-based). */
export function blockSize(n: number): number {
  return BASE_BLOCK * 2 ** step(n);
}

/** Start offset of block `n` in the file. */
export function blockStart(n: number): number {
  const s = step(n);
  if (s === 0) return (n - 1) * BASE_BLOCK;
  // The base blocks, the whole steps before this one (BLOCKS_PER_STEP * BASE * (2 + 4 + ... + 2^(s-1))),
  // then the blocks of this step before n.
  const whole = BLOCKS_PER_STEP * BASE_BLOCK * (2 ** s - 2);
  return BASE_BLOCKS * BASE_BLOCK + whole + ((n - BASE_BLOCKS - 1) % BLOCKS_PER_STEP) * blockSize(n);
}

export const MAX_DUMP_BYTES = blockStart(MAX_PARTS) + blockSize(MAX_PARTS);

export class TooLarge extends Error {
  constructor() {
    super(
      `the dump is larger than ${MAX_DUMP_BYTES} bytes (${(MAX_DUMP_BYTES / 2 ** 40).toFixed(2)} TiB), more than 10,000 parts can hold`,
    );
  }
}
