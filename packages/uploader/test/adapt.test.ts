// Compression that follows the link, in-process: a block sent as a raw zstd frame decodes (Node's decoder and
// the zstd tool) to exactly its bytes, after whatever compressed frames precede it in the part, piped or read,
// and its digests are those of what is sent; blocks go raw only while a connection waits and the writer is
// ahead, never with redaction or gzip.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFile, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { crc32, gunzipSync, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { bulkyDump } from '../../hprof/test/synthetic.ts';
import { Adapt } from '../src/adapt.ts';
import { blockSize, MAX_DUMP_BYTES } from '../src/blocks.ts';
import { crc32Base64Of } from '../src/crc32.ts';
import { digestInto, PartDigester } from '../src/digests.ts';
import { DumpFollower } from '../src/follower.ts';
import { Limiter } from '../src/limiter.ts';
import { FileRangeBody, RANGE_BODY_BYTES } from '../src/part-body.ts';
import { compressedParts } from '../src/parts.ts';
import { RAW_BLOCK, RAW_FRAME_HEADER, rawFrameBytes } from '../src/zstd-raw.ts';
import { collect, md5 } from './plans.ts';

const MiB = 1024 * 1024;
/** What the zstd tool makes of `bytes`: an independent decoder. */
const zstdTool = (bytes: Buffer) => {
  const r = spawnSync('zstd', ['-d', '-c', '-q'], { input: bytes, maxBuffer: 256 * MiB });
  assert.equal(r.status, 0, String(r.stderr));
  return r.stdout;
};

async function piped(body: FileRangeBody): Promise<Buffer> {
  const received: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    const slow = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _enc, done) {
        received.push(Buffer.from(chunk)); // the body reuses `chunk` once this write is done
        setTimeout(done, 0);
      },
    });
    slow.on('finish', resolve).on('error', reject);
    body.pipe(slow);
  });
  return Buffer.concat(received);
}

/** Tells `adapt` the link stored `bytesPerSecond` for a second. */
function stores(adapt: Adapt, bytesPerSecond: number): void {
  adapt.partStarted(0);
  adapt.partEnded(bytesPerSecond, 1000);
}

describe('a raw zstd frame streamed from the file', () => {
  let dir: string;
  let bytes: Buffer;
  let path: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kh-raw-frame-'));
    bytes = bulkyDump(4);
    path = join(dir, 'f');
    await writeFile(path, bytes);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('decodes to exactly the range after its lead, piped or read, with the digests of what is sent', async () => {
    const fh = await open(path, 'r');
    const leadContent = Buffer.from('compressed before the raw frame '.repeat(1000));
    const lead = [zstdCompressSync(leadContent)];
    const start = 4321;
    for (const size of [
      1,
      RAW_BLOCK - 1,
      RAW_BLOCK,
      RAW_BLOCK + 1,
      2 * RAW_BLOCK,
      2 * RAW_BLOCK + 5,
      3 * MiB + 7,
    ]) {
      const range = bytes.subarray(start, start + size);
      const expected = Buffer.concat([leadContent, range]);
      const body = await piped(new FileRangeBody(fh, start, size, { lead, zstdRaw: true }));
      assert.equal(body.length, lead[0]!.length + rawFrameBytes(size), `size ${size}`);
      assert.ok(zstdDecompressSync(body).equals(expected), `size ${size}: Node's decoder`);
      assert.ok(zstdTool(body).equals(expected), `size ${size}: the zstd tool`);
      const read = await buffer(new FileRangeBody(fh, start, size, { lead, zstdRaw: true }));
      assert.ok(read.equals(body), `size ${size}: read as piped`);
      const d = new PartDigester(true);
      d.update(lead[0]!);
      await digestInto(d, fh, start, size, Buffer.allocUnsafe(MiB), true);
      assert.deepEqual(d.digests(), { crc32: crc32Base64Of(crc32(body)), md5: md5(body) }, `size ${size}`);
    }
    await fh.close();
  });
});

describe('zstd parts that follow the link', () => {
  let dir: string;
  let dump: Buffer;
  let path: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kh-adapt-'));
    dump = bulkyDump(37, 'pattern'); // compresses well: a part is several blocks, 5 in all
    path = join(dir, 'java_pid1.hprof');
    await writeFile(path, dump);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function follow(file: string) {
    const fh = await open(file, 'r');
    const follower = new DumpFollower(fh, {
      hprof: true,
      gzip: false,
      quietMs: 60_000,
      pollMs: 10,
      maxBytes: MAX_DUMP_BYTES,
    });
    const following = follower.follow();
    return { fh, follower, following };
  }

  /** A link far faster than compression whose budget has room every other time; remembers what it was asked. */
  function alternating(): Adapt & { costs: number[] } {
    const costs: number[] = [];
    const adapt = new Adapt((cost) => {
      costs.push(cost);
      return costs.length % 2 === 1;
    });
    stores(adapt, 1e12);
    return Object.assign(adapt, { costs });
  }

  it('sends a block raw when a connection waits, compressed otherwise: one stream, exact parts', async () => {
    const { fh, follower, following } = await follow(path);
    await following;
    const adapt = alternating();
    const parts = await collect(
      compressedParts({ fh, follower, md5: () => true, adapt, hash: createHash('sha256') }, 'zstd', 1, 1),
    );
    const blocks = Math.ceil(dump.length / blockSize(1));
    assert.ok(adapt.rawBlocks > 0 && adapt.rawBlocks < blocks, `${adapt.rawBlocks} of ${blocks} raw`);
    const stored = Buffer.concat(parts.map((p) => p.bytes));
    assert.ok(zstdDecompressSync(stored).equals(dump));
    assert.ok(zstdTool(stored).equals(dump));
    let next = 1;
    let rawEnded = 0;
    for (const [i, { plan, bytes }] of parts.entries()) {
      assert.equal(plan.record.firstBlock, next);
      next = plan.record.lastBlock + 1;
      assert.equal(plan.size, bytes.length);
      assert.deepEqual(plan.digests, { crc32: crc32Base64Of(crc32(bytes)), md5: md5(bytes) });
      if (i < parts.length - 1) assert.ok(plan.size >= 5 * MiB, `part ${i + 1}: ${plan.size}`);
      // A part ending raw holds its compressed lead in memory and reads the block from the file.
      const lastSize = Math.min(blockSize(1), dump.length - (plan.record.lastBlock - 1) * blockSize(1));
      const lead = bytes.length - rawFrameBytes(lastSize);
      const endsRaw =
        lead >= 0 && bytes.subarray(lead, lead + RAW_FRAME_HEADER.length).equals(RAW_FRAME_HEADER);
      if (endsRaw) rawEnded++;
      assert.equal(plan.cost, endsRaw ? lead + RANGE_BODY_BYTES : plan.size);
    }
    assert.equal(rawEnded, adapt.rawBlocks, 'each raw block ends its part');
    assert.equal(next, blocks + 1, 'every block once');
    assert.ok(adapt.costs.every((c) => c >= RANGE_BODY_BYTES));
    // A resume from the second part continues the stream exactly.
    const second = parts[1]!.plan.record;
    const resumed = await collect(
      compressedParts(
        { fh, follower, md5: () => false, adapt: alternating(), hash: createHash('sha256') },
        'zstd',
        second.firstBlock,
        second.partNumber,
      ),
    );
    const head = Buffer.concat([parts[0]!.bytes, ...resumed.map((p) => p.bytes)]);
    assert.ok(zstdDecompressSync(head).equals(dump));
    await fh.close();
  });

  it('never sends raw with redaction or gzip', async () => {
    const { fh, follower, following } = await follow(path);
    await following;
    for (const [compression, redact] of [
      ['zstd', 'strings'],
      ['gzip', undefined],
    ] as const) {
      const adapt = alternating();
      const src = {
        fh,
        follower,
        md5: () => false,
        adapt,
        hash: createHash('sha256'),
        ...(redact ? { redact } : {}),
      };
      const parts = await collect(compressedParts(src, compression, 1, 1));
      assert.equal(adapt.rawBlocks, 0);
      assert.deepEqual(adapt.costs, [], 'not even asked');
      const stored = Buffer.concat(parts.map((p) => p.bytes));
      assert.equal(
        (compression === 'gzip' ? gunzipSync(stored) : zstdDecompressSync(stored)).length,
        dump.length,
      );
    }
    await fh.close();
  });

  it('compresses while the writer is not ahead of the block, then follows the link', async () => {
    const growing = join(dir, 'growing.hprof');
    await writeFile(growing, dump.subarray(0, 12 * MiB)); // block 1 and half of block 2
    const { fh, follower, following } = await follow(growing);
    const adapt = new Adapt(() => true);
    stores(adapt, 1e12);
    const produced = collect(
      compressedParts({ fh, follower, md5: () => false, adapt, hash: createHash('sha256') }, 'zstd', 1, 1),
    );
    await new Promise((r) => setTimeout(r, 100));
    await appendFile(growing, dump.subarray(12 * MiB));
    const parts = await produced;
    await following;
    const first = parts[0]!.bytes;
    assert.notEqual(first[4]! & 0x04, 0, 'block 1 is a compressed frame (with its checksum), not a raw one');
    assert.ok(adapt.rawBlocks >= 1, 'blocks the writer was ahead of went raw');
    assert.ok(zstdDecompressSync(Buffer.concat(parts.map((p) => p.bytes))).equals(dump));
    await fh.close();
  });
});

describe('the choice between compressing a block and sending it raw', () => {
  it('goes raw only once measured, while the link stores faster than blocks compress and the budget has room', () => {
    let room = true;
    let asked = 0;
    const adapt = new Adapt(() => {
      asked++;
      return room;
    });
    assert.equal(adapt.wantsRaw(1), false, 'nothing measured yet: compress');
    stores(adapt, 100e6);
    assert.equal(adapt.wantsRaw(1), false, 'no block compressed yet');
    adapt.blockCompressed(400e6, 1); // one core compresses faster than a 1 Gbit/s link stores
    assert.equal(adapt.wantsRaw(1), false);
    assert.equal(asked, 0, 'the budget is not asked before the rates say raw');
    const fast = new Adapt(() => room);
    fast.blockCompressed(400e6, 1);
    stores(fast, 2e9); // a fast store
    assert.equal(fast.wantsRaw(1), true);
    room = false;
    assert.equal(fast.wantsRaw(1), false, 'no room in the budget: compress meanwhile');
  });

  it("measures the link over the time parts are in flight, not each part's own time", () => {
    const adapt = new Adapt(() => true);
    adapt.blockCompressed(100e6, 1);
    // Four parts of 100 MB overlap for one second: 400 MB/s stored, though each part took a second.
    for (let i = 0; i < 4; i++) adapt.partStarted(1000);
    for (let i = 0; i < 4; i++) adapt.partEnded(100e6, 2000);
    assert.equal(adapt.wantsRaw(1), true);
    // Idle time between parts does not count; a part given up stores nothing but takes its time.
    adapt.partStarted(10_000);
    adapt.partEnded(0, 12_000); // 400 MB in 3 s: 133 MB/s
    assert.equal(adapt.wantsRaw(1), true);
    adapt.partStarted(20_000);
    adapt.partEnded(0, 22_000); // 400 MB in 5 s: 80 MB/s
    assert.equal(adapt.wantsRaw(1), false);
    adapt.blockCompressed(1, 0); // nothing measured in no time
    assert.equal(adapt.wantsRaw(1), false);
  });
});

describe('the budget, asked ahead', () => {
  it('would grant only a cost that fits while nobody waits', async () => {
    const limiter = new Limiter({ slots: 2, bytes: 10 });
    assert.equal(limiter.wouldGrant(10), true);
    assert.equal(limiter.wouldGrant(11), false);
    const a = await limiter.acquire(6);
    assert.equal(limiter.wouldGrant(4), true);
    assert.equal(limiter.wouldGrant(5), false);
    const b = limiter.acquire(6); // waits: a smaller cost would now overtake it
    assert.equal(limiter.wouldGrant(1), false);
    a();
    const releaseB = await b;
    const c = await limiter.acquire(1);
    assert.equal(limiter.wouldGrant(1), false, 'no slot left');
    releaseB();
    c();
    assert.equal(limiter.wouldGrant(10), true);
  });
});
