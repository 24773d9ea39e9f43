// Decompression of zstd streams made of several frames. Node's zstd decoder before 24.22 stops after the first
// frame and drops the rest (nodejs/node#64741; fixed in 24.22.3, not in 24.21.0), while the format (RFC 8878) and the zstd tool read them all; our
// uploader writes one frame per part. So we find frame ends ourselves from block headers (no decoding
// needed) and give each frame its own decoder.
import { Transform, type TransformCallback } from 'node:stream';
import { createZstdDecompress, type ZstdDecompress } from 'node:zlib';

const FRAME_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;

/** Walks frame and block headers, byte by byte as they arrive, to report where each frame ends. */
export class ZstdFrameWalker {
  private header = Buffer.alloc(0);
  /** Bytes left in the current block body, skippable frame body, or checksum. */
  private remaining = 0;
  private phase: 'magic' | 'frame-header' | 'block-header' | 'block' | 'checksum' = 'magic';
  private lastBlock = false;
  private checksum = false;

  /** Consumes `buf` and returns offsets within it where a frame ended (exclusive end). Throws on bad data. */
  feed(buf: Uint8Array): number[] {
    const ends: number[] = [];
    let p = 0;
    while (p < buf.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, buf.length - p);
        p += n;
        this.remaining -= n;
        if (this.remaining === 0) this.afterBody(ends, p);
        continue;
      }
      const need = this.headerSize();
      const take = Math.min(need - this.header.length, buf.length - p);
      this.header = Buffer.concat([this.header, buf.subarray(p, p + take)]);
      p += take;
      // The frame header's size depends on its first byte: ask again once that byte is in.
      if (this.header.length < this.headerSize()) continue;
      if (this.onHeader() && this.remaining === 0) this.afterBody(ends, p);
    }
    return ends;
  }

  /** True between frames: the stream may end here. */
  get atFrameBoundary(): boolean {
    return this.phase === 'magic' && this.header.length === 0;
  }

  private headerSize(): number {
    switch (this.phase) {
      case 'magic':
        return 4;
      case 'frame-header': {
        if (this.header.length < 1) return 1;
        const d = this.header[0]!;
        const single = (d >> 5) & 1;
        const fcs = [single ? 1 : 0, 2, 4, 8][d >> 6]!;
        return 1 + (single ? 0 : 1) + [0, 1, 2, 4][d & 3]! + fcs;
      }
      case 'block-header':
        return 3;
      default:
        return 0;
    }
  }

  /** Handles a complete header; returns true when a body (possibly empty) follows. */
  private onHeader(): boolean {
    const h = this.header;
    this.header = Buffer.alloc(0);
    switch (this.phase) {
      case 'magic': {
        const magic = h.readUInt32LE(0);
        if (magic === FRAME_MAGIC) this.phase = 'frame-header';
        else if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
          throw new Error(
            'zstd skippable frames (as pzstd writes) are not supported; decompress with zstd -d first',
          );
        } else throw new Error('not a zstd frame (bad magic number)');
        return false;
      }
      case 'frame-header':
        if (h[0]! & 0x08) throw new Error('zstd frame header has the reserved bit set');
        this.checksum = ((h[0]! >> 2) & 1) === 1;
        this.phase = 'block-header';
        return false;
      case 'block-header': {
        const v = h[0]! | (h[1]! << 8) | (h[2]! << 16);
        this.lastBlock = (v & 1) === 1;
        const type = (v >> 1) & 3;
        if (type === 3) throw new Error('zstd block of reserved type');
        this.remaining = type === 1 ? 1 : v >>> 3;
        this.phase = 'block';
        return true;
      }
      default:
        return false;
    }
  }

  private afterBody(ends: number[], p: number): void {
    if (this.phase === 'block') {
      if (!this.lastBlock) this.phase = 'block-header';
      else if (this.checksum) {
        this.phase = 'checksum';
        this.remaining = 4;
        return;
      } else this.endFrame(ends, p);
    } else if (this.phase === 'checksum') {
      this.endFrame(ends, p);
    }
  }

  private endFrame(ends: number[], p: number): void {
    this.phase = 'magic';
    ends.push(p);
  }
}

/**
 * A Transform decompressing a zstd stream of any number of frames. A stream cut inside a frame fails with
 * "unexpected end of file", like gunzip.
 */
export function createZstdMultiFrameDecompress(): Transform {
  const walker = new ZstdFrameWalker();
  let decoder: ZstdDecompress | undefined;
  let out: Transform;

  const open = (): ZstdDecompress => {
    const d = createZstdDecompress();
    d.on('data', (chunk: Buffer) => out.push(chunk));
    // A frame's error (a wrong checksum) reaches `out` through write and close below; unlistened, the
    // 'error' event would crash the process.
    d.on('error', () => {});
    return d;
  };
  const close = (d: ZstdDecompress): Promise<void> =>
    new Promise((resolve, reject) => {
      if (d.errored) return reject(d.errored);
      d.once('end', resolve).once('error', reject);
      d.end();
    });
  const write = (d: ZstdDecompress, chunk: Uint8Array): Promise<void> =>
    new Promise((resolve, reject) => {
      if (d.errored) return reject(d.errored);
      // On a decoding error zlib emits 'error' and never calls the write's callback.
      d.once('error', reject);
      d.write(chunk, (err) => {
        d.off('error', reject);
        if (err) reject(err);
        else resolve();
      });
    });

  out = new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      (async () => {
        let start = 0;
        for (const end of walker.feed(chunk)) {
          decoder ??= open();
          await write(decoder, chunk.subarray(start, end));
          await close(decoder);
          decoder = undefined;
          start = end;
        }
        if (start < chunk.length) {
          decoder ??= open();
          await write(decoder, chunk.subarray(start));
        }
      })().then(() => done(), done);
    },
    flush(done: TransformCallback) {
      if (!walker.atFrameBoundary || decoder) {
        done(new Error('unexpected end of file: the zstd stream is cut inside a frame'));
      } else {
        done();
      }
    },
  });
  return out;
}
