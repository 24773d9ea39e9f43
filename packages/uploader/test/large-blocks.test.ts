// Dumps past 62.5 GiB (issue 27.4): their blocks grow up to 2 GiB, and a compressed block's frame held whole
// until its part is sent made memory grow with the dump. Such a block is compressed once for its digests
// (kept alone) and again while its part is sent: the body holds a few chunks, never the frame.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { crc32, zstdDecompressSync } from 'node:zlib';
import { BASE_BLOCKS, blockSize } from '../src/blocks.ts';
import { compressRange } from '../src/compressor.ts';
import { FileChanged } from '../src/dump-file.ts';
import { CompressedRangeBody } from '../src/part-body.ts';
import { compressedWhileSent } from '../src/parts.ts';

const MiB = 1024 * 1024;

describe('blocks past 62.5 GiB (issue 27.4)', () => {
  let dir: string;
  let path: string;
  let data: Buffer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kh-large-'));
    path = join(dir, 'f');
    data = randomBytes(40 * MiB); // incompressible: the frame is as large as the block
    await writeFile(path, data);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('are the ones compressed while sent: every block past the 8,000th (16 MiB to 2 GiB), unless redacting', () => {
    assert.equal(compressedWhileSent(BASE_BLOCKS, false), false);
    assert.equal(compressedWhileSent(BASE_BLOCKS + 1, false), true);
    assert.equal(blockSize(BASE_BLOCKS + 1), 16 * MiB);
    assert.equal(compressedWhileSent(10_000, false), true);
    assert.equal(blockSize(10_000), 2048 * MiB);
    assert.equal(compressedWhileSent(10_000, true), false);
  });

  it('a body compresses its block as the request takes it: the same bytes, a few chunks held at a time', async () => {
    const fh = await open(path, 'r');
    try {
      const frame = Buffer.concat(await compressRange({ fh, start: 0, size: data.length }, 'zstd'));
      const lead = Buffer.from('frames of earlier blocks');
      const body = new CompressedRangeBody(
        fh,
        { start: 0, size: data.length, compression: 'zstd', crc32: crc32(frame) },
        [lead],
      );
      const received: Buffer[] = [];
      let held = 0;
      const slow = new Writable({
        highWaterMark: 1,
        write(chunk: Buffer, _enc, done) {
          held = Math.max(held, body.readableLength);
          received.push(chunk);
          setImmediate(done);
        },
      });
      await new Promise<void>((resolve, reject) => {
        slow.on('finish', resolve).on('error', reject);
        body.pipe(slow);
      });
      const sent = Buffer.concat(received);
      assert.ok(sent.equals(Buffer.concat([lead, frame])), 'the bytes digested before');
      assert.ok(zstdDecompressSync(sent.subarray(lead.length)).equals(data));
      assert.ok(held <= 1 * MiB, `the body held at most ${held} bytes of a ${frame.length}-byte frame`);
    } finally {
      await fh.close();
    }
  });

  it('a block that changed since its digests fails the request with FileChanged, and frees the compressor', {
    timeout: 60_000,
  }, async () => {
    const fh = await open(path, 'r');
    try {
      const frame = Buffer.concat(await compressRange({ fh, start: 0, size: 8 * MiB }, 'zstd'));
      const body = new CompressedRangeBody(
        fh,
        { start: 0, size: 8 * MiB, compression: 'zstd', crc32: crc32(frame) ^ 1 },
        [],
      );
      const request = new Writable({
        write(_chunk, _enc, done) {
          done();
        },
      });
      const failed = new Promise<Error>((resolve) => request.on('error', resolve));
      body.pipe(request);
      assert.ok((await failed) instanceof FileChanged);
      // A request that goes away mid-body frees the process's one compressor too.
      const abandoned = new CompressedRangeBody(
        fh,
        { start: 0, size: 40 * MiB, compression: 'zstd', crc32: 0 },
        [],
      );
      abandoned.once('data', () => abandoned.destroy());
      abandoned.resume();
      const next = await compressRange({ fh, start: 0, size: MiB }, 'zstd');
      assert.ok(zstdDecompressSync(Buffer.concat(next)).equals(data.subarray(0, MiB)));
    } finally {
      await fh.close();
    }
  });
});
