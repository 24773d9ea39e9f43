// The uploader when things go wrong: least privilege, kill -9, the store going away, a JVM killed while
// dumping, wrong credentials, shutdown, bad configuration. Real processes, the strict S3 server, no mocks.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { StoredDumpSummary } from '@kube-heapdump/contract';
import { createZstdMultiFrameDecompress } from '@kube-heapdump/hprof';
import { HeldJvm, runOutOfMemory } from '../../../test/support/java.ts';
import { RUN_SOURCE } from '../../../test/support/node.ts';
import { run } from '../../../test/support/processes.ts';
import { DEFAULT_CREDENTIAL, type S3Credential } from '../../../test/support/s3/server.ts';
import { startS3Fixture } from '../../../test/support/s3-fixture.ts';
import { localUploaderEnv, UPLOADER_MAIN, UploaderProcess } from '../../../test/support/uploader.ts';
import { bulkyDump } from '../../hprof/test/synthetic.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const MiB = 1024 * 1024;

let root: string;
let template: string;
let templateSha: string;

async function dumpsIn(client: S3Client): Promise<string[]> {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: 'dumps', Prefix: 'heapdumps/' }));
  return (listed.Contents ?? []).map((o) => o.Key!).filter((k) => !k.endsWith('.summary.json'));
}

async function objectBytes(client: S3Client, key: string): Promise<Buffer> {
  const obj = await client.send(new GetObjectCommand({ Bucket: 'dumps', Key: key }));
  return Buffer.from(await obj.Body!.transformToByteArray());
}

async function summaryOf(client: S3Client, key: string): Promise<StoredDumpSummary> {
  return JSON.parse((await objectBytes(client, `${key}.summary.json`)).toString()) as StoredDumpSummary;
}

/** Writes the template dump into `dir` as a JVM would: a new 0600 file, growing. */
async function writeDump(dir: string, name = 'java_pid1.hprof'): Promise<void> {
  await pipeline(createReadStream(template), createWriteStream(join(dir, name), { mode: 0o600 }));
}

async function freshDir(name: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir);
  return dir;
}

const stored = (u: UploaderProcess, n = 1) =>
  u.waitForLog(
    (l) => l.msg === 'dump stored' && u.count((x) => x.msg === 'dump stored') >= n,
    120_000,
    'dump stored',
  );

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'kh-fail-'));
  const src = await freshDir('template');
  const jvm = await runOutOfMemory({ alphas: 1000, betas: 10, gammas: 10, alphaArrays: 2 }, [
    '-Xmx160m',
    '-XX:+HeapDumpOnOutOfMemoryError',
    `-XX:HeapDumpPath=${join(src, 'template.hprof')}`,
  ]);
  assert.match(jvm.output, /Heap dump file created/);
  template = join(src, 'template.hprof');
  templateSha = sha256(await readFile(template));
});
after(() => rm(root, { recursive: true, force: true }));

describe('uploader with a least-privilege credential', () => {
  it('stores the dump with only s3:PutObject and s3:AbortMultipartUpload on its prefix (zstd)', async () => {
    const putOnly: S3Credential = {
      accessKeyId: 'AKIAUPLOADERONLY',
      secretAccessKey: 'uploader-secret',
      policy: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
            Resource: 'arn:aws:s3:::dumps/heapdumps/*',
          },
        ],
      },
    };
    const s3 = await startS3Fixture({ credentials: [DEFAULT_CREDENTIAL, putOnly] });
    const dir = await freshDir('least');
    const u = new UploaderProcess(
      localUploaderEnv(s3, dir, {
        AWS_ACCESS_KEY_ID: putOnly.accessKeyId,
        AWS_SECRET_ACCESS_KEY: putOnly.secretAccessKey,
        HEAPDUMP_COMPRESSION: 'zstd',
      }),
    );
    try {
      await writeDump(dir);
      await stored(u);
      const client = s3.client();
      const [key] = await dumpsIn(client);
      assert.match(key!, /\.hprof\.zst$/);
      const zst = await objectBytes(client, key!);
      const ours = await pipeline(
        async function* () {
          yield zst;
        },
        createZstdMultiFrameDecompress(),
        async (src) => {
          const h = createHash('sha256');
          for await (const c of src) h.update(c as Buffer);
          return h.digest('hex');
        },
      );
      assert.equal(ours, templateSha, 'our multi-frame decoder');
      const tool = spawnSync('zstd', ['-dc'], { input: zst, maxBuffer: 1 << 30 });
      assert.equal(sha256(tool.stdout), templateSha, 'the zstd tool');
      const heads = s3.server.requests.filter((r) => r.operation === 'HeadObject');
      assert.equal(heads.length, 1, 'one HEAD, refused and not retried: a put-only key may not read');
      assert.equal(heads[0]?.status, 403);
      assert.deepEqual(
        u.logs.filter((l) => l.level === 'error' || l.level === 'warn'),
        [],
        'a refused HEAD is expected of a put-only key, not an error',
      );
      assert.ok(
        s3.server.requests.every(
          (r) =>
            r.accessKeyId !== putOnly.accessKeyId ||
            [
              'CreateMultipartUpload',
              'UploadPart',
              'CompleteMultipartUpload',
              'PutObject',
              'HeadObject',
            ].includes(r.operation),
        ),
      );
    } finally {
      await u.stop();
      await s3.close();
    }
  });
});

describe('uploader killed with SIGKILL mid-upload', () => {
  it('resumes from its saved parts after a restart: one complete object, parts not sent twice', async () => {
    const s3 = await startS3Fixture({ rateBytesPerSecond: 40e6 });
    const dir = await freshDir('kill9');
    const env = localUploaderEnv(s3, dir, { HEAPDUMP_COMPRESSION: 'none' });
    const first = new UploaderProcess(env);
    try {
      await writeDump(dir);
      const partsOk = () =>
        s3.server.requests.filter((r) => r.operation === 'UploadPart' && r.status === 200).length;
      while (partsOk() < 6) await new Promise((r) => setTimeout(r, 50));
      assert.equal(await first.stop('SIGKILL'), null);
      // Requests whose body had fully arrived still complete at the server: let them, then count.
      await new Promise((r) => setTimeout(r, 1000));
      const before = partsOk();
      const second = new UploaderProcess(env);
      let partsDone = 0;
      try {
        const resumed = await second.waitForLog((l) => l.msg === 'resuming dump upload', 30_000);
        partsDone = resumed.partsDone as number;
        // Up to 4 parts may be stored but not yet recorded when SIGKILL lands; 6 were stored.
        assert.ok(partsDone >= 2, `resumed with ${partsDone} parts done`);
        await stored(second);
      } finally {
        await second.stop();
      }
      const totalParts = Math.ceil((await stat(template)).size / (8 * MiB));
      assert.equal(
        partsOk() - before,
        totalParts - partsDone,
        'after the restart, exactly the parts not recorded are sent',
      );
      const client = s3.client();
      const keys = await dumpsIn(client);
      assert.equal(keys.length, 1, keys.join(', '));
      assert.equal(sha256(await objectBytes(client, keys[0]!)), templateSha);
      assert.deepEqual(await readdir(join(dir, '.heapdump-uploader')), [], 'no state left');
    } finally {
      await first.stop('SIGKILL');
      await s3.close();
    }
  });
});

describe('uploader killed with SIGKILL mid-upload, with the default compression (zstd)', () => {
  it('resumes after its recorded parts, each a run of whole frames: one object that decompresses to the dump', async () => {
    const s3 = await startS3Fixture({ rateBytesPerSecond: 25e6 });
    const dir = await freshDir('kill9-zstd');
    // Random content: zstd cannot shrink it, so the object has many parts to be killed between.
    const dump = bulkyDump(64, 'random', 7);
    const env = localUploaderEnv(s3, dir); // the default compression
    const first = new UploaderProcess(env);
    try {
      await writeFile(join(dir, 'java_pid1.hprof'), dump, { mode: 0o600 });
      const partsOk = () =>
        s3.server.requests.filter((r) => r.operation === 'UploadPart' && r.status === 200).length;
      while (partsOk() < 3) await new Promise((r) => setTimeout(r, 20));
      assert.equal(await first.stop('SIGKILL'), null);
      await new Promise((r) => setTimeout(r, 1000));
      const second = new UploaderProcess(env);
      try {
        const resumed = await second.waitForLog((l) => l.msg === 'resuming dump upload', 30_000);
        assert.equal(resumed.compression, 'zstd');
        assert.ok((resumed.partsDone as number) >= 1, `resumed with ${resumed.partsDone} parts done`);
        await stored(second);
      } finally {
        await second.stop();
      }
      const client = s3.client();
      const keys = await dumpsIn(client);
      assert.equal(keys.length, 1, keys.join(', '));
      assert.match(keys[0]!, /\.hprof\.zst$/);
      const tool = spawnSync('zstd', ['-dc'], {
        input: await objectBytes(client, keys[0]!),
        maxBuffer: 1 << 30,
      });
      assert.equal(tool.status, 0, tool.stderr.toString());
      assert.equal(sha256(tool.stdout), sha256(dump));
      assert.equal((await summaryOf(client, keys[0]!)).dump.sha256, sha256(dump));
      assert.deepEqual(await readdir(join(dir, '.heapdump-uploader')), [], 'no state left');
    } finally {
      await first.stop('SIGKILL');
      await s3.close();
    }
  });
});

describe('uploader while the store is down for 20 s', () => {
  it('keeps the dump, retries, and delivers it when the store is back', async () => {
    let s3 = await startS3Fixture({ rateBytesPerSecond: 40e6 });
    const { dir: s3dir, port } = { dir: s3.dir, port: s3.server.port };
    const dir = await freshDir('outage');
    const u = new UploaderProcess(localUploaderEnv(s3, dir, { HEAPDUMP_COMPRESSION: 'none' }));
    try {
      await writeDump(dir);
      while (s3.server.requests.filter((r) => r.operation === 'UploadPart' && r.status === 200).length < 2) {
        await new Promise((r) => setTimeout(r, 50));
      }
      await s3.server.stop();
      await new Promise((r) => setTimeout(r, 20_000));
      assert.ok((await readdir(dir)).includes('java_pid1.hprof'), 'the dump is kept while the store is away');
      assert.ok(
        u.count(
          (l) =>
            l.msg === 'S3 call failed (ECONNREFUSED), retrying' ||
            (l.level === 'warn' && String(l.code).startsWith('ECONN')),
        ) > 0,
      );
      s3 = await startS3Fixture({ dir: s3dir, port, rateBytesPerSecond: 40e6 });
      await stored(u);
      const client = s3.client();
      const keys = await dumpsIn(client);
      assert.equal(keys.length, 1);
      assert.equal(sha256(await objectBytes(client, keys[0]!)), templateSha);
    } finally {
      await u.stop();
      await s3.close();
    }
  });
});

describe('uploader when the JVM is SIGKILLed while dumping', () => {
  it('ships the truncated dump, marked incomplete, and keeps running', async () => {
    const s3 = await startS3Fixture();
    const dir = await freshDir('jvmkill');
    const u = new UploaderProcess(localUploaderEnv(s3, dir, { HEAPDUMP_QUIET_SECONDS: '2' }));
    const jvm = await HeldJvm.start({ alphas: 6_000_000, betas: 10, gammas: 10, alphaArrays: 2 }, ['-Xmx1g']);
    try {
      const file = join(dir, 'java_pid1.hprof');
      const dumping = spawn('jcmd', [String(jvm.pid), 'GC.heap_dump', file], { stdio: 'ignore' });
      for (;;) {
        const size = await stat(file).then(
          (s) => s.size,
          () => 0,
        );
        if (size > 20 * MiB) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      jvm.child.kill('SIGKILL');
      await new Promise((r) => dumping.once('exit', r));
      const log = await stored(u);
      assert.equal(log.verdict, 'incomplete');
      const client = s3.client();
      const [key] = await dumpsIn(client);
      const summary = await summaryOf(client, key!);
      assert.equal(summary.verdict, 'incomplete');
      assert.match(summary.reason!, /cut inside a heap dump segment/);
      assert.equal(summary.dump.originalBytes, log.originalBytes);
      assert.ok(summary.dump.originalBytes < 200 * MiB);
      assert.equal(u.child.exitCode, null, 'the uploader is still running');
    } finally {
      await jvm.close().catch(() => {});
      await u.stop();
      await s3.close();
    }
  });
});

describe('uploader with a wrong secret', () => {
  it('says S3 refused the credentials, keeps the dump, and stops retrying on SIGTERM', async () => {
    const s3 = await startS3Fixture();
    const dir = await freshDir('wrongsecret');
    const u = new UploaderProcess(localUploaderEnv(s3, dir, { AWS_SECRET_ACCESS_KEY: 'not-the-secret' }));
    try {
      await writeDump(dir);
      const refused = await u.waitForLog(
        (l) => l.level === 'error' && l.code === 'SignatureDoesNotMatch',
        30_000,
      );
      assert.match(refused.msg, /S3 refused our credentials \(SignatureDoesNotMatch\); the dump is kept/);
      assert.ok(!JSON.stringify(u.logs).includes('not-the-secret'), 'the secret is never logged');
      assert.equal(await u.stop('SIGTERM', 10_000), 0);
      assert.ok((await readdir(dir)).includes('java_pid1.hprof'));
    } finally {
      await u.stop();
      await s3.close();
    }
  });
});

describe('uploader on SIGTERM during an upload', () => {
  it('finishes the upload under way, then exits 0', async () => {
    const s3 = await startS3Fixture({ rateBytesPerSecond: 60e6 });
    const dir = await freshDir('sigterm');
    const u = new UploaderProcess(localUploaderEnv(s3, dir, { HEAPDUMP_COMPRESSION: 'none' }));
    try {
      await writeDump(dir);
      await u.waitForLog((l) => l.msg === 'dump detected, uploading while it is written');
      u.child.kill('SIGTERM');
      assert.equal(await u.exited, 0);
      assert.equal(
        u.count((l) => l.msg === 'dump stored'),
        1,
      );
      const client = s3.client();
      assert.equal(sha256(await objectBytes(client, (await dumpsIn(client))[0]!)), templateSha);
    } finally {
      await u.stop();
      await s3.close();
    }
  });
});

describe('uploader on SIGTERM with dumps waiting in line', () => {
  it('ships the dumps under way and those queued before it exits: the volume goes with the pod', async () => {
    const s3 = await startS3Fixture({ rateBytesPerSecond: 60e6 });
    const dir = await freshDir('sigterm-queued');
    const names = Array.from({ length: 6 }, (_, i) => `java_pid${i + 1}.hprof`);
    for (const name of names) await writeDump(dir, name);
    const u = new UploaderProcess(localUploaderEnv(s3, dir, { HEAPDUMP_COMPRESSION: 'none' }));
    try {
      await u.waitForLog((l) => l.msg === 'dump queued');
      u.child.kill('SIGTERM');
      assert.equal(await u.exited, 0);
      assert.equal(
        u.count((l) => l.msg === 'dump stored'),
        names.length,
        'every dump, queued ones included',
      );
      const client = s3.client();
      const keys = await dumpsIn(client);
      assert.equal(keys.length, names.length);
      for (const key of keys) assert.equal(sha256(await objectBytes(client, key)), templateSha, key);
    } finally {
      await u.stop();
      await s3.close();
    }
  });
});

describe('uploader --once, metrics and configuration errors', () => {
  it('--once ships what is there and exits 0; with a refused credential it exits 1', async () => {
    const s3 = await startS3Fixture();
    const dir = await freshDir('once');
    try {
      await writeDump(dir, 'java_pid7.hprof');
      const ok = new UploaderProcess(localUploaderEnv(s3, dir), ['--once']);
      assert.equal(await ok.exited, 0, JSON.stringify(ok.logs));
      assert.equal((await dumpsIn(s3.client())).length, 1);
      await writeDump(dir, 'java_pid8.hprof');
      const refused = new UploaderProcess(localUploaderEnv(s3, dir, { AWS_SECRET_ACCESS_KEY: 'wrong' }), [
        '--once',
      ]);
      assert.equal(await refused.exited, 1);
      assert.ok((await readdir(dir)).includes('java_pid8.hprof'));
    } finally {
      await s3.close();
    }
  });

  it('ships a kept file once, however often it restarts (HEAPDUMP_DELETE_AFTER_UPLOAD=false)', async () => {
    const s3 = await startS3Fixture();
    const dir = await freshDir('keep');
    try {
      await writeDump(dir);
      for (let i = 0; i < 3; i++) {
        const u = new UploaderProcess(localUploaderEnv(s3, dir, { HEAPDUMP_DELETE_AFTER_UPLOAD: 'false' }), [
          '--once',
        ]);
        assert.equal(await u.exited, 0, JSON.stringify(u.logs));
      }
      assert.ok((await readdir(dir)).includes('java_pid1.hprof'), 'kept');
      assert.equal((await dumpsIn(s3.client())).length, 1);
      assert.equal(s3.server.requests.filter((r) => r.operation === 'CreateMultipartUpload').length, 1);
    } finally {
      await s3.close();
    }
  });

  it('serves /healthz and Prometheus /metrics', async () => {
    const s3 = await startS3Fixture();
    const dir = await freshDir('metrics');
    const port = await freePort();
    const u = new UploaderProcess(localUploaderEnv(s3, dir, { HEAPDUMP_METRICS_PORT: String(port) }));
    try {
      await writeDump(dir);
      await stored(u);
      // `dump stored` is logged just before the shipper returns and the count goes down: allow that moment.
      let health: unknown;
      for (let i = 0; i < 20; i++) {
        health = await (await fetch(`http://127.0.0.1:${port}/healthz`)).json();
        if ((health as { inProgress?: number }).inProgress === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(health, { status: 'ok', inProgress: 0 });
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, /^heapdump_uploader_dumps_shipped_total\{verdict="complete"\} 1$/m);
      assert.match(metrics, /^heapdump_uploader_bytes_uploaded_total [1-9]\d*$/m);
      assert.match(metrics, /^heapdump_uploader_upload_seconds_count 1$/m);
    } finally {
      await u.stop();
      await s3.close();
    }
  });

  const cases: [Record<string, string>, RegExp][] = [
    [{ HEAPDUMP_BUCKET: '' }, /^heapdump-uploader: HEAPDUMP_BUCKET is required/],
    [
      { HEAPDUMP_S3_ENDPOINT: 'ftp://x' },
      /^heapdump-uploader: HEAPDUMP_S3_ENDPOINT "ftp:\/\/x" must be an http/,
    ],
    [{ HEAPDUMP_COMPRESSION: 'brotli' }, /^heapdump-uploader: HEAPDUMP_COMPRESSION "brotli" is not one of/],
    [
      { HEAPDUMP_QUIET_SECONDS: '0' },
      /^heapdump-uploader: HEAPDUMP_QUIET_SECONDS "0" must be a number from 1/,
    ],
    [
      { HEAPDUMP_DIR: '/nonexistent/dumps' },
      /^heapdump-uploader: HEAPDUMP_DIR \/nonexistent\/dumps does not exist/,
    ],
  ];
  for (const [env, message] of cases) {
    it(`exits 2 with one line for ${Object.keys(env)[0]}=${Object.values(env)[0]}`, async () => {
      const r = await run(process.execPath, [...RUN_SOURCE, UPLOADER_MAIN], {
        PATH: process.env.PATH,
        HEAPDUMP_DIR: root,
        HEAPDUMP_BUCKET: 'dumps',
        AWS_REGION: 'us-east-1',
        AWS_SECRET_ACCESS_KEY: 'very-secret-value',
        ...env,
      });
      assert.equal(r.code, 2);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.ok(!r.stderr.includes('very-secret-value'));
    });
  }

  it('documents itself in --help', async () => {
    const r = await run(process.execPath, [...RUN_SOURCE, UPLOADER_MAIN, '--help']);
    assert.equal(r.code, 0);
    for (const v of ['HEAPDUMP_BUCKET', 'HEAPDUMP_QUIET_SECONDS', 'HEAPDUMP_METRICS_PORT', '--once'])
      assert.ok(r.stdout.includes(v), v);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
