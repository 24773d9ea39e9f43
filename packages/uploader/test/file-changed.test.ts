// A dump file changed while it uploads (issue 27.1, 27.3): rewritten in place, truncated below what was sent,
// or overwritten in a region already sent, before or after the object is complete. Whatever happens, every
// summary in the bucket describes exactly its object's bytes, the object is one file's bytes, the file is
// deleted only once an object holds exactly its bytes, and the change is said in one line. The store's
// answers are held at a chosen request (an SDK middleware), so the change falls where the test puts it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, open, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import {
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Compression, StoredDumpSummary } from '@kube-heapdump/contract';
import { DEFAULT_CREDENTIAL } from '../../../test/support/s3/server.ts';
import { type S3Fixture, startS3Fixture } from '../../../test/support/s3-fixture.ts';
import { bulkyDump } from '../../hprof/test/synthetic.ts';
import { logLines, loopbackClient, podConfig, testShipper } from './fixtures.ts';

process.env.AWS_ACCESS_KEY_ID = DEFAULT_CREDENTIAL.accessKeyId;
process.env.AWS_SECRET_ACCESS_KEY = DEFAULT_CREDENTIAL.secretAccessKey;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const CHANGED =
  'the dump file changed while it was uploaded: uploading it again under a new key, the file kept until then';

type Match = (command: string, input: Record<string, unknown>) => boolean;

/** Holds the first request `when` matches until released; with `fail`, fails every one it matches instead. */
function gate(s3: S3Client, when: Match, fail = false) {
  let release!: () => void;
  let reached!: () => void;
  const released = new Promise<void>((r) => {
    release = r;
  });
  const hit = new Promise<void>((r) => {
    reached = r;
  });
  let held = false;
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const matches = when(context.commandName ?? '', args.input as Record<string, unknown>);
      if (matches && fail) throw new Error('injected: the store is unreachable');
      if (!held && matches) {
        held = true;
        reached();
        await released;
      }
      return next(args);
    },
    { step: 'initialize', name: 'testGate' },
  );
  return { hit, release };
}

describe('a dump file that changes while it uploads (issue 27.1, 27.3)', () => {
  let fixture: S3Fixture;
  let root: string;
  let n = 0;
  before(async () => {
    fixture = await startS3Fixture();
    root = await mkdtemp(join(tmpdir(), 'kh-changed-'));
  });
  after(async () => {
    await fixture.close();
    await rm(root, { recursive: true, force: true });
  });

  async function setUp(
    compression: Compression,
    gateOn: Match,
    o: { fail?: boolean; pod?: string; dir?: string } = {},
  ) {
    const pod = o.pod ?? `changed-${++n}`;
    const dir = o.dir ?? (await mkdtemp(join(root, `${pod}-`)));
    const { log, lines } = logLines('info');
    const cfg = podConfig(dir, fixture.server.endpoint, {
      HEAPDUMP_COMPRESSION: compression,
      POD_NAME: pod,
      HEAPDUMP_QUIET_SECONDS: '1',
    });
    const s3 = loopbackClient(fixture.server.endpoint, log);
    const held = gate(s3, gateOn, o.fail);
    const shipper = testShipper(cfg, s3, log);
    return { dir, pod, lines, held, shipper, path: join(dir, 'java_pid1.hprof') };
  }

  /** Every object under the pod with a summary: its bytes decompressed, and the summary. */
  async function stored(pod: string) {
    const client = fixture.client();
    const listed = await client.send(
      new ListObjectsV2Command({ Bucket: 'dumps', Prefix: `heapdumps/prod/shop/${pod}/` }),
    );
    const keys = (listed.Contents ?? []).map((o) => o.Key!);
    const dumps = keys.filter((k) => !k.endsWith('.summary.json'));
    const withSummary = [];
    for (const key of dumps.filter((k) => keys.includes(`${k}.summary.json`))) {
      const get = async (k: string) =>
        Buffer.from(
          await (
            await client.send(new GetObjectCommand({ Bucket: 'dumps', Key: k }))
          ).Body!.transformToByteArray(),
        );
      const raw = await get(key);
      const summary = JSON.parse((await get(`${key}.summary.json`)).toString()) as StoredDumpSummary;
      const c = summary.dump.compression;
      const bytes = c === 'zstd' ? zstdDecompressSync(raw) : c === 'gzip' ? gunzipSync(raw) : raw;
      withSummary.push({ key, bytes, summary });
    }
    const pending = await client.send(new ListMultipartUploadsCommand({ Bucket: 'dumps' }));
    const orphans = (pending.Uploads ?? []).filter((u) => u.Key?.includes(`/${pod}/`)).length;
    return { dumps, withSummary, orphans };
  }

  /** The summary describes its object exactly, and that object is `expected`; the file is gone. */
  async function assertShippedOnce(pod: string, dir: string, expected: Buffer) {
    const { withSummary, orphans } = await stored(pod);
    assert.equal(withSummary.length, 1, 'one object has a summary');
    const [{ bytes, summary }] = withSummary as [(typeof withSummary)[number]];
    assert.equal(summary.dump.sha256, sha256(bytes), 'the summary describes the stored bytes');
    assert.equal(summary.dump.originalBytes, bytes.length);
    assert.ok(bytes.equals(expected), 'the object is exactly the file as it is now');
    assert.equal(orphans, 0, 'no multipart upload left behind');
    assert.deepEqual(
      (await readdir(dir)).filter((f) => !f.startsWith('.')),
      [],
      'deleted once stored',
    );
  }

  for (const compression of ['none', 'zstd'] as const) {
    it(`${compression}: a file rewritten in place (same inode) mid-upload is uploaded again, never stored mixed`, async () => {
      const a = bulkyDump(21, 'random', 1);
      const b = bulkyDump(21, 'random', 2);
      const t = await setUp(compression, (c, input) => c === 'UploadPartCommand' && input.PartNumber === 2);
      await writeFile(t.path, a, { mode: 0o600 });
      const shipping = t.shipper.ship('java_pid1.hprof');
      await t.held.hit;
      await writeFile(t.path, b); // truncates and writes the same inode, as `cp B.hprof` over it does
      t.held.release();
      await shipping;
      await assertShippedOnce(t.pod, t.dir, b);
      assert.equal(t.lines.filter((l) => l.msg === CHANGED).length, 1, JSON.stringify(t.lines));
    });

    it(`${compression}: a file truncated below what was sent is uploaded again as it is, without a crash`, async () => {
      const a = bulkyDump(21, 'random', 3);
      const t = await setUp(compression, (c, input) => c === 'UploadPartCommand' && input.PartNumber === 2);
      await writeFile(t.path, a, { mode: 0o600 });
      const shipping = t.shipper.ship('java_pid1.hprof');
      await t.held.hit;
      await truncate(t.path, 10 * 1000 * 1000);
      t.held.release();
      await shipping;
      await assertShippedOnce(t.pod, t.dir, a.subarray(0, 10 * 1000 * 1000));
      assert.equal(t.lines.filter((l) => l.msg === CHANGED).length, 1, JSON.stringify(t.lines));
    });
  }

  it('a region already sent, overwritten before the object is complete: uploaded again', async () => {
    const a = bulkyDump(21, 'random', 4);
    const t = await setUp('zstd', (c, input) => c === 'UploadPartCommand' && input.PartNumber === 3);
    await writeFile(t.path, a, { mode: 0o600 });
    const shipping = t.shipper.ship('java_pid1.hprof');
    await t.held.hit;
    const fh = await open(t.path, 'r+');
    await fh.write(Buffer.from('overwritten'), 0, 11, 1000); // in part 1, sent; the size stays
    await fh.close();
    t.held.release();
    await shipping;
    await assertShippedOnce(t.pod, t.dir, patched(a));
    assert.equal(t.lines.filter((l) => l.msg === CHANGED).length, 1);
  });

  it('overwritten after the object is complete: that object gets no summary, the file ships again', async () => {
    const a = bulkyDump(21, 'random', 5);
    const t = await setUp('none', (c) => c === 'CompleteMultipartUploadCommand');
    await writeFile(t.path, a, { mode: 0o600 });
    const shipping = t.shipper.ship('java_pid1.hprof');
    await t.held.hit;
    const fh = await open(t.path, 'r+');
    await fh.write(Buffer.from('overwritten'), 0, 11, 1000);
    await fh.close();
    t.held.release();
    await shipping;
    await assertShippedOnce(t.pod, t.dir, patched(a));
    const { dumps } = await stored(t.pod);
    assert.equal(dumps.length, 2, 'the first object stays, without a summary');
    const told = t.lines.filter((l) => l.msg === CHANGED);
    assert.equal(told.length, 1);
    assert.equal(told[0]!.objectStored, true);
  });

  /** Ships until part 2 fails for good (a run that stopped), then waits `pauseMs`: the next run resumes. */
  async function firstRunStops(compression: Compression, dump: Buffer, pauseMs: number) {
    const first = await setUp(compression, (c, i) => c === 'UploadPartCommand' && i.PartNumber === 2, {
      fail: true,
    });
    await writeFile(first.path, dump, { mode: 0o600 });
    const written = Date.now();
    await assert.rejects(first.shipper.ship('java_pid1.hprof'), /injected/);
    await new Promise((r) => setTimeout(r, pauseMs));
    const next = await setUp(compression, () => false, { pod: first.pod, dir: first.dir });
    return { ...next, written };
  }

  it("resumed, the summary has the dump's timings, not the resumed run's", async () => {
    const a = bulkyDump(21, 'random', 6);
    const t = await firstRunStops('none', a, 1500);
    const resumedAt = Date.now();
    await t.shipper.ship('java_pid1.hprof');
    assert.ok(t.lines.some((l) => l.msg === 'resuming dump upload'));
    await assertShippedOnce(t.pod, t.dir, a);
    const { timings } = (await stored(t.pod)).withSummary[0]!.summary;
    assert.ok(
      Date.parse(timings.firstByteSeen) <= t.written + 50,
      `${timings.firstByteSeen} vs ${t.written}`,
    );
    assert.ok(Date.parse(timings.dumpComplete) < resumedAt, `${timings.dumpComplete} vs ${resumedAt}`);
    assert.ok(timings.uploadAfterDumpSeconds >= 1.5, `${timings.uploadAfterDumpSeconds}`);
  });

  for (const compression of ['none', 'zstd'] as const) {
    it(`${compression}: resumed after the file changed in a part already sent, it is uploaded again`, async () => {
      const a = bulkyDump(21, 'random', 7);
      const t = await firstRunStops(compression, a, 0);
      const fh = await open(t.path, 'r+');
      await fh.write(Buffer.from('overwritten'), 0, 11, 1000);
      await fh.close();
      await t.shipper.ship('java_pid1.hprof');
      await assertShippedOnce(t.pod, t.dir, patched(a));
      assert.equal(t.lines.filter((l) => l.msg === CHANGED).length, 1);
    });
  }
});

/** `a` with "overwritten" at offset 1000, as the tests write it. */
function patched(a: Buffer): Buffer {
  const b = Buffer.from(a);
  b.write('overwritten', 1000);
  return b;
}
