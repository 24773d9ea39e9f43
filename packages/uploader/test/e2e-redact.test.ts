// Redaction while streaming, end to end: a real JVM holding known secrets dies of OutOfMemoryError, the real
// uploader ships its dump redacted; the stored object holds none of the secrets, has the original's size and
// structure; a kill -9 mid-upload resumes to the same redacted bytes.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zstdDecompressSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { STORED_SUMMARY_CLASSES, type StoredDumpSummary } from '@kube-heapdump/contract';
import type { ActiveRedactMode } from '@kube-heapdump/hprof';
import { analyzeStream } from '@kube-heapdump/hprof';
import { FIXTURE_LITERALS, findText, fixtureSecrets, runOutOfMemory } from '../../../test/support/java.ts';
import { startS3Fixture } from '../../../test/support/s3-fixture.ts';
import { localUploaderEnv, UploaderProcess } from '../../../test/support/uploader.ts';
import { redactFile } from '../../cli/src/redact.ts';

const SEED = '5a17c0de';
const secrets = fixtureSecrets(SEED);
const counts = { alphas: 3000, betas: 200, gammas: 100, alphaArrays: 3 };
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function leaks(bytes: Buffer): string[] {
  const found = secrets.texts.flatMap((t) => {
    const how = findText(bytes, t);
    return how ? [`${t} (${how})`] : [];
  });
  if (bytes.includes(secrets.pin)) found.push('the long');
  return found;
}

/** The code's string literals (symbols) found in `bytes`: a name-like one (`hunter2SUPERSECRET`) too. */
const literals = (bytes: Buffer) =>
  [...FIXTURE_LITERALS, 'hunter2', 'Jdbc-S3cret'].filter((t) => findText(bytes, t) !== undefined);

/** Names the redacted dump must keep (class, field, method, signature, source file). */
const NAMES = ['HeapFixture$Vault', 'credentials', 'HeapFixture.java', '([Ljava/lang/String;)V', '<init>'];

function keepsNames(bytes: Buffer): void {
  for (const name of NAMES) assert.ok(bytes.includes(Buffer.from(name)), `${name} kept`);
}

/** What `heapdump redact` writes for `input` (a file), written in `outDir` (not a watched one). */
async function cliRedacted(input: string, mode: ActiveRedactMode, outDir: string): Promise<Buffer> {
  const out = join(outDir, `cli-${mode}.redacted`);
  await redactFile(input, out, { mode, force: true });
  try {
    return await readFile(out);
  } finally {
    await rm(out, { force: true });
  }
}

async function structure(bytes: Buffer) {
  const a = await analyzeStream([bytes], 'none', { top: 1_000_000 });
  return { verdict: a.verdict, totals: a.totals, classes: a.topClasses, largestArrays: a.largestArrays };
}

/** The one dump object under `prefix`, decompressed, with its summary and metadata. */
async function stored(client: S3Client, prefix: string) {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: 'dumps', Prefix: prefix }));
  const keys = (listed.Contents ?? []).map((o) => o.Key!).filter((k) => !k.endsWith('.summary.json'));
  assert.equal(keys.length, 1, keys.join(', '));
  const obj = await client.send(new GetObjectCommand({ Bucket: 'dumps', Key: keys[0] }));
  const body = Buffer.from(await obj.Body!.transformToByteArray());
  const bytes = keys[0]!.endsWith('.zst') ? zstdDecompressSync(body) : body;
  const summaryObj = await client.send(
    new GetObjectCommand({ Bucket: 'dumps', Key: `${keys[0]}.summary.json` }),
  );
  const summary = JSON.parse(await summaryObj.Body!.transformToString()) as StoredDumpSummary;
  return { bytes, summary, metadata: obj.Metadata ?? {}, summaryMetadata: summaryObj.Metadata ?? {} };
}

const jvmFlags = (path: string) => [
  '-Xmx64m',
  `-Dsecrets=${SEED}`,
  '-XX:+HeapDumpOnOutOfMemoryError',
  `-XX:HeapDumpPath=${path}`,
  '-XX:+ExitOnOutOfMemoryError',
];

describe('uploader redacting a JVM that holds secrets', () => {
  let root: string;
  let template: Buffer;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'kh-redact-e2e-'));
    const path = join(root, 'template.hprof');
    const jvm = await runOutOfMemory(counts, jvmFlags(path));
    assert.match(jvm.output, /Heap dump file created/);
    template = await readFile(path);
    assert.equal(leaks(template).length, secrets.texts.length + 1, 'the dump holds every secret unredacted');
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('strings (zstd): the JVM dumps on OOM while watched; no byte[] or char[] secret reaches the bucket', async () => {
    const s3 = await startS3Fixture();
    const dir = join(root, 'strings');
    await mkdir(dir);
    const uploader = new UploaderProcess(
      localUploaderEnv(s3, dir, { HEAPDUMP_REDACT: 'strings', HEAPDUMP_DELETE_AFTER_UPLOAD: 'false' }),
    );
    try {
      await uploader.waitForLog((l) => l.msg === 'uploader starting');
      const jvm = await runOutOfMemory(counts, jvmFlags(join(dir, 'java_pid1.hprof')));
      assert.match(jvm.output, /Heap dump file created/);
      await uploader.waitForLog((l) => l.msg === 'dump stored', 60_000, 'dump stored');
      const original = await readFile(join(dir, 'java_pid1.hprof'));
      assert.equal(leaks(original).length, secrets.texts.length + 1);
      assert.equal(literals(original).length, FIXTURE_LITERALS.length + 2, 'the dump holds the literals');
      const got = await stored(s3.client(), 'heapdumps/');
      assert.equal(got.bytes.length, original.length, 'same size');
      assert.deepEqual(leaks(got.bytes), ['the long'], 'strings keeps primitive fields');
      assert.deepEqual(literals(got.bytes), [], 'no literal of the code');
      keepsNames(got.bytes);
      assert.ok(
        got.bytes.equals(await cliRedacted(join(dir, 'java_pid1.hprof'), 'strings', root)),
        'heapdump redact',
      );
      assert.deepEqual(await structure(got.bytes), await structure(original));
      assert.equal((await structure(got.bytes)).verdict, 'complete');
      assert.equal(got.summary.dump.redaction, 'strings');
      assert.equal(got.summary.dump.sha256, sha256(got.bytes), 'the SHA-256 of the stored bytes');
      assert.equal(got.summaryMetadata.sha256, sha256(got.bytes));
      assert.equal(got.metadata.redaction, 'strings');
      assert.equal(got.summaryMetadata.redaction, 'strings');
      const histogram = (await structure(original)).classes.slice(0, STORED_SUMMARY_CLASSES);
      assert.deepEqual(got.summary.topClasses, histogram, 'the summary histogram is the original one');
    } finally {
      await uploader.stop();
      await s3.close();
    }
  });

  it('primitives (raw): field values are gone too', async () => {
    const s3 = await startS3Fixture();
    const dir = join(root, 'primitives');
    await mkdir(dir);
    await writeFile(join(dir, 'java_pid1.hprof'), template, { mode: 0o600 });
    const uploader = new UploaderProcess(
      localUploaderEnv(s3, dir, { HEAPDUMP_REDACT: 'primitives', HEAPDUMP_COMPRESSION: 'none' }),
    );
    try {
      await uploader.waitForLog((l) => l.msg === 'dump stored', 60_000, 'dump stored');
      const got = await stored(s3.client(), 'heapdumps/');
      assert.equal(got.bytes.length, template.length);
      assert.deepEqual(leaks(got.bytes), []);
      assert.deepEqual(literals(got.bytes), [], 'no literal of the code');
      keepsNames(got.bytes);
      const cli = await cliRedacted(join(root, 'template.hprof'), 'primitives', root);
      assert.ok(got.bytes.equals(cli), 'heapdump redact');
      assert.deepEqual(await structure(got.bytes), await structure(template));
      assert.equal((await structure(got.bytes)).verdict, 'complete');
      assert.equal(got.summary.dump.redaction, 'primitives');
      assert.equal(got.summary.dump.sha256, sha256(got.bytes));
    } finally {
      await uploader.stop();
      await s3.close();
    }
  });

  it('kill -9 mid redacted upload: the restart re-walks from the start and resumes to the same bytes', async () => {
    const s3 = await startS3Fixture({ rateBytesPerSecond: 12e6 });
    const dir = join(root, 'kill9');
    await mkdir(dir);
    const expected = await cliRedacted(join(root, 'template.hprof'), 'strings', root);
    const env = localUploaderEnv(s3, dir, { HEAPDUMP_REDACT: 'strings', HEAPDUMP_COMPRESSION: 'none' });
    await writeFile(join(dir, 'java_pid1.hprof'), template, { mode: 0o600 });
    const partsOk = () =>
      s3.server.requests.filter((r) => r.operation === 'UploadPart' && r.status === 200).length;
    const first = new UploaderProcess(env);
    try {
      while (partsOk() < 2) await new Promise((r) => setTimeout(r, 20));
      assert.equal(await first.stop('SIGKILL'), null);
      await new Promise((r) => setTimeout(r, 1000));
      const second = new UploaderProcess(env);
      try {
        const resumed = await second.waitForLog((l) => l.msg === 'resuming dump upload', 30_000);
        assert.equal(resumed.redaction, 'strings');
        assert.ok((resumed.partsDone as number) >= 1, `resumed with ${resumed.partsDone} parts done`);
        assert.ok((resumed.partsDone as number) < Math.ceil(template.length / 2 ** 23), 'parts were left');
        await second.waitForLog((l) => l.msg === 'dump stored', 120_000, 'dump stored');
      } finally {
        await second.stop();
      }
      const got = await stored(s3.client(), 'heapdumps/');
      assert.ok(got.bytes.equals(expected), 'the resumed object is the dump redacted, byte for byte');
      assert.equal(got.summary.dump.sha256, sha256(expected));
      assert.deepEqual(leaks(got.bytes), ['the long']);
      assert.deepEqual(literals(got.bytes), []);
    } finally {
      await first.stop('SIGKILL');
      await s3.close();
    }
  });
});
