// Dumps from files and streams in-process (file.ts): compression told by magic bytes, the one decompressor
// the readers share (inspect, `heapdump get`, `heapdump redact`), and a stream that breaks off.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { test } from 'node:test';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { analyzeStream, createDecompressor, detectCompression } from '../src/file.ts';
import { sampleDump } from './synthetic.ts';

const dump = sampleDump(8);
const stored = {
  none: dump,
  gzip: Buffer.concat([gzipSync(dump.subarray(0, 40)), gzipSync(dump.subarray(40))]),
  zstd: Buffer.concat([zstdCompressSync(dump.subarray(0, 40)), zstdCompressSync(dump.subarray(40))]),
} as const;

test('compression from the first bytes; anything unknown is read as it is', () => {
  assert.equal(detectCompression(stored.gzip), 'gzip');
  assert.equal(detectCompression(stored.zstd), 'zstd');
  assert.equal(detectCompression(dump), 'none');
  assert.equal(detectCompression(Buffer.from([0x1f])), 'none');
});

test('the decompressor of each compression gives the dump back, every gzip member and zstd frame', async () => {
  for (const compression of ['none', 'gzip', 'zstd'] as const) {
    const out = await buffer(Readable.from([stored[compression]]).pipe(createDecompressor(compression)));
    assert.deepEqual(out, dump, compression);
  }
});

test('a stored stream cut short is an incomplete dump, saying where; corrupt data is invalid', async () => {
  for (const compression of ['none', 'gzip', 'zstd'] as const) {
    const whole = await analyzeStream([stored[compression]], compression);
    assert.equal(whole.verdict, 'complete', compression);
    assert.equal(whole.storedBytes, stored[compression].length);
  }
  const cut = stored.gzip.subarray(0, stored.gzip.length - 30);
  const r = await analyzeStream([cut], 'gzip');
  assert.equal(r.verdict, 'incomplete');
  assert.match(r.reason ?? '', new RegExp(`^the gzip stream is cut after ${cut.length} stored bytes$`));
  const corrupt = Buffer.from(stored.zstd);
  corrupt.fill(0xff, 8, 24);
  assert.equal((await analyzeStream([corrupt], 'zstd')).verdict, 'invalid');
});
