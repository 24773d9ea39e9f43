// The digests a part carries so the store can check it: CRC32 (flexible checksums: AWS S3, MinIO) and MD5
// (Content-MD5, which every S3 implementation checks, and the ETag of parts and of the completed object).
import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { crc32Base64Of } from './crc32.ts';
import { readFully } from './dump-file.ts';
import { RAW_BLOCK, RAW_BLOCK_HEADER, RAW_FRAME_HEADER, writeRawBlockHeader } from './zstd-raw.ts';

export interface PartDigests {
  /** Base64 CRC32 of the part (as S3's x-amz-checksum-crc32). */
  crc32: string;
  /** Base64 MD5 of the part (as Content-MD5), when asked for. */
  md5?: string;
}

/** Accumulates the digests of a part's bytes, in order. */
export class PartDigester {
  private crc = 0;
  private readonly md5: Hash | undefined;
  constructor(withMd5: boolean) {
    this.md5 = withMd5 ? createHash('md5') : undefined;
  }

  update(bytes: Uint8Array): void {
    this.crc = crc32(bytes, this.crc);
    this.md5?.update(bytes);
  }

  /** CRC32 of the bytes so far, as a number. */
  get crc32(): number {
    return this.crc;
  }

  digests(): PartDigests {
    return { crc32: crc32Base64Of(this.crc), ...(this.md5 ? { md5: this.md5.digest('base64') } : {}) };
  }
}

const READ = 1024 * 1024;

/**
 * Digests of `size` bytes of the file at `start`, read through `buf` (reused by the caller); `onSource` sees
 * the bytes, in order.
 */
export async function digestRange(
  fh: FileHandle,
  start: number,
  size: number,
  withMd5: boolean,
  buf: Buffer,
  onSource?: (bytes: Buffer) => void,
): Promise<{ digests: PartDigests; crc32: number }> {
  const d = new PartDigester(withMd5);
  await digestInto(d, fh, start, size, buf, false, onSource);
  return { digests: d.digests(), crc32: d.crc32 };
}

/**
 * Feeds `d` the bytes of the file at `start`, as they are or (`zstdRaw`) as the raw zstd frame holding them
 * (what FileRangeBody sends); `onSource` sees the file's bytes, in order.
 */
export async function digestInto(
  d: PartDigester,
  fh: FileHandle,
  start: number,
  size: number,
  buf: Buffer,
  zstdRaw = false,
  onSource?: (bytes: Buffer) => void,
): Promise<void> {
  const header = Buffer.alloc(RAW_BLOCK_HEADER);
  if (zstdRaw) d.update(RAW_FRAME_HEADER);
  // Framed, a read holds whole raw blocks, so the blocks fall where FileRangeBody puts them.
  const stride = zstdRaw
    ? Math.floor(Math.min(buf.length, READ) / RAW_BLOCK) * RAW_BLOCK
    : Math.min(buf.length, READ);
  for (let done = 0; done < size; ) {
    const bytes = buf.subarray(0, Math.min(stride, size - done));
    await readFully(fh, bytes, start + done);
    onSource?.(bytes);
    if (!zstdRaw) d.update(bytes);
    else {
      for (let at = 0; at < bytes.length; at += RAW_BLOCK) {
        const block = bytes.subarray(at, at + RAW_BLOCK);
        writeRawBlockHeader(header, 0, block.length, done + at + block.length === size);
        d.update(header);
        d.update(block);
      }
    }
    done += bytes.length;
  }
}

/** The ETag S3 gives a part without SSE-KMS: its MD5 in hex, quoted. */
export function md5Etag(md5Base64: string): string {
  return `"${Buffer.from(md5Base64, 'base64').toString('hex')}"`;
}

/**
 * The ETag S3 (and RGW, MinIO) gives a completed multipart object without SSE-KMS: the MD5 of the parts'
 * binary MD5s, then `-<parts>`.
 */
export function multipartEtag(partMd5sBase64: readonly string[]): string {
  const h = createHash('md5');
  for (const m of partMd5sBase64) h.update(Buffer.from(m, 'base64'));
  return `"${h.digest('hex')}-${partMd5sBase64.length}"`;
}

/** ETags as stores write them: with or without quotes, any case. */
export function sameEtag(a: string | undefined, b: string | undefined): boolean {
  const norm = (e: string | undefined) => e?.replace(/"/g, '').toLowerCase();
  return a !== undefined && norm(a) === norm(b);
}
