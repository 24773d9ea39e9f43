// CRC32 of a concatenation from the CRCs of its pieces (zlib's crc32_combine, polynomial arithmetic modulo
// the CRC polynomial): the whole-object checksum S3 checks at completion comes from the part checksums, not
// from a second pass over every byte of the dump.
import { crc32 } from 'node:zlib';

const POLY = 0xedb88320;

/** a * b modulo the CRC polynomial (bit-reflected). */
function multModP(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** x^(2^k) modulo the polynomial, k = 0..31. */
const X2N: number[] = [];
for (let p = 0x40000000, k = 0; k < 32; k++) {
  X2N.push(p);
  p = multModP(p, p);
}

/** x^(n * 2^k) modulo the polynomial. */
function x2nModP(n: number, k: number): number {
  let p = 0x80000000;
  for (; n > 0; n = Math.floor(n / 2), k++) if (n % 2 === 1) p = multModP(X2N[k & 31]!, p);
  return p;
}

/** The CRC32 of A followed by B, from crc32(A), crc32(B) and B's length in bytes. */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  return (multModP(x2nModP(lengthB, 3), crcA) ^ crcB) >>> 0;
}

/** CRC32 of buffers one after another, as S3's base64 of the big-endian value. */
export function crc32Base64(chunks: readonly Uint8Array[]): string {
  return toBase64(chunks.reduce((c, chunk) => crc32(chunk, c), 0));
}

/** A CRC32 value as S3's base64 of the big-endian value. */
export function crc32Base64Of(crc: number): string {
  return toBase64(crc);
}

/** The whole object's CRC32 from its parts' base64 CRC32s and sizes, in part order. */
export function combinedCrc32(parts: readonly { checksum?: string; size: number }[]): string {
  let crc = 0;
  for (const [i, p] of parts.entries()) {
    if (!p.checksum) throw new Error(`part ${i + 1} of the upload has no recorded CRC32`);
    crc = crc32Combine(crc, Buffer.from(p.checksum, 'base64').readUInt32BE(0), p.size);
  }
  return toBase64(crc);
}

function toBase64(crc: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc);
  return b.toString('base64');
}
