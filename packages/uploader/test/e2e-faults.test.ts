// Faults found by the fault-injection sweep (issue 19), reproduced the way they were found, against the real
// uploader process: a lost Complete answer, a dump that fills its volume, a store that accepts connections and
// never answers, odd file names, hostile and corrupt dumps. Each ends with the dump stored once, intact, its
// file deleted, no orphan multipart upload, and only JSON lines on stdout and stderr.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zstdDecompressSync } from 'node:zlib';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { keySafeName, parseDumpKey, type StoredDumpSummary } from '@kube-heapdump/contract';
import { analyzeStream } from '@kube-heapdump/hprof';
import { peakRss } from '../../../test/support/processes.ts';
import { type S3Fixture, startS3Fixture } from '../../../test/support/s3-fixture.ts';
import { startS3Proxy } from '../../../test/support/s3-proxy.ts';
import { localUploaderEnv, UploaderProcess } from '../../../test/support/uploader.ts';
import { bulkyDump, HprofWriter, sampleDump } from '../../hprof/test/synthetic.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const MiB = 1024 * 1024;

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'kh-faults-'));
});
after(() => rm(root, { recursive: true, force: true }));

async function freshDir(name: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir);
  return dir;
}

async function dumpKeys(client: S3Client): Promise<string[]> {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: 'dumps', Prefix: 'heapdumps/' }));
  return (listed.Contents ?? []).map((o) => o.Key!).filter((k) => !k.endsWith('.summary.json'));
}

async function bytesOf(client: S3Client, key: string): Promise<Buffer> {
  const obj = await client.send(new GetObjectCommand({ Bucket: 'dumps', Key: key }));
  return Buffer.from(await obj.Body!.transformToByteArray());
}

async function summaryOf(client: S3Client, key: string): Promise<StoredDumpSummary> {
  return JSON.parse((await bytesOf(client, `${key}.summary.json`)).toString()) as StoredDumpSummary;
}

async function pendingUploads(client: S3Client): Promise<number> {
  const listed = await client.send(new ListMultipartUploadsCommand({ Bucket: 'dumps' }));
  return listed.Uploads?.length ?? 0;
}

/** Every line the uploader wrote, on stdout and stderr, is one JSON object. */
function assertOnlyJson(u: UploaderProcess): void {
  assert.deepEqual(
    u.logs.filter((l) => l.level === 'raw'),
    [],
    'stdout lines that are not JSON',
  );
  for (const line of u.stderr.split('\n').filter(Boolean)) {
    assert.doesNotThrow(() => JSON.parse(line), `stderr line that is not JSON: ${line}`);
  }
}

const storedCount = (u: UploaderProcess) => u.count((l) => l.msg === 'dump stored');

describe('a CompleteMultipartUpload whose answer is lost (issue 19.1)', () => {
  it('--once adopts the object: exit 0, one object with its summary, no -n2 copy, no orphan upload', async () => {
    const s3 = await startS3Fixture();
    const proxy = await startS3Proxy(s3.server.endpoint, [
      { operation: 'CompleteMultipartUpload', fault: { kind: 'drop-answer' } },
    ]);
    try {
      const dir = await freshDir('lost-complete');
      const dump = bulkyDump(12, 'random', 3);
      await writeFile(join(dir, 'java_pid1.hprof'), dump, { mode: 0o600 });
      const u = new UploaderProcess({ ...localUploaderEnv(s3, dir), HEAPDUMP_S3_ENDPOINT: proxy.endpoint }, [
        '--once',
      ]);
      assert.equal(await u.exited, 0, JSON.stringify(u.logs));
      const completes = proxy.seen.filter((r) => r.operation === 'CompleteMultipartUpload');
      assert.deepEqual(
        completes.map((r) => r.fault ?? 'ok'),
        ['drop-answer', 'ok'],
      );
      assert.equal(
        u.count((l) => /the object is adopted/.test(l.msg)),
        1,
      );
      const client = s3.client();
      const keys = await dumpKeys(client);
      assert.equal(keys.length, 1, keys.join(', '));
      assert.ok(!keys[0]!.includes('-n2'));
      assert.ok(zstdDecompressSync(await bytesOf(client, keys[0]!)).equals(dump));
      assert.equal((await summaryOf(client, keys[0]!)).dump.sha256, sha256(dump));
      assert.equal(s3.server.requests.filter((r) => r.operation === 'CreateMultipartUpload').length, 1);
      assert.equal(await pendingUploads(client), 0);
      assert.deepEqual(await readdir(dir), ['.heapdump-uploader']);
      assertOnlyJson(u);
    } finally {
      await proxy.close();
      await s3.close();
    }
  });
});

describe('a dump that fills its volume (issue 19.2)', () => {
  it('uploads without saving state, says so once, ships the file once and deletes it; the uploader lives', async (t) => {
    const mnt = await freshDir('tmpfs');
    // As root, or through passwordless sudo (CI runners); a machine with neither cannot make the volume.
    const asRoot = process.getuid?.() === 0;
    const privileged = (cmd: string, args: string[]) =>
      asRoot
        ? execFileSync(cmd, args, { stdio: 'pipe' })
        : execFileSync('sudo', ['-n', cmd, ...args], { stdio: 'pipe' });
    try {
      privileged('mount', ['-t', 'tmpfs', '-o', `size=24m,uid=${process.getuid?.() ?? 0}`, 'tmpfs', mnt]);
    } catch (err) {
      t.skip(`cannot mount a tmpfs here (needs root or sudo -n): ${(err as Error).message}`);
      return;
    }
    const s3 = await startS3Fixture();
    const u = new UploaderProcess(localUploaderEnv(s3, mnt, { HEAPDUMP_QUIET_SECONDS: '2' }));
    try {
      await u.waitForLog((l) => l.msg === 'uploader starting');
      // The "JVM" writes a 32 MiB dump into 24 MiB: it stops at ENOSPC, the volume full.
      const dump = bulkyDump(32, 'random', 5);
      let written = 0;
      try {
        await writeFile(join(mnt, 'java_pid1.hprof'), dump, { mode: 0o600 });
        written = dump.length;
      } catch (err) {
        assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
      }
      assert.equal(written, 0, 'the dump filled the volume');
      await u.waitForLog((l) => l.msg === 'dump stored', 90_000);
      // Long enough for a crash loop or a second upload to show.
      await new Promise((r) => setTimeout(r, 8000));
      assert.equal(u.child.exitCode, null, `the uploader is alive; stderr: ${u.stderr}`);
      assert.equal(storedCount(u), 1);
      const full = u.logs.filter((l) => /cannot save the upload state/.test(l.msg));
      assert.equal(full.length, 1, JSON.stringify(full));
      assert.equal(full[0]!.code, 'ENOSPC');
      const stored = u.logs.find((l) => l.msg === 'dump stored')!;
      assert.equal(stored.verdict, 'incomplete');
      assert.equal(stored.deleted, true);
      assert.deepEqual(
        (await readdir(mnt)).filter((f) => !f.startsWith('.')),
        [],
        'the volume is free',
      );
      const client = s3.client();
      const keys = await dumpKeys(client);
      assert.equal(keys.length, 1, keys.join(', '));
      const original = (await summaryOf(client, keys[0]!)).dump.originalBytes;
      assert.ok(original > 16 * MiB && original <= 24 * MiB, `${original} bytes`);
      assert.ok(
        zstdDecompressSync(await bytesOf(client, keys[0]!)).equals(dump.subarray(0, original)),
        'the bytes the volume held',
      );
      assert.equal(await pendingUploads(client), 0);
      assertOnlyJson(u);
    } finally {
      await u.stop();
      await s3.close();
      privileged('umount', [mnt]);
    }
  });
});

describe('a store that accepts connections and never answers (issue 19.5, 19.7)', () => {
  it('times requests out, logs and retries them, honours SIGTERM within the grace period, logs only JSON', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((s) => {
      sockets.add(s);
      s.resume(); // reads every request, answers none
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const dir = await freshDir('silent');
    const s3 = await startS3Fixture(); // only for its credential; the uploader never reaches it
    const u = new UploaderProcess(
      localUploaderEnv(s3, dir, {
        HEAPDUMP_S3_ENDPOINT: `http://127.0.0.1:${port}`,
        HEAPDUMP_S3_TIMEOUT_SECONDS: '2',
        HEAPDUMP_SHUTDOWN_SECONDS: '3',
      }),
    );
    try {
      for (let i = 1; i <= 6; i++) await writeFile(join(dir, `java_pid${i}.hprof`), sampleDump(8));
      const retried = await u.waitForLog(
        (l) => l.msg.startsWith('S3 call failed') && (l.attempt as number) >= 2,
        60_000,
        'a timed-out call retried twice',
      );
      assert.equal(retried.op, 'CreateMultipartUpload');
      assert.match(String(retried.error), /requestTimeout|timed out|timeout/i);
      const sent = Date.now();
      assert.equal(await u.stop('SIGTERM', 20_000), 0);
      const took = Date.now() - sent;
      assert.ok(took < 3000 + 5000, `exited ${took} ms after SIGTERM (grace 3 s)`);
      assert.equal((await readdir(dir)).filter((f) => f.endsWith('.hprof')).length, 6, 'the dumps are kept');
      assertOnlyJson(u);
    } finally {
      await u.stop('SIGKILL');
      for (const s of sockets) s.destroy();
      silent.close();
      await s3.close();
    }
  });
});

describe('a store that stops answering parts (issue 19.5, 19.7)', () => {
  it('sixteen parts time out and retry at once: logged as JSON only, and SIGTERM is honoured', async () => {
    const s3 = await startS3Fixture();
    const proxy = await startS3Proxy(s3.server.endpoint, [
      { operation: 'UploadPart', fault: { kind: 'hang' }, times: 1000 },
    ]);
    const dir = await freshDir('parts-hang');
    const u = new UploaderProcess(
      localUploaderEnv(s3, dir, {
        HEAPDUMP_S3_ENDPOINT: proxy.endpoint,
        HEAPDUMP_COMPRESSION: 'none',
        HEAPDUMP_S3_TIMEOUT_SECONDS: '1',
        HEAPDUMP_SHUTDOWN_SECONDS: '2',
      }),
    );
    try {
      await writeFile(join(dir, 'java_pid1.hprof'), bulkyDump(140, 'pattern'), { mode: 0o600 });
      await u.waitForLog(
        () => new Set(u.logs.filter((l) => l.msg.startsWith('S3 call failed')).map((l) => l.op)).size >= 16,
        60_000,
        'sixteen parts retried',
      );
      const sent = Date.now();
      assert.equal(await u.stop('SIGTERM', 20_000), 0);
      assert.ok(Date.now() - sent < 2000 + 5000, 'within the grace period');
      assertOnlyJson(u);
    } finally {
      await u.stop('SIGKILL');
      await proxy.close();
      await s3.close();
    }
  });
});

describe('odd file names (issue 19.6)', () => {
  const names = [
    '日本.hprof',
    'new\nline.hprof',
    'esc\u001b[31mred.hprof',
    `${'x'.repeat(240)}.hprof`,
    `${'長'.repeat(80)}.hprof`,
  ];

  it('ships each once under a valid key (keySafeName), its exact name in the summary and metadata', async () => {
    const s3 = await startS3Fixture();
    try {
      const dir = await freshDir('names');
      const dumps = new Map(names.map((n, i) => [n, bulkyDump(1, 'pattern', i + 1)]));
      for (const [name, dump] of dumps) await writeFile(join(dir, name), dump, { mode: 0o600 });
      const u = new UploaderProcess(localUploaderEnv(s3, dir), ['--once']);
      assert.equal(await u.exited, 0, JSON.stringify(u.logs));
      const client = s3.client();
      const keys = await dumpKeys(client);
      assert.equal(keys.length, names.length, keys.join('\n'));
      for (const key of keys) {
        assert.match(key, /^[A-Za-z0-9._~/-]+$/, 'ASCII without controls');
        assert.ok(Buffer.byteLength(key) <= 1024);
        const parsed = parseDumpKey('heapdumps/', key);
        assert.ok(parsed, `${key} parses back`);
        const summary = await summaryOf(client, key);
        const name = summary.dump.file;
        assert.ok(dumps.has(name), JSON.stringify(name));
        assert.equal(parsed.file, keySafeName(name));
        assert.ok(zstdDecompressSync(await bytesOf(client, key)).equals(dumps.get(name)!));
        const head = await client.send(new HeadObjectCommand({ Bucket: 'dumps', Key: key }));
        assert.equal(decodeURIComponent(head.Metadata?.file ?? ''), name);
        dumps.delete(name);
      }
      assert.equal(dumps.size, 0, 'every name shipped once');
      assert.equal(s3.server.requests.filter((r) => r.operation === 'CreateMultipartUpload').length, 5);
      assert.equal(await pendingUploads(client), 0);
      assert.deepEqual(await readdir(dir), ['.heapdump-uploader']);
      assertOnlyJson(u);
    } finally {
      await s3.close();
    }
  });
});

describe('hostile and corrupt dumps (issue 19.4)', () => {
  let s3: S3Fixture;
  before(async () => {
    s3 = await startS3Fixture();
  });
  after(() => s3.close());

  /** 4-byte ids, `n` instances each of its own class: what exhausted the heap in the summary step. */
  function distinctClasses(n: number): Buffer {
    const w = new HprofWriter(4);
    const per = 100_000;
    for (let first = 0; first < n; first += per) {
      const m = Math.min(per, n - first);
      const body = Buffer.alloc(m * 17);
      for (let i = 0; i < m; i++) {
        body[i * 17] = 0x21;
        body.writeUInt32BE(first + i + 1, i * 17 + 1);
        body.writeUInt32BE(0x1000_0000 + first + i, i * 17 + 9);
      }
      w.record(0x1c, body);
    }
    return w.end().toBuffer();
  }

  it('summarizes 4 M distinct classes within the memory limit, saying what it left out', async (t) => {
    const dir = await freshDir('classes');
    await writeFile(join(dir, 'java_pid1.hprof'), distinctClasses(4_000_000), { mode: 0o600 });
    const u = new UploaderProcess(localUploaderEnv(s3, dir, { POD_NAME: 'classes-1' }));
    try {
      const stored = await u.waitForLog((l) => l.msg === 'dump stored', 120_000);
      const peak = await peakRss(u.child.pid!);
      t.diagnostic(`peak RSS ${(peak / MiB).toFixed(1)} MiB`);
      assert.ok(peak < 256 * MiB, `peak RSS ${Math.round(peak / MiB)} MiB, the component's limit 256Mi`);
      assert.equal(stored.verdict, 'complete');
      const key = stored.key as string;
      const summary = await summaryOf(s3.client(), key);
      assert.equal(summary.totals.instances, 4_000_000);
      assert.ok(
        summary.capped && summary.capped.untrackedObjects > 3_000_000,
        JSON.stringify(summary.capped),
      );
      assert.equal(storedCount(u), 1);
    } finally {
      await u.stop();
    }
  });

  it('stores a dump whose header timestamp no Date holds, its summary invalid, once', async () => {
    const dir = await freshDir('timestamp');
    const dump = sampleDump(8);
    dump.writeUInt32BE(0x7fffffff, 23);
    await writeFile(join(dir, 'java_pid1.hprof'), dump, { mode: 0o600 });
    const u = new UploaderProcess(localUploaderEnv(s3, dir, { POD_NAME: 'timestamp-1' }), ['--once']);
    assert.equal(await u.exited, 0, JSON.stringify(u.logs));
    const stored = u.logs.find((l) => l.msg === 'dump stored')!;
    const summary = await summaryOf(s3.client(), stored.key as string);
    assert.equal(summary.verdict, 'invalid');
    assert.match(summary.reason!, /is not a date/);
    assert.deepEqual(await readdir(dir), ['.heapdump-uploader']);
  });

  it('gives a dump with a corrupt sub-record one verdict: the summary, the log and inspect agree', async () => {
    const dir = await freshDir('subrecord');
    const w = new HprofWriter(8);
    w.utf8(1, 'java/lang/Object').loadClass(1, 100, 1);
    w.segment(w.classDump(100, 0, [], 0), w.rootUnknown(7), Buffer.from([0x42, 0, 0, 0]));
    await writeFile(join(dir, 'java_pid1.hprof'), w.end().toBuffer(), { mode: 0o600 });
    const u = new UploaderProcess(localUploaderEnv(s3, dir, { POD_NAME: 'subrecord-1' }), ['--once']);
    assert.equal(await u.exited, 0, JSON.stringify(u.logs));
    const stored = u.logs.find((l) => l.msg === 'dump stored')!;
    const key = stored.key as string;
    const summary = await summaryOf(s3.client(), key);
    const obj = await s3.client().send(new GetObjectCommand({ Bucket: 'dumps', Key: key }));
    const inspected = await analyzeStream([Buffer.from(await obj.Body!.transformToByteArray())], 'zstd');
    assert.equal(inspected.verdict, 'invalid');
    assert.deepEqual(
      { summary: summary.verdict, log: stored.verdict },
      { summary: 'invalid', log: 'invalid' },
    );
    assert.equal(summary.reason, inspected.reason);
    assert.match(summary.reason!, /unknown heap dump sub-record tag 0x42/);
  });
});
