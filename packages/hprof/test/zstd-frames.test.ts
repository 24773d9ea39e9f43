// Multi-frame zstd: Node's own decoder stopped after frame one before 24.22 (nodejs/node#64741; 24.21.0 still
// does, 24.22.3 reads them all) and we support Node >= 22.15, so ours must read every frame.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import { constants, zstdCompressSync } from 'node:zlib';
import { analyzeStream, createZstdMultiFrameDecompress } from '../src/index.ts';
import { sampleDump } from './synthetic.ts';

const decode = (bytes: Buffer, pieces = 1) => {
  const size = Math.ceil(bytes.length / pieces);
  const chunks = Array.from({ length: pieces }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
  return buffer(Readable.from(chunks).pipe(createZstdMultiFrameDecompress()));
};

describe('multi-frame zstd decompression', () => {
  const parts = [randomBytes(300_000), Buffer.alloc(2_000_000, 7), Buffer.from('tail')];
  const withChecksum = { params: { [constants.ZSTD_c_checksumFlag]: 1 } };
  const frames = Buffer.concat(parts.map((p, i) => zstdCompressSync(p, i === 1 ? withChecksum : {})));

  it('decodes every frame, however the input is split', async () => {
    for (const pieces of [1, 2, 7, 1000])
      assert.deepEqual(await decode(frames, pieces), Buffer.concat(parts));
  });

  it('agrees with the zstd tool', () => {
    const r = spawnSync('zstd', ['-dc'], { input: frames, maxBuffer: 1 << 26 });
    assert.equal(r.status, 0, String(r.error ?? r.stderr));
    assert.deepEqual(r.stdout, Buffer.concat(parts));
  });

  it('fails on a stream cut inside a frame, and on data that is not zstd', async () => {
    await assert.rejects(decode(frames.subarray(0, frames.length - 3)), /unexpected end of file/);
    await assert.rejects(decode(Buffer.from('plain text, not zstd')), /not a zstd frame/);
  });

  it('fails, without crashing the process, on a frame whose content checksum is wrong', async () => {
    const end = zstdCompressSync(parts[0]!).length + zstdCompressSync(parts[1]!, withChecksum).length;
    const bad = Buffer.from(frames);
    bad[end - 1] = bad[end - 1]! ^ 0xff;
    for (const pieces of [1, 3]) await assert.rejects(decode(bad, pieces), /checksum/);
  });

  it('lets analyzeStream read a dump split over frames', async () => {
    const dump = sampleDump(8);
    const split = Buffer.concat([
      zstdCompressSync(dump.subarray(0, 100)),
      zstdCompressSync(dump.subarray(100)),
    ]);
    const s = await analyzeStream([split], 'zstd');
    assert.equal(s.verdict, 'complete');
    assert.equal(s.bytes, dump.length);
  });
});
