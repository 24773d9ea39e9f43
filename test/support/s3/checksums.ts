// Digests S3 verifies on upload (Content-MD5, x-amz-checksum-*), computed while bytes stream by.
import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';

export type ChecksumAlgorithm = 'crc32' | 'crc32c' | 'sha1' | 'sha256';
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['crc32', 'crc32c', 'sha1', 'sha256'];

export function isChecksumAlgorithm(s: string): s is ChecksumAlgorithm {
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(s);
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

function crc32c(data: Uint8Array, previous: number): number {
  let c = ~previous >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC32C_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** Incremental digest of one algorithm; `digest()` gives the base64 form S3 uses in headers. */
export interface Digest {
  update(chunk: Uint8Array): void;
  digest(): Buffer;
}

class CrcDigest implements Digest {
  private value = 0;
  private readonly fn: (d: Uint8Array, prev: number) => number;
  constructor(fn: (d: Uint8Array, prev: number) => number) {
    this.fn = fn;
  }
  update(chunk: Uint8Array): void {
    this.value = this.fn(chunk, this.value);
  }
  digest(): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(this.value >>> 0);
    return b;
  }
}

class HashDigest implements Digest {
  private readonly hash: Hash;
  constructor(name: string) {
    this.hash = createHash(name);
  }
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
  }
  digest(): Buffer {
    return this.hash.digest();
  }
}

export function createDigest(algorithm: ChecksumAlgorithm | 'md5'): Digest {
  switch (algorithm) {
    case 'crc32':
      return new CrcDigest(crc32);
    case 'crc32c':
      return new CrcDigest(crc32c);
    default:
      return new HashDigest(algorithm);
  }
}
