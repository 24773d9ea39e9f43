// What a developer must be able to trust, against the strict S3 server and dumps the real uploader stored:
// `latest` is a complete dump, every verb says the verdict, links and messages tell the truth, downloads are
// private, corrupt data fails cleanly (issue 19 item 7), bad usage exits 2.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { constants, zstdCompressSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { developerEnv } from '../../../test/support/developer-env.ts';
import { HeldJvm } from '../../../test/support/java.ts';
import { RUN_SOURCE } from '../../../test/support/node.ts';
import { run } from '../../../test/support/processes.ts';
import { DEFAULT_CREDENTIAL } from '../../../test/support/s3/server.ts';
import { type S3Fixture, startS3Fixture } from '../../../test/support/s3-fixture.ts';
import { shipDumps } from './ship.ts';

const cli = join(import.meta.dirname, '../src/main.ts');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const oneLine = (s: string) => {
  assert.equal(s.trim().split('\n').length, 1, s);
  assert.doesNotMatch(s, /\n\s+at |Unhandled/, s);
};

describe('a CLI developers can trust', () => {
  let fixture: S3Fixture;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let original: Buffer;
  const keys: Record<string, string> = {};
  const heapdump = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    run(process.execPath, [...RUN_SOURCE, cli, ...args], { ...env, ...extra }, 60_000);

  before(async () => {
    // Slow enough that a download of the raw dump can be caught half way.
    fixture = await startS3Fixture({ rateBytesPerSecond: 3 * 2 ** 20 });
    dir = await mkdtemp(join(tmpdir(), 'kh-trust-'));
    const dump = join(dir, 'java_pid1.hprof');
    const jvm = await HeldJvm.start({ alphas: 30_000, betas: 100, gammas: 10, alphaArrays: 3 });
    try {
      await jvm.dump(dump);
    } finally {
      await jvm.close();
    }
    original = await readFile(dump);
    // shop-1 stores a complete dump; shop-3, later, one cut short (the uploader ships it as incomplete).
    const shipped = await shipDumps(
      fixture,
      dir,
      (
        [
          ['shop-1', original, 'none'],
          ['shop-3', original.subarray(0, Math.floor(original.length * 0.6)), 'zstd'],
        ] as const
      ).map(([pod, bytes, compression]) => ({
        pod,
        dump: bytes,
        env: { POD_NAME: pod, HEAPDUMP_COMPRESSION: compression, HEAPDUMP_QUIET_SECONDS: '1' },
      })),
    );
    for (const [pod, { key, stored }] of Object.entries(shipped)) {
      keys[pod] = key;
      assert.equal(stored.verdict, pod === 'shop-1' ? 'complete' : 'incomplete');
    }
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

  it('get latest takes the newest complete dump; an incomplete one only when asked, and says so', async () => {
    const out = join(dir, 'latest.hprof');
    const r = await heapdump(['get', 'latest', '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^\S+latest\.hprof: [\d.]+ MiB, complete, sha256 [0-9a-f]{64} verified$/m);
    assert.equal(sha256(await readFile(out)), sha256(original));

    const asked = await heapdump(['get', 'latest', '--include-incomplete', '-o', join(dir, 'cut.hprof')]);
    assert.equal(asked.code, 0, asked.stderr);
    assert.match(
      asked.stderr,
      new RegExp(`^heapdump: note: ${keys['shop-3']} is incomplete, not a complete dump`),
    );
    assert.match(asked.stdout, /, incomplete, sha256 [0-9a-f]{64} verified$/m);

    const named = await heapdump(['get', keys['shop-3'] as string, '-o', join(dir, 'named.hprof')]);
    assert.equal(named.code, 0, named.stderr);
    assert.match(named.stderr, /is incomplete, not a complete dump/);

    const none = await heapdump(['get', 'latest', '--pod', 'shop-3', '-o', join(dir, 'none.hprof')]);
    assert.equal(none.code, 1);
    assert.match(
      none.stderr,
      /^heapdump: no complete dump matching --pod shop-3 under s3:\/\/dumps\/heapdumps\/: .*is incomplete\); name a key, or pass --include-incomplete\n$/,
    );
  });

  it('summary and url state the verdict; url checks the object exists', async () => {
    const s = await heapdump(['summary', 'latest', '--include-incomplete']);
    assert.match(s.stdout, /^Verdict {3}incomplete: /m);
    const link = await heapdump(['url', 'latest']);
    assert.equal(link.code, 0, link.stderr);
    assert.equal(link.stderr, `heapdump: ${keys['shop-1']}: complete\n`);
    assert.match(link.stdout, /^http:\/\/127\.0\.0\.1:\d+\/dumps\/heapdumps\/.*X-Amz-Signature=/);
    const missing = await heapdump([
      'url',
      'heapdumps/prod/shop/shop-1/20261128T000000Z-0000abcd-none.hprof',
    ]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '');
    assert.match(
      missing.stderr,
      /^heapdump: s3:\/\/dumps\/heapdumps\/prod\/shop\/shop-1\/\S+: no such object\n$/,
    );
  });

  it('a filter that matches nothing is named, with what there is', async () => {
    const list = await heapdump(['list', '-n', 'nothere']);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(
      list.stdout,
      'no dumps matching -n nothere under s3://dumps/heapdumps/ (2 others there; namespaces: prod)\n',
    );
    const get = await heapdump(['get', 'latest', '--app', 'nothere']);
    assert.equal(get.code, 2);
    assert.equal(
      get.stderr,
      'heapdump: no dumps matching --app nothere under s3://dumps/heapdumps/ (2 others there; apps: shop)\n',
    );
    const empty = await heapdump(['list', '--prefix', 'empty/']);
    assert.equal(empty.stdout, 'no dumps under s3://dumps/empty/\n');
  });

  it('an endpoint that answers but is not S3 is called so', async () => {
    for (const [status, body] of [
      [200, '<html><body>Welcome</body></html>'],
      [404, '<html><body>Not Found</body></html>'],
      [200, '{"status":"ok"}'],
    ] as const) {
      const web: Server = createServer((_req, res) => {
        res.writeHead(status, { 'content-type': body.startsWith('{') ? 'application/json' : 'text/html' });
        res.end(body);
      });
      await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
      const endpoint = `http://127.0.0.1:${(web.address() as { port: number }).port}`;
      try {
        for (const args of [
          ['list'],
          ['get', keys['shop-1'] as string, '-o', join(dir, 'web.hprof')],
          ['url', 'latest'],
        ]) {
          const r = await heapdump(args, { HEAPDUMP_S3_ENDPOINT: endpoint });
          assert.equal(r.code, 1, `${args} ${status}: ${r.stdout}`);
          assert.match(
            r.stderr,
            new RegExp(`^heapdump: ${endpoint} answers( \\(HTTP ${status}\\))? but is not an S3 endpoint;`),
            `${args} ${body}`,
          );
          oneLine(r.stderr);
        }
      } finally {
        web.close();
      }
    }
  });

  it('downloads and their partial files are 0600; an interrupted download resumes', async () => {
    const out = join(dir, 'private.hprof');
    const child = spawn(process.execPath, [...RUN_SOURCE, cli, 'get', keys['shop-1'] as string, '-o', out], {
      env,
      stdio: 'ignore',
    });
    let partialMode: number | undefined;
    let tempMode: number | undefined;
    for (let i = 0; i < 400 && (partialMode === undefined || tempMode === undefined); i++) {
      partialMode ??= await stat(`${out}.download`).then(
        (s) => s.mode & 0o777,
        () => undefined,
      );
      tempMode ??= await stat(`${out}.part`).then(
        (s) => s.mode & 0o777,
        () => undefined,
      );
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.equal(partialMode, 0o600);
    assert.equal(tempMode, 0o600);
    const resumed = await heapdump(['get', keys['shop-1'] as string, '-o', out]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /, resumed after [\d.]+ (KiB|MiB) already downloaded$/m);
    assert.equal((await stat(out)).mode & 0o777, 0o600);
    assert.equal(sha256(await readFile(out)), sha256(original));
  });

  it('bad usage exits 2 with one line: a missing -o directory, an -o directory', async () => {
    const missing = await heapdump(['get', 'latest', '-o', '/missing/dir/x']);
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, 'heapdump: /missing/dir/x: the directory /missing/dir does not exist\n');
    const directory = await heapdump(['get', 'latest', '-o', dir]);
    assert.equal(directory.code, 2);
    assert.match(directory.stderr, /is a directory; pass a file name with -o\n$/);
    const top = await heapdump(['list', '--top', '0']);
    assert.equal(top.code, 2);
  });

  it('a corrupt .zst object: a clear error, nothing left behind, and the same on a rerun (20 corruptions)', async () => {
    // As the uploader writes it: zstd with a checksum per frame, and the dump's summary beside it.
    const good = zstdCompressSync(original, { params: { [constants.ZSTD_c_checksumFlag]: 1 } });
    const client = fixture.client();
    const summary = await client.send(
      new GetObjectCommand({ Bucket: 'dumps', Key: `${keys['shop-1']}.summary.json` }),
    );
    const summaryBody = await summary.Body!.transformToString();
    for (let i = 0; i < 20; i++) {
      const bad = Buffer.from(good);
      // A deterministic spread of corruptions: flipped bytes from the frame header to the last block.
      for (let j = 0; j < 1 + (i % 4); j++) {
        const at = Math.floor((((i * 7919 + j * 104_729) % 1000) / 1000) * (bad.length - 8)) + 4;
        bad[at] = (bad[at] ?? 0) ^ (0x5a + i);
      }
      const key = `heapdumps/fuzz/zst/fuzz-${i}/20261201T0000${String(i).padStart(2, '0')}Z-0000abcd-java_pid1.hprof.zst`;
      await client.send(
        new PutObjectCommand({ Bucket: 'dumps', Key: key, Body: bad, Metadata: { compression: 'zstd' } }),
      );
      await client.send(
        new PutObjectCommand({
          Bucket: 'dumps',
          Key: `${key}.summary.json`,
          Body: summaryBody,
          Metadata: summary.Metadata,
        }),
      );
      const out = join(dir, `fuzz-${i}.hprof`);
      for (const attempt of [1, 2]) {
        const r = await heapdump(['get', key, '-o', out, '--force']);
        assert.notEqual(r.code, 0, `corruption ${i} attempt ${attempt} was not noticed`);
        assert.equal(r.code, 1, r.stderr);
        oneLine(r.stderr);
        assert.match(
          r.stderr,
          /^heapdump: s3:\/\/dumps\/\S+: (the stored zstd data is corrupt \(.+\); nothing kept|the downloaded dump does not match its summary)/,
        );
        assert.ok(
          !existsSync(`${out}.download`) && !existsSync(`${out}.part`) && !existsSync(out),
          `corruption ${i}`,
        );
      }
      const inspected = await heapdump(['inspect', key]);
      assert.equal(inspected.code, 1, inspected.stderr);
      assert.match(inspected.stdout, /^Verdict {3}(invalid|incomplete): /m);
    }
  });
});
