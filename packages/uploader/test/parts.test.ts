// Part production and the pieces under it, in-process: parts cover the file exactly once with the right
// digests, whatever the compression and wherever a resume starts; a range body streams exact bytes through
// reused buffers; a block is compressed through two reused pieces; the process-wide budget grants in order and never over its limits.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { crc32, gunzipSync, zstdDecompressSync } from 'node:zlib';
import { HprofRedactor, SymbolUses } from '@kube-heapdump/hprof';
import { bulkyDump } from '../../hprof/test/synthetic.ts';
import { blockSize, MAX_DUMP_BYTES } from '../src/blocks.ts';
import { compressRange } from '../src/compressor.ts';
import { crc32Base64Of } from '../src/crc32.ts';
import { DumpFollower } from '../src/follower.ts';
import { Limiter } from '../src/limiter.ts';
import { FileRangeBody, RANGE_BODY_BYTES } from '../src/part-body.ts';
import { compressedParts, type PartSource, rawParts } from '../src/parts.ts';
import { collect, md5 } from './plans.ts';

const MiB = 1024 * 1024;

/** The symbols `bytes` uses as names, as `heapdump redact` finds them. */
function namesOf(bytes: Buffer): Set<number> {
  const uses = new SymbolUses();
  uses.push(bytes);
  return uses.ids;
}

/** `bytes` redacted (strings) as `heapdump redact` does. */
function redactedCopy(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  new HprofRedactor('strings', { keepSymbols: namesOf(bytes) }).push(out);
  return out;
}

describe('part production', () => {
  let dir: string;
  let dump: Buffer;
  let path: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kh-parts-'));
    dump = bulkyDump(19); // 2 full blocks and a short one
    path = join(dir, 'java_pid1.hprof');
    await writeFile(path, dump);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function source(md5For: (n: number) => boolean): Promise<PartSource & { close(): Promise<void> }> {
    const fh = await open(path, 'r');
    const follower = new DumpFollower(fh, {
      hprof: true,
      gzip: false,
      quietMs: 1000,
      pollMs: 10,
      maxBytes: MAX_DUMP_BYTES,
    });
    void follower.follow();
    return { fh, follower, md5: md5For, hash: createHash('sha256'), close: () => fh.close() };
  }

  it('raw: part n is block n, with its CRC32 and, when asked, its MD5; done parts are skipped', async () => {
    const src = await source((n) => n === 2);
    const parts = await collect(rawParts(src, new Set()));
    assert.deepEqual(
      parts.map((p) => p.plan.record),
      [1, 2, 3].map((n) => ({ partNumber: n, firstBlock: n, lastBlock: n })),
    );
    assert.ok(Buffer.concat(parts.map((p) => p.bytes)).equals(dump));
    for (const { plan, bytes } of parts) {
      assert.equal(plan.size, bytes.length);
      assert.equal(plan.digests.crc32, crc32Base64Of(crc32(bytes)));
      assert.equal(plan.digests.md5, plan.record.partNumber === 2 ? md5(bytes) : undefined);
      assert.equal(plan.cost, RANGE_BODY_BYTES, 'a raw part holds only its streaming buffers');
    }
    const resumed = await collect(rawParts(src, new Set([1, 3])));
    assert.deepEqual(
      resumed.map((p) => p.plan.record.partNumber),
      [2],
    );
    await src.close();
  });

  for (const compression of ['zstd', 'gzip'] as const) {
    it(`${compression}: blocks become independent frames, parts of at least 5 MiB, resumable at any part`, async () => {
      const src = await source(() => true);
      const parts = await collect(compressedParts(src, compression, 1, 1));
      const unpack = (b: Buffer) => (compression === 'zstd' ? zstdDecompressSync(b) : gunzipSync(b));
      assert.ok(unpack(Buffer.concat(parts.map((p) => p.bytes))).equals(dump));
      let next = 1;
      for (const [i, { plan, bytes }] of parts.entries()) {
        assert.equal(plan.record.partNumber, i + 1);
        assert.equal(plan.record.firstBlock, next);
        next = plan.record.lastBlock + 1;
        if (i < parts.length - 1) assert.ok(plan.size >= 5 * MiB, `part ${i + 1}: ${plan.size}`);
        assert.equal(plan.digests.md5, md5(bytes));
        assert.equal(plan.cost, plan.size);
      }
      assert.equal(next, Math.ceil(dump.length / blockSize(1)) + 1, 'every block once');
      // A resume from the second part makes the same parts again.
      const second = parts[1]!.plan.record;
      const resumed = await collect(compressedParts(src, compression, second.firstBlock, second.partNumber));
      assert.deepEqual(
        resumed.map((p) => p.bytes.toString('base64')),
        parts.slice(1).map((p) => p.bytes.toString('base64')),
      );
      await src.close();
      // Killed after the last part was recorded (before or after Complete): the resumed run reads the sent
      // bytes again to the file's end, not to the end of a full last block (the file is shorter: that read
      // once called the whole dump truncated and uploaded it again under a new key), and makes no part.
      const last = parts.at(-1)!.plan;
      const after = await source(() => true);
      after.sent = new Map([[last.record.partNumber, last.sha256]]);
      const none = await collect(
        compressedParts(after, compression, last.record.lastBlock + 1, last.record.partNumber + 1),
      );
      assert.deepEqual(none, []);
      await after.close();
    });
  }

  it('redacted: raw and compressed parts hold the redacted dump, identical when resumed mid-way', async () => {
    const expected = redactedCopy(dump);
    assert.ok(!expected.equals(dump) && expected.length === dump.length);
    const src = { ...(await source(() => true)), redact: 'strings' as const };
    const raw = await collect(rawParts(src, new Set()));
    assert.ok(Buffer.concat(raw.map((p) => p.bytes)).equals(expected));
    for (const { plan, bytes } of raw) assert.equal(plan.digests.crc32, crc32Base64Of(crc32(bytes)));
    const resumed = await collect(rawParts(src, new Set([1])));
    assert.ok(Buffer.concat(resumed.map((p) => p.bytes)).equals(expected.subarray(blockSize(1))));
    const whole = await collect(compressedParts(src, 'zstd', 1, 1));
    assert.ok(zstdDecompressSync(Buffer.concat(whole.map((p) => p.bytes))).equals(expected));
    const later = await collect(compressedParts(src, 'zstd', 2, 7));
    assert.ok(
      zstdDecompressSync(Buffer.concat(later.map((p) => p.bytes))).equals(expected.subarray(blockSize(1))),
    );
    await src.close();
  });

  it('never reads past the size limit: a file larger is followed up to it and called incomplete', async () => {
    const fh = await open(path, 'r');
    try {
      const follower = new DumpFollower(fh, {
        hprof: true,
        gzip: false,
        quietMs: 1000,
        pollMs: 10,
        maxBytes: 5 * MiB,
      });
      const following = follower.follow();
      const parts = await collect(
        rawParts({ fh, follower, md5: () => false, hash: createHash('sha256') }, new Set()),
      );
      const r = await following;
      assert.equal(r.size, 5 * MiB);
      assert.equal(r.verdict, 'incomplete');
      assert.match(r.reason ?? '', /grew past the 5242880 bytes allowed \(HEAPDUMP_MAX_DUMP_BYTES\)/);
      assert.ok(Buffer.concat(parts.map((p) => p.bytes)).equals(dump.subarray(0, 5 * MiB)));
    } finally {
      await fh.close();
    }
  });

  it('an empty file is one empty part', async () => {
    const empty = join(dir, 'empty.hprof');
    await writeFile(empty, '');
    const fh = await open(empty, 'r');
    const follower = new DumpFollower(fh, {
      hprof: true,
      gzip: false,
      quietMs: 50,
      pollMs: 10,
      maxBytes: MAX_DUMP_BYTES,
    });
    void follower.follow().catch(() => {});
    const parts = await collect(
      compressedParts({ fh, follower, md5: () => false, hash: createHash('sha256') }, 'zstd', 1, 1),
    );
    assert.equal(parts.length, 1);
    assert.equal(zstdDecompressSync(parts[0]!.bytes).length, 0);
    await fh.close();
  });
});

describe('block compression', () => {
  it('makes one frame per range, fed through two reused pieces, and keeps concurrent ranges apart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kh-compress-'));
    try {
      const bytes = bulkyDump(5);
      const path = join(dir, 'f');
      await writeFile(path, bytes);
      const fh = await open(path, 'r');
      const ranges = [
        { start: 3, size: 3 * MiB + 11 },
        { start: 2 * MiB, size: bytes.length - 2 * MiB },
        { start: 0, size: 0 },
      ];
      for (const compression of ['zstd', 'gzip'] as const) {
        const seen = ranges.map(() => [] as Buffer[]);
        const pieceBuffers = new Set<ArrayBuffer>();
        // All at once, as several dumps would ask: each must get its own range's bytes, in order.
        const frames = await Promise.all(
          ranges.map((r, i) =>
            compressRange(
              {
                fh,
                ...r,
                onPiece: (piece) => {
                  pieceBuffers.add(piece.buffer as ArrayBuffer);
                  seen[i]!.push(Buffer.from(piece));
                },
              },
              compression,
            ),
          ),
        );
        const unpack = compression === 'zstd' ? zstdDecompressSync : gunzipSync;
        for (const [i, r] of ranges.entries()) {
          const want = bytes.subarray(r.start, r.start + r.size);
          assert.ok(Buffer.concat(seen[i]!).equals(want), `${compression} range ${i}: pieces in order`);
          assert.ok(seen[i]!.every((p) => p.length <= MiB));
          assert.ok(unpack(Buffer.concat(frames[i]!)).equals(want), `${compression} range ${i}: one frame`);
        }
        assert.ok(pieceBuffers.size <= 2, `${pieceBuffers.size} piece buffers for ${compression}`);
      }
      await fh.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('redacts what it compresses, in place, and says so when the file is shorter than the range', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kh-compress-'));
    try {
      const bytes = bulkyDump(3);
      const path = join(dir, 'f');
      await writeFile(path, bytes);
      const fh = await open(path, 'r');
      const redactor = new HprofRedactor('strings', { keepSymbols: namesOf(bytes) });
      const frame = await compressRange(
        { fh, start: 0, size: bytes.length, onPiece: (p) => redactor.push(p) },
        'zstd',
      );
      const expected = redactedCopy(bytes);
      assert.ok(!expected.equals(bytes));
      assert.ok(zstdDecompressSync(Buffer.concat(frame)).equals(expected));
      await assert.rejects(
        compressRange({ fh, start: bytes.length - 10, size: 2 * MiB }, 'gzip'),
        new RegExp(`the dump file is shorter than ${bytes.length - 10 + MiB} bytes`),
      );
      await fh.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a part body streamed from the file', () => {
  it('delivers the exact range through a slow consumer, reusing its few buffers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kh-body-'));
    try {
      const bytes = bulkyDump(3);
      const path = join(dir, 'f');
      await writeFile(path, bytes);
      const fh = await open(path, 'r');
      const start = 12_345;
      const size = 2 * MiB + 7;
      const received: Buffer[] = [];
      const seenBuffers = new Set<ArrayBuffer>();
      const slow = new Writable({
        highWaterMark: 1,
        write(chunk: Buffer, _enc, done) {
          seenBuffers.add(chunk.buffer as ArrayBuffer);
          received.push(Buffer.from(chunk)); // the body may reuse `chunk` once this write is done
          setTimeout(done, 1);
        },
      });
      await new Promise<void>((resolve, reject) => {
        slow.on('finish', resolve).on('error', reject);
        new FileRangeBody(fh, start, size).pipe(slow);
      });
      assert.ok(Buffer.concat(received).equals(bytes.subarray(start, start + size)));
      assert.ok(seenBuffers.size <= 4, `${seenBuffers.size} distinct buffers for ${received.length} writes`);
      // Read instead of piped: the same bytes.
      assert.ok(
        (await buffer(new FileRangeBody(fh, start, size))).equals(bytes.subarray(start, start + size)),
      );
      await fh.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the process-wide budget', () => {
  it('grants in arrival order within its slots and bytes, and a too-large cost alone', async () => {
    const limiter = new Limiter({ slots: 2, bytes: 10 });
    const order: string[] = [];
    const take = async (name: string, cost: number) => {
      const release = await limiter.acquire(cost);
      order.push(name);
      return release;
    };
    const a = await take('a', 6);
    const b = take('b', 6); // does not fit beside a
    const c = take('c', 1); // would fit, but must not overtake b
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(order, ['a']);
    a();
    const releaseB = await b;
    const releaseC = await c;
    assert.deepEqual(order, ['a', 'b', 'c']);
    assert.deepEqual(limiter.inFlight, { slots: 2, bytes: 7 });
    const huge = take('huge', 50);
    releaseB();
    releaseC();
    (await huge)();
    assert.deepEqual(order, ['a', 'b', 'c', 'huge']);
    assert.deepEqual(limiter.inFlight, { slots: 0, bytes: 0 });
  });
});
