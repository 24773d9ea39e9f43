// Fault injection (issue 19.8): kill -9 at random moments while the real uploader ships real OOM dumps with
// the default compression (zstd) to the strict S3 server, restarting it after each kill, then asserting that
// every dump is exactly one complete, correct object (decompressed and compared by SHA-256) with its summary,
// that there is nothing else (no duplicate, no orphan multipart upload holding parts) and that the volume is free.
// Seeded: FAULT_SEED=<n> replays a run; the seed is in every failure message.
import assert from 'node:assert/strict';
import { createHash, randomInt } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
} from '@aws-sdk/client-s3';
import { AGENT_DIR, type StoredDumpSummary } from '@kube-heapdump/contract';
import { createZstdMultiFrameDecompress } from '@kube-heapdump/hprof';
import { runOutOfMemory } from './support/java.ts';
import { startS3Fixture } from './support/s3-fixture.ts';
import { localUploaderEnv, UploaderProcess } from './support/uploader.ts';

const KILLS = 24;
const seed = Number(process.env.FAULT_SEED ?? randomInt(2 ** 31));

/** xorshift32: the same seed, the same kill moments. */
function random(s: number): () => number {
  let x = s >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Log lines that mark the phases of a dump's shipping: a kill lands just after one of them. */
const PHASES = [
  'dump detected, uploading while it is written',
  'resuming dump upload',
  'the store checks CRC32: parts carry it alone',
  'dump written',
  'dump object complete',
  'dump stored',
];

describe(`kill -9 at ${KILLS} random moments (FAULT_SEED=${seed})`, () => {
  let root: string;
  const templates: { path: string; sha: string }[] = [];
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'kh-faultinj-'));
    for (const [i, alphas] of [200_000, 600_000].entries()) {
      const path = join(root, `template${i}.hprof`);
      const jvm = await runOutOfMemory({ alphas, betas: 10, gammas: 10, alphaArrays: 2 }, [
        '-Xmx64m',
        '-XX:+HeapDumpOnOutOfMemoryError',
        `-XX:HeapDumpPath=${path}`,
      ]);
      assert.match(jvm.output, /Heap dump file created/);
      templates.push({ path, sha: sha256(await readFile(path)) });
    }
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('ends with one complete, correct object and summary per dump, nothing else', async (t) => {
    const why = `FAULT_SEED=${seed}`;
    t.diagnostic(why);
    const rand = random(seed);
    const s3 = await startS3Fixture({ rateBytesPerSecond: 20e6 });
    const dir = join(root, 'dumps');
    await mkdir(dir);
    const env = localUploaderEnv(s3, dir, { HEAPDUMP_QUIET_SECONDS: '3' });
    const written = new Map<string, string>(); // file name -> SHA-256 of its bytes
    const moments: string[] = [];
    try {
      for (let kill = 0; kill < KILLS; kill++) {
        if (kill % 3 === 0) {
          const tpl = templates[written.size % templates.length]!;
          const name = `java_pid${1000 + written.size}.hprof`;
          await copyFile(tpl.path, join(dir, name));
          written.set(name, tpl.sha);
        }
        const u = new UploaderProcess(env);
        if (rand() < 0.5) {
          const phase = PHASES[Math.floor(rand() * PHASES.length)]!;
          const extra = Math.floor(rand() * 300);
          await u
            .waitForLog((l) => l.msg === phase, 8000)
            .then(
              () => new Promise((r) => setTimeout(r, extra)),
              () => undefined, // not reached in this run: kill at the timeout instead
            );
          moments.push(`${phase}+${extra}ms`);
        } else {
          const ms = 200 + Math.floor(rand() * 3000);
          await new Promise((r) => setTimeout(r, ms));
          moments.push(`${ms}ms`);
        }
        assert.equal(await u.stop('SIGKILL'), null, why);
      }
      t.diagnostic(`kills after: ${moments.join(', ')}`);
      const last = new UploaderProcess(env, ['--once']);
      assert.equal(
        await last.exited,
        0,
        `${why}: ${JSON.stringify(last.logs.filter((l) => l.level !== 'info'))}`,
      );

      const client = s3.client();
      const listed = await client.send(new ListObjectsV2Command({ Bucket: 'dumps', MaxKeys: 1000 }));
      const keys = (listed.Contents ?? []).map((o) => o.Key!);
      const dumps = keys.filter((k) => !k.endsWith('.summary.json'));
      assert.equal(
        dumps.length,
        written.size,
        `${why}: one object per dump, no duplicate:\n${keys.join('\n')}`,
      );
      assert.equal(keys.length, 2 * written.size, `${why}: each with its summary, nothing else`);
      const seen = new Set<string>();
      for (const key of dumps) {
        const summary = JSON.parse(
          await (
            await client.send(new GetObjectCommand({ Bucket: 'dumps', Key: `${key}.summary.json` }))
          ).Body!.transformToString(),
        ) as StoredDumpSummary;
        const file = summary.dump.file;
        assert.ok(written.has(file) && !seen.has(file), `${why}: ${key} is ${file}, once`);
        seen.add(file);
        const obj = await client.send(new GetObjectCommand({ Bucket: 'dumps', Key: key }));
        const hash = createHash('sha256');
        for await (const c of (obj.Body as NodeJS.ReadableStream).pipe(createZstdMultiFrameDecompress()))
          hash.update(c as Buffer);
        const got = hash.digest('hex');
        assert.equal(got, written.get(file), `${why}: ${key} decompresses to ${file}`);
        assert.equal(summary.dump.sha256, got, `${why}: the summary's SHA-256`);
        assert.equal(summary.verdict, 'complete', `${why}: ${summary.reason}`);
      }
      // A kill between CreateMultipartUpload's answer and the state's fsync leaves an upload nobody knows the
      // id of (the uploader may not list uploads): it never holds a part, and the bucket's lifecycle rule
      // (abortIncompleteMultipartUpload, 1 day) aborts it. Anything more is an orphan.
      const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: 'dumps' }));
      for (const u of uploads.Uploads ?? []) {
        const parts = await client.send(
          new ListPartsCommand({ Bucket: 'dumps', Key: u.Key!, UploadId: u.UploadId! }),
        );
        assert.deepEqual(
          parts.Parts ?? [],
          [],
          `${why}: no orphan multipart upload holding parts (${u.Key})`,
        );
        const file = u.Key!.slice(u.Key!.lastIndexOf('-') + 1).replace(/\.zst$/, '');
        assert.ok(written.has(file), `${why}: ${u.Key} is an upload of a dump that was stored`);
      }
      // Left: the uploader's state and the memory watchdog's agent it installs at start.
      assert.deepEqual(
        (await readdir(dir)).sort(),
        [AGENT_DIR, '.heapdump-uploader'].sort(),
        `${why}: every dump file deleted`,
      );
      assert.deepEqual(await readdir(join(dir, '.heapdump-uploader')), [], `${why}: no state left`);
    } finally {
      await s3.close();
    }
  });
});
