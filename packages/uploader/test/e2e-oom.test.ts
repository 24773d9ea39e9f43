// A real JVM dies of OutOfMemoryError while the real uploader watches its dump directory; the strict S3
// server receives. Run twice, as the kubelet restarts the container: two objects, two keys.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { StoredDumpSummary } from '@kube-heapdump/contract';
import { analyzeStream } from '@kube-heapdump/hprof';
import { captureDumps } from '../../../test/support/dump-capture.ts';
import { FIXTURE_CLASS, runOutOfMemory } from '../../../test/support/java.ts';
import { type S3Fixture, startS3Fixture } from '../../../test/support/s3-fixture.ts';
import { localUploaderEnv, UploaderProcess } from '../../../test/support/uploader.ts';

const counts = { alphas: 30000, betas: 2000, gammas: 1000, alphaArrays: 5 };
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('uploader with a JVM that runs out of memory', () => {
  let s3: S3Fixture;
  let root: string;
  before(async () => {
    s3 = await startS3Fixture();
    root = await mkdtemp(join(tmpdir(), 'kh-e2e-'));
  });
  after(async () => {
    await s3.close();
    await rm(root, { recursive: true, force: true });
  });

  it('ships each OOM dump under its own key, verified, and frees the volume for the next', async () => {
    const dir = join(root, 'dumps');
    await mkdir(dir);
    const capture = captureDumps(dir);
    const uploader = new UploaderProcess(localUploaderEnv(s3, dir));
    try {
      await uploader.waitForLog((l) => l.msg === 'uploader starting');
      for (let run = 1; run <= 2; run++) {
        const jvm = await runOutOfMemory(counts, [
          '-Xmx64m',
          '-XX:+HeapDumpOnOutOfMemoryError',
          // In a container the pid is the same on every restart: the JVM refuses to dump over an existing file.
          `-XX:HeapDumpPath=${join(dir, 'java_pid1.hprof')}`,
          '-XX:+ExitOnOutOfMemoryError',
        ]);
        assert.equal(jvm.code, 3, jvm.output);
        assert.match(jvm.output, /Heap dump file created/, `run ${run} dumped: ${jvm.output}`);
        await uploader.waitForLog(
          (l) => l.msg === 'dump stored' && uploader.count((x) => x.msg === 'dump stored') >= run,
          60_000,
          `dump ${run} stored`,
        );
        assert.deepEqual(
          (await readdir(dir)).filter((f) => f.endsWith('.hprof')),
          [],
          'the dump file is deleted after upload',
        );
      }
    } finally {
      assert.equal(await uploader.stop(), 0, uploader.stderr);
    }

    const client = s3.client();
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'dumps', Prefix: 'heapdumps/' }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!).sort();
    const dumps = keys.filter((k) => !k.endsWith('.summary.json'));
    assert.equal(dumps.length, 2, keys.join(', '));
    assert.equal(new Set(dumps).size, 2);
    for (const key of dumps) {
      assert.match(
        key,
        /^heapdumps\/prod\/shop\/shop-7d9f-abcde\/\d{8}T\d{6}Z-[0-9a-f]{8}-java_pid1\.hprof\.zst$/,
      );
      assert.ok(keys.includes(`${key}.summary.json`), `summary beside ${key}`);
    }
    const kept = await capture.readAll();
    await capture.close();
    assert.equal(kept.length, 2);
    const keptHashes = new Set(kept.map(sha256));
    for (const key of dumps) {
      const obj = await client.send(new GetObjectCommand({ Bucket: 'dumps', Key: key }));
      assert.equal(obj.ContentType, 'application/zstd');
      assert.equal(obj.Metadata?.pod, 'shop-7d9f-abcde');
      assert.equal(obj.Metadata?.namespace, 'prod');
      assert.equal(obj.Metadata?.node, 'node-1');
      assert.equal(obj.Metadata?.app, 'shop');
      const original = zstdDecompressSync(await obj.Body!.transformToByteArray());
      assert.ok(keptHashes.has(sha256(original)), 'the object decompresses to the exact bytes the JVM wrote');
      const parsed = await analyzeStream([original], 'none');
      assert.equal(parsed.verdict, 'complete');
      const summaryObj = await client.send(
        new GetObjectCommand({ Bucket: 'dumps', Key: `${key}.summary.json` }),
      );
      const summary = JSON.parse(await summaryObj.Body!.transformToString()) as StoredDumpSummary;
      assert.equal(summary.verdict, 'complete');
      assert.equal(summary.dump.sha256, sha256(original));
      assert.equal(summary.dump.originalBytes, original.length);
      assert.equal(summary.dump.key, key);
      assert.equal(summary.schema, 'kube-heapdump/hprof-summary/v1');
      assert.equal(summaryObj.Metadata?.sha256, sha256(original));
      assert.ok(summary.topClasses.length > 0);
      assert.ok(summary.timings.uploadAfterDumpSeconds >= 0);
      const alphas = summary.topClasses.find((c) => c.name === FIXTURE_CLASS.alpha);
      if (alphas) assert.equal(alphas.instances, counts.alphas);
    }
  });

  it('stores a dump the JVM gzipped itself as it is, with checksums off', async () => {
    const dir = join(root, 'gz');
    await mkdir(dir);
    const capture = captureDumps(dir, '.hprof.gz');
    const uploader = new UploaderProcess(
      localUploaderEnv(s3, dir, {
        HEAPDUMP_PREFIX: 'gz/',
        HEAPDUMP_S3_CHECKSUM: 'off',
        HEAPDUMP_COMPRESSION: 'zstd',
      }),
    );
    try {
      await uploader.waitForLog((l) => l.msg === 'uploader starting');
      const jvm = await runOutOfMemory(counts, [
        '-Xmx64m',
        '-XX:+HeapDumpOnOutOfMemoryError',
        '-XX:HeapDumpGzipLevel=1',
        `-XX:HeapDumpPath=${dir}`,
        '-XX:+ExitOnOutOfMemoryError',
      ]);
      assert.match(jvm.output, /Heap dump file created/);
      const log = await uploader.waitForLog((l) => l.msg === 'dump stored');
      assert.equal(log.verdict, 'complete');
    } finally {
      await uploader.stop();
    }
    const client = s3.client();
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'dumps', Prefix: 'gz/' }));
    const [key] = (listed.Contents ?? []).map((o) => o.Key!).filter((k) => !k.endsWith('.summary.json'));
    assert.match(key!, /-java_pid\d+\.hprof\.gz$/, 'not compressed a second time');
    const [kept] = await capture.readAll();
    await capture.close();
    const stored = Buffer.from(
      await (
        await client.send(new GetObjectCommand({ Bucket: 'dumps', Key: key }))
      ).Body!.transformToByteArray(),
    );
    assert.equal(sha256(stored), sha256(kept!));
    const summary = JSON.parse(
      await (
        await client.send(new GetObjectCommand({ Bucket: 'dumps', Key: `${key}.summary.json` }))
      ).Body!.transformToString(),
    ) as StoredDumpSummary;
    assert.equal(summary.verdict, 'complete');
    assert.equal(summary.dump.compression, 'gzip', 'declared what it is: gzip');
    assert.ok(summary.bytes > stored.length, 'the histogram read the decompressed dump');
    const hprof = gunzipSync(stored);
    assert.equal(summary.dump.sha256, sha256(hprof), 'the summary describes what the object decompresses to');
    assert.equal(summary.dump.originalBytes, hprof.length);
    const parts = s3.server.requests.filter((r) => r.operation === 'UploadPart' && r.key?.startsWith('gz/'));
    assert.ok(parts.length > 0);
    assert.deepEqual(
      parts.filter((r) => r.payload === 'STREAMING-UNSIGNED-PAYLOAD-TRAILER'),
      [],
      'no checksum trailers',
    );
  });
});
