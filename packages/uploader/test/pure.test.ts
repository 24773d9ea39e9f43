// The uploader's pure core: block schedule, CRC32 combination (configuration and keys: the contract's tests).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { blockSize, blockStart, MAX_DUMP_BYTES, MAX_PARTS } from '../src/blocks.ts';
import { combinedCrc32, crc32Base64, crc32Combine } from '../src/crc32.ts';

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

describe('whole-object CRC32 from part CRC32s', () => {
  it('equals the CRC32 of the concatenation, for empty, small, odd and multi-MiB parts', () => {
    const sizes = [0, 1, 7, 4096, 5 * 2 ** 20 + 3, 0, 8 * 2 ** 20];
    const parts = sizes.map((n, i) => randomBytes(n).fill(i, 0, Math.min(n, 17)));
    const whole = crc32(Buffer.concat(parts));
    const combined = parts.reduce((c, p) => crc32Combine(c, crc32(p), p.length), 0);
    assert.equal(combined, whole);
    const fromRecords = combinedCrc32(parts.map((p) => ({ checksum: crc32Base64([p]), size: p.length })));
    assert.equal(Buffer.from(fromRecords, 'base64').readUInt32BE(0), whole);
  });

  it('handles lengths beyond 32 bits (a 5 GiB part) like zlib', () => {
    // x^(8n) for n = 5 GiB must not wrap: combining a zero-length-equivalent identity still holds, and
    // combining over 2^32 + k bytes equals stepping over 2^32 then k bytes.
    const a = crc32(Buffer.from('heap'));
    const big = 5 * 2 ** 30;
    const stepped = crc32Combine(crc32Combine(a, 0, 2 ** 32), 0, big - 2 ** 32);
    assert.equal(crc32Combine(a, 0, big), stepped);
    assert.notEqual(crc32Combine(a, 0, big), crc32Combine(a, 0, big % 2 ** 32));
  });

  it('splits a part into chunks without changing its CRC32', () => {
    const body = randomBytes(3 * 2 ** 20 + 11);
    assert.equal(crc32Base64([body.subarray(0, 100), body.subarray(100)]), crc32Base64([body]));
  });
});
