// The block schedule (blocks.ts): how a dump is cut into blocks, within S3's part count and size limits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockSize, blockStart, MAX_DUMP_BYTES, MAX_PARTS } from '../src/blocks.ts';

describe('block schedule', () => {
  const partsFor = (bytes: number) => {
    let n = 1;
    while (blockStart(n) + blockSize(n) < bytes) n++;
    return n;
  };
  it('is contiguous, keeps 8 MiB blocks up to 62.5 GiB, and fits ~1 TiB in 10,000 parts below 5 GiB', () => {
    for (let n = 1; n < MAX_PARTS; n++)
      assert.equal(blockStart(n + 1), blockStart(n) + blockSize(n), `block ${n}`);
    // The memory of the parts in flight (one block each) is the same for every dump up to 62.5 GiB.
    assert.equal(blockSize(1), 8 * 2 ** 20);
    assert.equal(blockSize(8000), 8 * 2 ** 20);
    assert.equal(partsFor(16 * 2 ** 30), 2048);
    assert.equal(partsFor(62.5 * 2 ** 30), 8000);
    assert.equal(blockSize(8001), 16 * 2 ** 20);
    assert.equal(partsFor(MAX_DUMP_BYTES), MAX_PARTS);
    assert.equal(partsFor(MAX_DUMP_BYTES + 1), MAX_PARTS + 1);
    // 8000 x 8 MiB, then 250 blocks each of 16 MiB, 32 MiB, ... 2 GiB.
    assert.equal(MAX_DUMP_BYTES, 8000 * 8 * 2 ** 20 + 250 * 8 * 2 ** 20 * (2 ** 9 - 2));
    assert.ok(MAX_DUMP_BYTES > 2 ** 40, 'over 1 TiB');
    assert.equal(blockSize(MAX_PARTS), 2 * 2 ** 30, "the largest part stays below S3's 5 GiB");
  });
});
