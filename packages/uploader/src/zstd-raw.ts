// zstd frames whose blocks are stored, not compressed (RFC 8878 "Raw_Block"): what the compressed path sends
// for a block when compressing it would hold the upload back (parts.ts). Any zstd decoder reads them with the
// compressed frames around them; making one costs a header per 128 KiB, not a pass of the compressor (which,
// even at its fastest level, costs about as much CPU as sending the bytes). They carry no content checksum:
// the part's CRC32/MD5 cover the transfer and the summary's SHA-256 the dump.

export const RAW_BLOCK_HEADER = 3;
/**
 * Bytes per raw block (the last may hold fewer): a header and its block fill 128 KiB, the frame's window (the
 * compressed frames' too, compressor.ts), so two fill a part body's 256 KiB buffer exactly.
 */
export const RAW_BLOCK = 128 * 1024 - RAW_BLOCK_HEADER;

/**
 * Magic number; frame header descriptor 0 (no content size, not single-segment, no checksum, no
 * dictionary); window descriptor 0x38 (exponent 7: a 2^17-byte window).
 */
export const RAW_FRAME_HEADER: Buffer = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38]);

/** Bytes of a raw frame holding `size` (> 0) bytes. */
export function rawFrameBytes(size: number): number {
  return RAW_FRAME_HEADER.length + size + RAW_BLOCK_HEADER * Math.ceil(size / RAW_BLOCK);
}

/** Writes at `at` in `into` the header of a raw block of `size` (≤ RAW_BLOCK) bytes. */
export function writeRawBlockHeader(into: Buffer, at: number, size: number, last: boolean): void {
  into.writeUIntLE(((size << 3) | (last ? 1 : 0)) >>> 0, at, RAW_BLOCK_HEADER);
}
