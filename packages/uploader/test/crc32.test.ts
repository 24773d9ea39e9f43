// The whole-object CRC32 combined from the parts' (crc32.ts).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { combinedCrc32, crc32Base64, crc32Combine } from '../src/crc32.ts';

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
