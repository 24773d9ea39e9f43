// How a dump is stored in the bucket. The uploader compresses, the CLI decompresses, the component chooses.

/** Every way a dump can be stored; the first is the default. */
export const COMPRESSIONS = ['zstd', 'gzip', 'none'] as const;

/** `zstd` (independent frames), `gzip` (independent members) or `none` (as the JVM wrote it). */
export type Compression = (typeof COMPRESSIONS)[number];

export const DEFAULT_COMPRESSION: Compression = 'zstd';

export function isCompression(value: unknown): value is Compression {
  return typeof value === 'string' && (COMPRESSIONS as readonly string[]).includes(value);
}

/** The Content-Type of a stored dump: a type, not Content-Encoding, so browsers never decompress a download. */
export const CONTENT_TYPES: Readonly<Record<Compression, string>> = {
  zstd: 'application/zstd',
  gzip: 'application/gzip',
  none: 'application/octet-stream',
};
