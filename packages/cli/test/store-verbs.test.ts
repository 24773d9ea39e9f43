// `heapdump list / get / url / summary / inspect <key>` as a developer runs them: a separate process against
// the strict S3 server, on dumps the real uploader stored from real JVM dumps.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { developerEnv } from '../../../test/support/developer-env.ts';
import { HeldJvm } from '../../../test/support/java.ts';
import { RUN_SOURCE } from '../../../test/support/node.ts';
import { run } from '../../../test/support/processes.ts';
import { DEFAULT_CREDENTIAL } from '../../../test/support/s3/server.ts';
import { type S3Fixture, startS3Fixture } from '../../../test/support/s3-fixture.ts';
import { shipDumps } from './ship.ts';

const cli = join(import.meta.dirname, '../src/main.ts');
const putOnly = {
  accessKeyId: 'AKIAPUTONLYUPLOADER1',
  secretAccessKey: 'put-only-secret',
  policy: {
    Version: '2012-10-17' as const,
    Statement: [
      {
        Effect: 'Allow' as const,
        Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
        Resource: 'arn:aws:s3:::dumps/*',
      },
    ],
  },
};

/** A developer who may read the bucket but not one pod's summaries (as when another user wrote them). */
const partReader = {
  accessKeyId: 'AKIAPARTREADER000001',
  secretAccessKey: 'part-reader-secret',
  policy: {
    Version: '2012-10-17' as const,
    Statement: [
      {
        Effect: 'Allow' as const,
        Action: ['s3:ListBucket', 's3:GetObject'],
        Resource: ['arn:aws:s3:::dumps', 'arn:aws:s3:::dumps/*'],
      },
      {
        Effect: 'Deny' as const,
        Action: ['s3:GetObject'],
        Resource: 'arn:aws:s3:::dumps/heapdumps/prod/shop/shop-1/*.summary.json',
      },
    ],
  },
};

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('heapdump verbs that read the bucket', () => {
  let fixture: S3Fixture;
  let dir: string;
  let original: Buffer;
  /** The developer's environment: the store settings and their (read) credentials. */
  let env: NodeJS.ProcessEnv;
  const heapdump = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    run(process.execPath, [...RUN_SOURCE, cli, ...args], { ...env, ...extra }, 60_000);
  const keys: Record<string, string> = {};

  before(async () => {
    fixture = await startS3Fixture({ credentials: [DEFAULT_CREDENTIAL, putOnly, partReader] });
    dir = await mkdtemp(join(tmpdir(), 'kh-cli-'));
    const jvm = await HeldJvm.start({ alphas: 30_000, betas: 100, gammas: 10, alphaArrays: 3 });
    const dump = join(dir, 'java_pid1.hprof');
    try {
      await jvm.dump(dump);
    } finally {
      await jvm.close();
    }
    original = await readFile(dump);
    // Three pods ship the same dump with each compression, a second apart (key times differ).
    const shipped = await shipDumps(
      fixture,
      dir,
      (
        [
          ['shop-1', 'shop', 'gzip'],
          ['shop-2', 'shop', 'zstd'],
          ['billing-1', 'billing', 'none'],
        ] as const
      ).map(([pod, app, compression]) => ({
        pod,
        dump,
        env: {
          POD_NAME: pod,
          HEAPDUMP_APP: app,
          HEAPDUMP_COMPRESSION: compression,
          AWS_ACCESS_KEY_ID: putOnly.accessKeyId,
          AWS_SECRET_ACCESS_KEY: putOnly.secretAccessKey,
        },
      })),
    );
    for (const [pod, { key }] of Object.entries(shipped)) keys[pod] = key;
    env = developerEnv({
      home: dir,
      credential: DEFAULT_CREDENTIAL,
      bucket: 'dumps',
      endpoint: fixture.server.endpoint,
    });
  });
  after(async () => {
    await fixture?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('list: newest first, aligned, sizes and verdicts from the summaries, filters', async () => {
    const r = await heapdump(['list']);
    assert.equal(r.code, 0, r.stderr);
    const all = r.stdout.trim().split('\n');
    // The rows, then a rule and the total row.
    const lines = all.slice(0, -2);
    assert.match(all.at(-2) ?? '', /^[- ]+$/);
    const size = (original.length / 2 ** 20).toFixed(2);
    assert.match(
      all.at(-1) ?? '',
      new RegExp(
        `^total\\s+3 dumps\\s+${((original.length * 3) / 2 ** 20).toFixed(1)} MiB\\s+.+\\s3 complete$`,
      ),
    );
    assert.match(lines[0] ?? '', /^time\s+namespace\/app\/pod\s+size\s+stored\s+verdict\s+key$/);
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(/\s+/).at(-1)),
      [keys['billing-1'], keys['shop-2'], keys['shop-1']],
    );
    assert.match(
      lines[2] ?? '',
      new RegExp(
        `^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ\\s+prod/shop/shop-2\\s+${size} MiB\\s+[\\d.]+ [KM]iB zstd\\s+complete\\s`,
      ),
    );
    const keyColumn = lines[0]?.indexOf('key');
    assert.ok(
      lines.every((l) => l.length > (keyColumn ?? 0) && /\S/.test(l[keyColumn ?? 0] ?? '')),
      'key column aligned',
    );

    const shop = await heapdump(['list', '--app', 'shop', '--json']);
    const entries = JSON.parse(shop.stdout) as {
      pod: string;
      sha256: string;
      verdict: string;
      compression: string;
    }[];
    assert.deepEqual(
      entries.map((e) => [e.pod, e.compression]),
      [
        ['shop-2', 'zstd'],
        ['shop-1', 'gzip'],
      ],
    );
    assert.ok(entries.every((e) => e.sha256 === sha256(original) && e.verdict === 'complete'));
    const one = JSON.parse(
      (await heapdump(['list', '-n', 'prod', '--app', 'shop', '--pod', 'shop-1', '--json'])).stdout,
    );
    assert.equal(one.length, 1);
    assert.equal(JSON.parse((await heapdump(['list', '--since', '1h', '--json'])).stdout).length, 3);
    assert.equal(JSON.parse((await heapdump(['list', '--since', '2000-01-01', '--json'])).stdout).length, 3);
    assert.equal(JSON.parse((await heapdump(['list', '--since', '2099-01-01', '--json'])).stdout).length, 0);
  });

  it('list shows a summary it may not read as unreadable and goes on with the others', async () => {
    const r = await heapdump(['list', '--json'], {
      AWS_ACCESS_KEY_ID: partReader.accessKeyId,
      AWS_SECRET_ACCESS_KEY: partReader.secretAccessKey,
    });
    assert.equal(r.code, 0, r.stderr);
    const entries = JSON.parse(r.stdout) as { pod: string; summary: string; verdict?: string }[];
    assert.deepEqual(
      entries.map((e) => [e.pod, e.summary, e.verdict]),
      [
        ['billing-1', 'stored', 'complete'],
        ['shop-2', 'stored', 'complete'],
        ['shop-1', 'unreadable', undefined],
      ],
    );
    const table = await heapdump(['list'], {
      AWS_ACCESS_KEY_ID: partReader.accessKeyId,
      AWS_SECRET_ACCESS_KEY: partReader.secretAccessKey,
    });
    assert.match(table.stdout, /prod\/shop\/shop-1\s.*\sunreadable\s/);
  });

  it('list pages through more than one ListObjectsV2 page', async () => {
    const client = fixture.client();
    const many = 1_005;
    for (let i = 0; i < many; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, many - i) }, (_, j) =>
          client.send(
            new PutObjectCommand({
              Bucket: 'dumps',
              Key: `paging/ns/app/pod-${i + j}/20261128T000000Z-0000abcd-java_pid1.hprof`,
              Body: 'x',
            }),
          ),
        ),
      );
    }
    const r = await heapdump(['list', '--prefix', 'paging/', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).length, many);
    const pages = fixture.server.requests.filter((q) => q.operation === 'ListObjectsV2' && q.status === 200);
    assert.ok(pages.length >= 2);
  });

  it('list | head -1: stops quietly when the reader goes away (1,005 lines: more than a pipe holds)', async () => {
    const child = spawn(process.execPath, [...RUN_SOURCE, cli, 'list', '--prefix', 'paging/'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });

  it('get: decompresses to .hprof, verifies the SHA-256, refuses to overwrite, resumes', async () => {
    for (const pod of ['shop-1', 'shop-2', 'billing-1']) {
      const out = join(dir, `${pod}.hprof`);
      const r = await heapdump(['get', keys[pod] as string, '-o', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /sha256 [0-9a-f]{64} verified/);
      assert.equal(sha256(await readFile(out)), sha256(original), pod);
      const again = await heapdump(['get', keys[pod] as string, '-o', out]);
      assert.equal(again.code, 2);
      assert.equal(again.stderr, `heapdump: ${out} exists; pass --force to overwrite it\n`);
    }
    // latest with filters, default file name
    const latest = await run(
      process.execPath,
      [...RUN_SOURCE, cli, 'get', 'latest', '--app', 'shop'],
      { ...env },
      60_000,
    );
    assert.equal(latest.code, 0, latest.stderr);
    assert.match(latest.stdout, /^shop-2-\d{8}T\d{6}Z-java_pid1\.hprof: /);
    await rm(latest.stdout.split(':')[0] as string);

    // An interrupted download: the stored bytes so far are in <out>.download; the rest comes by Range.
    const key = keys['shop-1'] as string;
    const stored = Buffer.from(
      await (
        await fixture.client().send(new GetObjectCommand({ Bucket: 'dumps', Key: key }))
      ).Body!.transformToByteArray(),
    );
    const out = join(dir, 'resumed.hprof');
    const half = Math.floor(stored.length / 2);
    await writeFile(`${out}.download`, stored.subarray(0, half));
    const resumed = await heapdump(['get', key, '-o', out]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /verified, resumed after [\d.]+ KiB already downloaded$/m);
    assert.equal(sha256(await readFile(out)), sha256(original));
    // A partial that is not a prefix of the object fails verification, and is removed.
    const bad = Buffer.from(stored.subarray(0, half));
    bad[bad.length - 1] = (bad.at(-1) ?? 0) ^ 0xff;
    await writeFile(`${out}.download`, bad);
    const refused = await heapdump(['get', key, '-o', out, '--force']);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^heapdump: s3:\/\/dumps\/\S+: (the downloaded dump does not match its summary|.*(incorrect|invalid|corrupt|check))/,
    );
    assert.equal(refused.stderr.trim().split('\n').length, 1);
  });

  it('url: a presigned link anyone can download with', async () => {
    const r = await heapdump(['url', keys['billing-1'] as string, '--expires', '10m']);
    assert.equal(r.code, 0, r.stderr);
    const url = r.stdout.trim();
    assert.match(url, /X-Amz-Expires=600/);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(sha256(Buffer.from(await res.arrayBuffer())), sha256(original));
    assert.equal((await heapdump(['url', 'x', '--expires', '8d'])).code, 2);
  });

  it('summary and inspect <key>: the top classes without saving the dump', async () => {
    const s = await heapdump(['summary', 'latest', '--app', 'shop', '--top', '5']);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /^Pod {7}prod\/shop-2 \(app shop, node node-1\)$/m);
    assert.match(s.stdout, /^Verdict {3}complete$/m);
    assert.match(s.stdout, /HeapFixture\$Alpha$/m);
    const json = JSON.parse((await heapdump(['summary', keys['shop-1'] as string, '--json'])).stdout);
    assert.equal(json.dump.sha256, sha256(original));
    const inspected = await heapdump(['inspect', keys['shop-2'] as string, '--json']);
    assert.equal(inspected.code, 0, inspected.stderr);
    assert.equal(JSON.parse(inspected.stdout).verdict, 'complete');
    assert.equal(JSON.parse(inspected.stdout).bytes, original.length);
  });

  it('errors are one line and a non-zero exit: credentials, access, key, bucket, network', async () => {
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [
        ['list'],
        { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' },
        /^heapdump: no AWS credentials: set AWS_PROFILE/,
      ],
      [
        ['list'],
        { AWS_ACCESS_KEY_ID: putOnly.accessKeyId, AWS_SECRET_ACCESS_KEY: putOnly.secretAccessKey },
        /access denied/,
      ],
      [['list'], { AWS_SECRET_ACCESS_KEY: 'wrong' }, /rejected your credentials \(SignatureDoesNotMatch\)/],
      [['get', 'heapdumps/no/such/key.hprof', '-o', join(dir, 'x.hprof')], {}, /no such object/],
      [['list'], { HEAPDUMP_BUCKET: 'no-such-bucket' }, /the bucket does not exist/],
      [
        ['list'],
        { HEAPDUMP_S3_ENDPOINT: 'http://127.0.0.1:9' },
        /^heapdump: cannot reach http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\)\n$/,
      ],
      [['list'], { HEAPDUMP_BUCKET: '' }, /^heapdump: no bucket: pass --bucket or set HEAPDUMP_BUCKET\n$/],
    ];
    for (const [args, extra, message] of cases) {
      const r = await heapdump(args, extra);
      assert.notEqual(r.code, 0, `${args} ${JSON.stringify(extra)}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
  });

  it('--help works for every verb', async () => {
    for (const verb of ['list', 'get', 'url', 'summary', 'inspect', 'trigger', 'diff', 'doctor']) {
      const r = await heapdump([verb, '--help']);
      assert.equal(r.code, 0, verb);
      assert.match(r.stdout, new RegExp(`^Usage: heapdump ${verb} `));
    }
  });
});
