// The uploader against a real S3 implementation nobody here wrote: Ceph's RADOS Gateway 16, which ignores
// If-None-Match at completion and every x-amz-checksum header, and checks only Content-MD5 (docs/rgw-facts.md).
// Real JVM dumps, the real uploader process, the put-only subuser a deployment would give it. Without Ceph
// this is one skipped test (test/support/rgw.ts says when, and how to install it).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { type Compression, parseDumpKey, type StoredDumpSummary, summaryKey } from '@kube-heapdump/contract';
import { createZstdMultiFrameDecompress } from '@kube-heapdump/hprof';
import { captureDumps } from '../../../test/support/dump-capture.ts';
import { runOutOfMemory } from '../../../test/support/java.ts';
import {
  describeWithRgw,
  newRgwBucket,
  type RgwCredential,
  type RgwServer,
  rgwClient,
  rgwForSuite,
} from '../../../test/support/rgw.ts';
import { startS3Proxy } from '../../../test/support/s3-proxy.ts';
import { type LogLine, localUploaderEnv, UploaderProcess } from '../../../test/support/uploader.ts';
import { bulkyDump } from '../../hprof/test/synthetic.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const MiB = 1024 * 1024;
const PREFIX = 'heapdumps/';

let rgw: RgwServer;
let owner: S3Client;
let root: string;
/** A real JVM's OutOfMemoryError dump (mixed heap: compresses like an application's, ~29 MB). */
let template: Buffer;

async function freshDir(name: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir);
  return dir;
}

/** The uploader's environment for `bucket` on the gateway, with `credential` (the put-only one by default). */
function env(
  dir: string,
  bucket: string,
  extra: Record<string, string> = {},
  credential: RgwCredential = rgw.putOnly,
): Record<string, string> {
  return localUploaderEnv(rgw, dir, {
    HEAPDUMP_BUCKET: bucket,
    AWS_REGION: rgw.region,
    AWS_ACCESS_KEY_ID: credential.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credential.secretAccessKey,
    ...extra,
  });
}

const stored = (u: UploaderProcess) => u.waitForLog((l) => l.msg === 'dump stored', 120_000, 'dump stored');

async function dumpKeys(bucket: string): Promise<string[]> {
  const listed = await owner.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (listed.Contents ?? []).map((o) => o.Key!).filter((k) => parseDumpKey(PREFIX, k) !== undefined);
}

async function objectBytes(bucket: string, key: string): Promise<Buffer> {
  const obj = await owner.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await obj.Body!.transformToByteArray());
}

async function summaryOf(bucket: string, key: string): Promise<StoredDumpSummary> {
  return JSON.parse((await objectBytes(bucket, summaryKey(key))).toString()) as StoredDumpSummary;
}

/** The dump a stored object holds, decompressed by standard tools (the zstd CLI, zlib), and by ours for zstd. */
async function decompressed(bytes: Buffer, compression: Compression): Promise<Buffer> {
  if (compression === 'none') return bytes;
  if (compression === 'gzip') return gunzipSync(bytes);
  const tool = spawnSync('zstd', ['-dc'], { input: bytes, maxBuffer: 1 << 30 });
  assert.equal(tool.status, 0, `zstd -dc: ${tool.stderr}`);
  const ours = await pipeline(
    async function* () {
      yield bytes;
    },
    createZstdMultiFrameDecompress(),
    async (src) => {
      const chunks: Buffer[] = [];
      for await (const c of src) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    },
  );
  assert.equal(sha256(ours), sha256(tool.stdout), 'our multi-frame decoder agrees with the zstd tool');
  return tool.stdout;
}

/** Multipart uploads left unfinished in the bucket (a finished or resumed upload leaves none). */
async function openUploads(bucket: string): Promise<number> {
  return (await owner.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads?.length ?? 0;
}

/** Writes `data` into `path` as a JVM does: a new 0600 file, growing in chunks, `pauseMs` apart. */
async function writeGrowing(path: string, data: Buffer, chunk = MiB, pauseMs = 0): Promise<void> {
  const fh = await open(path, 'wx', 0o600);
  try {
    for (let at = 0; at < data.length; at += chunk) {
      await fh.write(data.subarray(at, at + chunk));
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
  } finally {
    await fh.close();
  }
}

/** Asserts what a stored dump must be: its object decompresses to `original`, its summary describes it. */
async function assertStored(
  bucket: string,
  key: string,
  original: Buffer,
  compression: Compression,
): Promise<StoredDumpSummary> {
  assert.equal(parseDumpKey(PREFIX, key)?.compression, compression, key);
  const bytes = await objectBytes(bucket, key);
  assert.equal(sha256(await decompressed(bytes, compression)), sha256(original), `${key} is the dump`);
  const summary = await summaryOf(bucket, key);
  assert.equal(summary.verdict, 'complete');
  assert.equal(summary.dump.key, key);
  assert.equal(summary.dump.sha256, sha256(original));
  assert.equal(summary.dump.originalBytes, original.length);
  assert.equal(summary.dump.storedBytes, bytes.length);
  return summary;
}

describeWithRgw('the uploader against a real Ceph RGW', () => {
  before(async () => {
    rgw = await rgwForSuite();
    owner = rgwClient(rgw);
    root = await mkdtemp(join(tmpdir(), 'kh-rgw-up-'));
    const src = await freshDir('template');
    const jvm = await runOutOfMemory({ alphas: 1000, betas: 10, gammas: 10, alphaArrays: 2 }, [
      '-Xmx24m',
      '-Dfill=mixed',
      '-XX:+HeapDumpOnOutOfMemoryError',
      `-XX:HeapDumpPath=${join(src, 'template.hprof')}`,
    ]);
    assert.match(jvm.output, /Heap dump file created/);
    template = await readFile(join(src, 'template.hprof'));
  });
  after(async () => {
    owner?.destroy();
    await rgw?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('defaults (zstd), put-only key: a JVM dying of OutOfMemoryError dumps into the directory; the object is its dump', async () => {
    const bucket = await newRgwBucket(rgw, 'defaults');
    const dir = await freshDir('defaults');
    // The uploader deletes the dump once stored: the capture holds it open, to compare with.
    const capture = captureDumps(dir);
    const u = new UploaderProcess(env(dir, bucket));
    try {
      await u.waitForLog((l) => l.msg === 'uploader starting');
      const jvm = await runOutOfMemory({ alphas: 1000, betas: 10, gammas: 10, alphaArrays: 2 }, [
        '-Xmx24m',
        '-Dfill=mixed',
        '-XX:+HeapDumpOnOutOfMemoryError',
        `-XX:HeapDumpPath=${dir}`,
      ]);
      assert.match(jvm.output, /Heap dump file created/);
      const done = await stored(u);
      assert.equal(done.deleted, true);
      const [name] = capture.files;
      assert.match(name!, /^java_pid\d+\.hprof$/);
      const original = await capture.read(name!);
      const [key] = await dumpKeys(bucket);
      assert.equal(key, done.key);
      const summary = await assertStored(bucket, key!, original, 'zstd');
      assert.ok(summary.dump.parts >= 2, `${summary.dump.parts} parts`);
      // RGW answers no CRC32: every part carried Content-MD5, which it checks. Its completion answers an empty
      // ETag and the put-only key may not HEAD: nothing more proves the object, and the summary says so.
      assert.deepEqual(summary.dump.integrity, { parts: 'md5', object: 'none', head: false });
      const complete = await u.waitForLog((l) => l.msg === 'dump object complete');
      assert.deepEqual(complete.integrity, summary.dump.integrity);
      assert.equal(await openUploads(bucket), 0);
      assert.deepEqual(
        (await readdir(dir)).filter((f) => !f.startsWith('.')),
        [],
        'the dump is gone from the volume',
      );
    } finally {
      await capture.close();
      await u.stop();
    }
  });

  it('gzip and none, with the owner key: each object is the dump, its HEAD proved it by size, metadata and ETag', async () => {
    const bucket = await newRgwBucket(rgw, 'gzip-none');
    for (const compression of ['gzip', 'none'] as const) {
      const dir = await freshDir(`owner-${compression}`);
      await writeGrowing(join(dir, 'java_pid1.hprof'), template);
      const u = new UploaderProcess(
        env(dir, bucket, { POD_NAME: `shop-${compression}`, HEAPDUMP_COMPRESSION: compression }, rgw.owner),
        ['--once'],
      );
      assert.equal(await u.exited, 0, JSON.stringify(u.logs));
      const key = String((await stored(u)).key);
      const summary = await assertStored(bucket, key, template, compression);
      assert.deepEqual(summary.dump.integrity, { parts: 'md5', object: 'etag', head: true });
      if (compression === 'none') assert.equal(summary.dump.parts, Math.ceil(template.length / (8 * MiB)));
    }
    assert.equal((await dumpKeys(bucket)).length, 2);
  });

  it('the put-only subuser (--access=write): stores dumps it cannot read, list or HEAD; it can delete', async () => {
    const bucket = await newRgwBucket(rgw, 'put-only');
    const dir = await freshDir('put-only');
    await writeGrowing(join(dir, 'java_pid1.hprof'), template);
    const u = new UploaderProcess(env(dir, bucket), ['--once']);
    assert.equal(await u.exited, 0, JSON.stringify(u.logs));
    const key = String((await stored(u)).key);
    await assertStored(bucket, key, template, 'zstd');
    // Its refused HEAD is expected, not an error to retry.
    assert.deepEqual(
      u.logs.filter((l) => l.level === 'error'),
      [],
    );
    const putOnly = rgwClient(rgw, rgw.putOnly);
    try {
      const status = (p: Promise<unknown>) =>
        p.then(
          () => 200,
          (err: { $metadata?: { httpStatusCode?: number } }) => err.$metadata?.httpStatusCode,
        );
      assert.equal(await status(putOnly.send(new GetObjectCommand({ Bucket: bucket, Key: key }))), 403);
      assert.equal(await status(putOnly.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))), 403);
      assert.equal(await status(putOnly.send(new ListObjectsV2Command({ Bucket: bucket }))), 403);
      // RGW's write permission is S3's bucket WRITE: deleting any object too (README says so).
      await owner.send(new PutObjectCommand({ Bucket: bucket, Key: 'scratch', Body: 'x' }));
      assert.equal(
        await status(putOnly.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'scratch' }))),
        200,
      );
      assert.equal(await status(owner.send(new HeadObjectCommand({ Bucket: bucket, Key: 'scratch' }))), 404);
    } finally {
      putOnly.destroy();
    }
  });

  it('kill -9 mid-upload, then a restart: the same upload resumes; one complete object, the dump', async () => {
    const bucket = await newRgwBucket(rgw, 'kill9');
    const dir = await freshDir('kill9');
    // Random content: zstd cannot shrink it, so each 8 MiB block is a part of its own.
    const dump = bulkyDump(40, 'random', 11);
    const first = new UploaderProcess(env(dir, bucket));
    let second: UploaderProcess | undefined;
    try {
      // A JVM writing slowly: the uploader keeps up with it, so it is killed with parts stored and more to come.
      const writing = writeGrowing(join(dir, 'java_pid1.hprof'), dump, MiB, 100);
      const detected = await first.waitForLog(
        (l) => l.msg === 'dump detected, uploading while it is written',
      );
      const partsStored = async () => {
        const up = (await owner.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads?.[0];
        if (!up) return 0;
        const parts = await owner.send(
          new ListPartsCommand({ Bucket: bucket, Key: up.Key, UploadId: up.UploadId }),
        );
        return parts.Parts?.length ?? 0;
      };
      const deadline = Date.now() + 60_000;
      while ((await partsStored()) < 2) {
        assert.ok(Date.now() < deadline, `no 2 parts stored in 60 s: ${JSON.stringify(first.logs)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(await first.stop('SIGKILL'), null);
      assert.equal(
        first.count((l) => l.msg === 'dump written'),
        0,
        'killed while the dump was written',
      );
      await writing;
      second = new UploaderProcess(env(dir, bucket));
      const resumed = await second.waitForLog((l) => l.msg === 'resuming dump upload', 30_000);
      assert.equal(resumed.key, detected.key);
      assert.ok((resumed.partsDone as number) >= 1, `resumed with ${resumed.partsDone} parts done`);
      await stored(second);
      const keys = await dumpKeys(bucket);
      assert.deepEqual(keys, [detected.key]);
      const summary = await assertStored(bucket, keys[0]!, dump, 'zstd');
      assert.equal(summary.dump.parts, Math.ceil(dump.length / (8 * MiB)));
      assert.equal(await openUploads(bucket), 0, 'the killed run’s upload was completed, none left open');
      assert.deepEqual(await readdir(join(dir, '.heapdump-uploader')), [], 'no state left');
    } finally {
      await first.stop('SIGKILL');
      await second?.stop();
    }
  });

  it('two uploaders, the same POD_NAME, file name and second: both dumps intact under their own keys, with their own summaries', async () => {
    const bucket = await newRgwBucket(rgw, 'same-second');
    const dumps = [template, bulkyDump(6, 'pattern', 3)];
    const dirs = [await freshDir('same-second-1'), await freshDir('same-second-2')];
    // Both files born in one second (the key's time is the file's birth time, to the second).
    for (;;) {
      const ms = Date.now() % 1000;
      if (ms < 700) {
        const births = await Promise.all(
          dirs.map(async (d) => {
            await writeFile(join(d, 'java_pid1.hprof'), '', { mode: 0o600 });
            return Math.floor((await stat(join(d, 'java_pid1.hprof'))).birthtimeMs / 1000);
          }),
        );
        if (births[0] === births[1]) break;
      }
      for (const d of dirs) await rm(join(d, 'java_pid1.hprof'), { force: true });
      await new Promise((r) => setTimeout(r, 1000 - ms + 10));
    }
    const uploaders = dirs.map((d) => new UploaderProcess(env(d, bucket)));
    try {
      await Promise.all(
        dirs.map((d, i) =>
          pipeline(
            async function* () {
              yield dumps[i]!;
            },
            createWriteStream(join(d, 'java_pid1.hprof'), { flags: 'r+' }),
          ),
        ),
      );
      const keys = (await Promise.all(uploaders.map(stored))).map((l: LogLine) => String(l.key));
      const parsed = keys.map((k) => parseDumpKey(PREFIX, k)!);
      assert.equal(parsed[0]!.startedAt.getTime(), parsed[1]!.startedAt.getTime(), 'the same second');
      assert.equal(parsed[0]!.pod, parsed[1]!.pod);
      assert.equal(parsed[0]!.file, parsed[1]!.file);
      assert.notEqual(keys[0], keys[1]);
      assert.deepEqual((await dumpKeys(bucket)).sort(), [...keys].sort());
      for (const [i, key] of keys.entries()) await assertStored(bucket, key, dumps[i]!, 'zstd');
    } finally {
      for (const u of uploaders) await u.stop();
    }
  });

  it('a part corrupted on the way to RGW is refused (BadDigest) and sent again: the object is the dump', async () => {
    const bucket = await newRgwBucket(rgw, 'corrupt');
    const dir = await freshDir('corrupt');
    const proxy = await startS3Proxy(rgw.endpoint, [
      { operation: 'UploadPart', fault: { kind: 'corrupt-body', offset: 1000 }, times: 1 },
    ]);
    const u = new UploaderProcess({ ...env(dir, bucket), HEAPDUMP_S3_ENDPOINT: proxy.endpoint }, ['--once']);
    try {
      await writeGrowing(join(dir, 'java_pid1.hprof'), template);
      assert.equal(await u.exited, 0, JSON.stringify(u.logs));
      assert.deepEqual(
        proxy.seen.filter((s) => s.fault),
        [{ operation: 'UploadPart', fault: 'corrupt-body' }],
      );
      const retried = u.logs.filter((l) => l.code === 'BadDigest');
      assert.equal(retried.length, 1, JSON.stringify(u.logs));
      assert.match(String(retried[0]!.op), /^UploadPart \d+$/);
      const key = String((await stored(u)).key);
      const summary = await assertStored(bucket, key, template, 'zstd');
      assert.deepEqual(summary.dump.integrity, { parts: 'md5', object: 'none', head: false });
    } finally {
      await u.stop();
      await proxy.close();
    }
  });
});
