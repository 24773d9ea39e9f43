// `heapdump list / get / url / summary / inspect <key>` against a real Ceph RGW 16 (docs/rgw-facts.md), on
// dumps the real uploader stored from a real JVM's dump with the put-only subuser, read with the owner's key.
// Without Ceph this is one skipped test (test/support/rgw.ts says when, and how to install it).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { GetObjectCommand, PutBucketPolicyCommand, type S3Client } from '@aws-sdk/client-s3';
import { developerEnv } from '../../../test/support/developer-env.ts';
import { HeldJvm } from '../../../test/support/java.ts';
import { RUN_SOURCE } from '../../../test/support/node.ts';
import { run } from '../../../test/support/processes.ts';
import {
  describeWithRgw,
  newRgwBucket,
  type RgwCredential,
  type RgwServer,
  rgwAdmin,
  rgwClient,
  rgwForSuite,
} from '../../../test/support/rgw.ts';
import { startS3Proxy } from '../../../test/support/s3-proxy.ts';
import type { UploaderProcess } from '../../../test/support/uploader.ts';
import { shipDump } from './ship.ts';

const cli = join(import.meta.dirname, '../src/main.ts');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describeWithRgw('heapdump against a real Ceph RGW', () => {
  let rgw: RgwServer;
  let owner: S3Client;
  let bucket: string;
  let dir: string;
  let original: Buffer;
  const keys: Record<string, string> = {};
  /** The developer's environment: the gateway and the owner's key. */
  let env: NodeJS.ProcessEnv;
  const heapdump = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    run(process.execPath, [...RUN_SOURCE, cli, ...args], { ...env, ...extra }, 60_000);

  /** Ships `dump` as pod `pod` with the real uploader (--once); resolves with its key. */
  async function upload(
    pod: string,
    extra: Record<string, string>,
    credential: RgwCredential = rgw.putOnly,
  ): Promise<{ key: string; uploader: UploaderProcess }> {
    const { key, uploader } = await shipDump(rgw, join(dir, pod), join(dir, 'java_pid1.hprof'), {
      HEAPDUMP_BUCKET: bucket,
      AWS_REGION: rgw.region,
      AWS_ACCESS_KEY_ID: credential.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credential.secretAccessKey,
      POD_NAME: pod,
      ...extra,
    });
    return { key, uploader };
  }

  before(async () => {
    rgw = await rgwForSuite();
    owner = rgwClient(rgw);
    bucket = await newRgwBucket(rgw, 'cli');
    dir = await mkdtemp(join(tmpdir(), 'kh-rgw-cli-'));
    const jvm = await HeldJvm.start({ alphas: 30_000, betas: 100, gammas: 10, alphaArrays: 3 });
    try {
      await jvm.dump(join(dir, 'java_pid1.hprof'));
    } finally {
      await jvm.close();
    }
    original = await readFile(join(dir, 'java_pid1.hprof'));
    // Three pods ship the same dump with each compression, a second apart (their key times differ).
    for (const [pod, app, compression] of [
      ['shop-1', 'shop', 'gzip'],
      ['shop-2', 'shop', 'zstd'],
      ['billing-1', 'billing', 'none'],
    ] as const) {
      keys[pod] = (await upload(pod, { HEAPDUMP_APP: app, HEAPDUMP_COMPRESSION: compression })).key;
      await new Promise((r) => setTimeout(r, 1100));
    }
    env = developerEnv({ home: dir, credential: rgw.owner, bucket, endpoint: rgw.endpoint });
  });
  after(async () => {
    owner?.destroy();
    await rgw?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('list: newest first, with the verdicts and sizes from the summaries', async () => {
    const r = await heapdump(['list', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const entries = JSON.parse(r.stdout) as {
      key: string;
      summary: string;
      verdict: string;
      sha256: string;
      originalBytes: number;
      compression: string;
    }[];
    assert.deepEqual(
      entries.map((e) => [e.key, e.summary, e.verdict, e.compression, e.originalBytes, e.sha256]),
      [
        [keys['billing-1'], 'stored', 'complete', 'none', original.length, sha256(original)],
        [keys['shop-2'], 'stored', 'complete', 'zstd', original.length, sha256(original)],
        [keys['shop-1'], 'stored', 'complete', 'gzip', original.length, sha256(original)],
      ],
    );
    const table = await heapdump(['list', '--app', 'shop']);
    assert.equal(table.code, 0, table.stderr);
    // The rows, then a rule and the total row.
    const all = table.stdout.trim().split('\n');
    const lines = all.slice(0, -2);
    assert.match(all.at(-1) ?? '', /^total\s+2 dumps\s/);
    assert.match(lines[0]!, /^time\s+namespace\/app\/pod\s+size\s+stored\s+verdict\s+key$/);
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(/\s+/).at(-1)),
      [keys['shop-2'], keys['shop-1']],
    );
  });

  it('get: every compression decompresses to the dump, SHA-256 verified; an interrupted one resumes by Range', async () => {
    for (const pod of ['shop-1', 'shop-2', 'billing-1']) {
      const out = join(dir, `${pod}.hprof`);
      const r = await heapdump(['get', keys[pod]!, '-o', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /sha256 [0-9a-f]{64} verified/);
      assert.equal(sha256(await readFile(out)), sha256(original), pod);
    }
    const key = keys['shop-2']!;
    const stored = Buffer.from(
      await (
        await owner.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
      ).Body!.transformToByteArray(),
    );
    const out = join(dir, 'resumed.hprof');
    const half = Math.floor(stored.length / 2);
    await writeFile(`${out}.download`, stored.subarray(0, half));
    const resumed = await heapdump(['get', key, '-o', out]);
    assert.equal(resumed.code, 0, resumed.stderr);
    const kib = (half / 1024).toFixed(1);
    assert.match(resumed.stdout, new RegExp(`verified, resumed after ${kib} KiB already downloaded$`, 'm'));
    assert.equal(sha256(await readFile(out)), sha256(original));
  });

  it('url: a presigned link that downloads the stored object', async () => {
    const r = await heapdump(['url', keys['billing-1']!, '--expires', '10m']);
    assert.equal(r.code, 0, r.stderr);
    const res = await fetch(r.stdout.trim());
    assert.equal(res.status, 200);
    assert.equal(sha256(Buffer.from(await res.arrayBuffer())), sha256(original));
  });

  it('summary and inspect <key>: the top classes, read from the store', async () => {
    const s = await heapdump(['summary', 'latest', '--app', 'shop', '--top', '5']);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /^Pod {7}prod\/shop-2 \(app shop, node node-1\)$/m);
    assert.match(s.stdout, /^Verdict {3}complete$/m);
    assert.match(s.stdout, /HeapFixture\$Alpha$/m);
    const json = JSON.parse((await heapdump(['summary', keys['shop-1']!, '--json'])).stdout);
    assert.equal(json.dump.sha256, sha256(original));
    assert.deepEqual(json.dump.integrity, { parts: 'md5', object: 'none', head: false });
    for (const pod of ['shop-1', 'shop-2', 'billing-1']) {
      const inspected = await heapdump(['inspect', keys[pod]!, '--json']);
      assert.equal(inspected.code, 0, inspected.stderr);
      const summary = JSON.parse(inspected.stdout);
      assert.deepEqual([summary.verdict, summary.bytes], ['complete', original.length], pod);
    }
  });

  it('list with the put-only key: one line saying access is denied', async () => {
    const r = await heapdump(['list'], {
      AWS_ACCESS_KEY_ID: rgw.putOnly.accessKeyId,
      AWS_SECRET_ACCESS_KEY: rgw.putOnly.secretAccessKey,
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^heapdump: s3:\/\/\S+: access denied; your credentials need read access/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });

  it('a dump uploaded by another RGW user (who owns what it writes): list shows it unreadable and goes on', async () => {
    // An uploader key made as a separate user instead of a subuser (README: use a subuser), allowed to write
    // by a bucket policy: RGW makes it the owner of its objects, which the bucket owner then cannot read.
    const uid = `uploader-${bucket}`;
    const made = (await rgwAdmin(rgw, ['user', 'create', '--uid', uid, '--display-name', uid])) as {
      keys: { access_key: string; secret_key: string }[];
    };
    const other = { accessKeyId: made.keys[0]!.access_key, secretAccessKey: made.keys[0]!.secret_key };
    await owner.send(
      new PutBucketPolicyCommand({
        Bucket: bucket,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: [`arn:aws:iam:::user/${uid}`] },
              Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
              Resource: [`arn:aws:s3:::${bucket}/*`],
            },
          ],
        }),
      }),
    );
    const { key } = await upload('other-1', { HEAPDUMP_APP: 'other' }, other);
    const r = await heapdump(['list', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const entries = JSON.parse(r.stdout) as { key: string; summary: string }[];
    assert.deepEqual(
      entries.map((e) => [e.key, e.summary]),
      [
        [key, 'unreadable'],
        [keys['billing-1'], 'stored'],
        [keys['shop-2'], 'stored'],
        [keys['shop-1'], 'stored'],
      ],
    );
  });

  it('HEAPDUMP_S3_CHECKSUM=crc32 (which RGW ignores) and a part corrupted in flight: the summary claims no check, get refuses it', async () => {
    const proxy = await startS3Proxy(rgw.endpoint, [
      { operation: 'UploadPart', fault: { kind: 'corrupt-body', offset: 1000 } },
    ]);
    try {
      const { key, uploader } = await upload(
        'crc32-1',
        { HEAPDUMP_APP: 'crc32', HEAPDUMP_S3_CHECKSUM: 'crc32', HEAPDUMP_S3_ENDPOINT: proxy.endpoint },
        rgw.owner,
      );
      assert.equal(
        uploader.count((l) => l.level === 'warn' && l.storeChecksCrc32 === false),
        1,
        'the uploader says nothing checks the parts',
      );
      assert.deepEqual(
        proxy.seen.filter((s) => s.fault),
        [{ operation: 'UploadPart', fault: 'corrupt-body' }],
      );
      const json = JSON.parse((await heapdump(['summary', key, '--json'])).stdout);
      assert.deepEqual(json.dump.integrity, { parts: 'none', object: 'none', head: true });
      const out = join(dir, 'crc32.hprof');
      const r = await heapdump(['get', key, '-o', out]);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /^heapdump: s3:\/\/\S+: /);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      await assert.rejects(readFile(out), { code: 'ENOENT' });
    } finally {
      await proxy.close();
    }
  });
});
