// The dump volume is shared with the app container, which may be compromised: every hostile thing it can put
// there is refused (told once), while a real dump beside them ships, and SIGTERM still exits in time.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chown, link, mkdir, mkdtemp, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { runOutOfMemory } from '../../../test/support/java.ts';
import { RUN_SOURCE } from '../../../test/support/node.ts';
import { run } from '../../../test/support/processes.ts';
import { type S3Fixture, startS3Fixture } from '../../../test/support/s3-fixture.ts';
import { localUploaderEnv, UPLOADER_MAIN, UploaderProcess } from '../../../test/support/uploader.ts';
import { STATE_DIR, stateId } from '../src/state.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const REFUSED = 'not shipped: not a dump file the uploader may read';

describe('uploader with hostile files in the dump volume', () => {
  let s3: S3Fixture;
  let root: string;
  let dump: Buffer;
  before(async () => {
    s3 = await startS3Fixture();
    root = await mkdtemp(join(tmpdir(), 'kh-hostile-'));
    const path = join(root, 'real.hprof');
    const jvm = await runOutOfMemory({ alphas: 1000, betas: 10, gammas: 10, alphaArrays: 2 }, [
      '-Xmx64m',
      '-XX:+HeapDumpOnOutOfMemoryError',
      `-XX:HeapDumpPath=${path}`,
    ]);
    assert.match(jvm.output, /Heap dump file created/);
    dump = await readFile(path);
  });
  after(async () => {
    await s3.close();
    await rm(root, { recursive: true, force: true });
  });

  it('refuses links, hard links, FIFOs, a directory, another owner, an oversized file and crafted states; ships the real dump', async () => {
    const dir = join(root, 'case', 'dumps');
    await mkdir(dir, { recursive: true });
    const victim = join(root, 'victim'); // what "../../victim" names from the dump directory
    await writeFile(victim, 'keep me');
    const expected: Record<string, string> = {
      'environ.hprof': 'symlink',
      'shadow.hprof': 'symlink',
      'zero.hprof': 'symlink',
      'x.hprof': 'directory',
      'other-owner.hprof': 'owner',
      'sparse.hprof': 'too-large',
      'secret.hprof': 'hardlink',
      'twice.hprof': 'hardlink',
      'twice2.hprof': 'hardlink',
    };
    // Hard links: to a file outside the directory, and two names of one dump.
    const secret = join(root, 'secret');
    await writeFile(secret, 'password=hunter2', { mode: 0o600 });
    await link(secret, join(dir, 'secret.hprof'));
    await writeFile(join(dir, 'twice.hprof'), dump, { mode: 0o600 });
    await link(join(dir, 'twice.hprof'), join(dir, 'twice2.hprof'));
    await symlink('/proc/self/environ', join(dir, 'environ.hprof'));
    await symlink('/etc/shadow', join(dir, 'shadow.hprof'));
    await symlink('/dev/zero', join(dir, 'zero.hprof'));
    for (let i = 0; i < 5; i++) {
      const name = i === 0 ? 'fifo.hprof' : `fifo${i}.hprof`;
      assert.equal(spawnSync('mkfifo', [join(dir, name)]).status, 0);
      expected[name] = 'fifo';
    }
    await mkdir(join(dir, 'x.hprof'));
    await writeFile(join(dir, 'other-owner.hprof'), dump);
    await chown(join(dir, 'other-owner.hprof'), 4242, 4242);
    await writeFile(join(dir, 'sparse.hprof'), '');
    await truncate(join(dir, 'sparse.hprof'), 64 * 2 ** 30);
    // Crafted states: one names a file outside the directory, one claims the real dump's id for it.
    await mkdir(join(dir, STATE_DIR), { mode: 0o700 });
    const crafted = {
      version: 2,
      file: '../../victim',
      dev: 1,
      ino: 1,
      key: 'heapdumps/prod/shop/shop-7d9f-abcde/20260101T000000Z-00000000-java_pid1.hprof',
      uploadId: 'x',
      startedAt: new Date().toISOString(),
      compression: 'none',
      crc32: true,
    };
    for (const id of [stateId('../../victim'), stateId('java_pid1.hprof')])
      await writeFile(join(dir, STATE_DIR, `${id}.json`), JSON.stringify(crafted));
    await writeFile(join(dir, 'java_pid1.hprof'), dump, { mode: 0o600 });

    const uploader = new UploaderProcess(
      localUploaderEnv(s3, dir, {
        HEAPDUMP_COMPRESSION: 'none',
        HEAPDUMP_OWNER_UID: String(process.getuid!()),
        HEAPDUMP_MAX_DUMP_BYTES: String(2 ** 30),
        HEAPDUMP_SHUTDOWN_SECONDS: '10',
      }),
    );
    let exit: number | null | undefined;
    let stopSeconds = 0;
    try {
      await uploader.waitForLog((l) => l.msg === 'dump stored', 60_000, 'the real dump stored');
      // Two rescans more: each refusal is still told once.
      await new Promise((r) => setTimeout(r, 11_000));
      for (const [file, reason] of Object.entries(expected)) {
        const told = uploader.logs.filter((l) => l.msg === REFUSED && l.file === file);
        assert.equal(told.length, 1, `${file}: ${JSON.stringify(told)}`);
        assert.equal(told[0]!.reason, reason, file);
        assert.equal(told[0]!.level, 'warn');
      }
      const discarded = uploader.logs.filter(
        (l) => l.msg === 'discarded a saved upload state that cannot be trusted',
      );
      assert.ok(discarded.length >= 1, 'the crafted states are discarded with a warning');
      assert.ok(discarded.every((l) => /another file/.test(String(l.why))));
    } finally {
      const t0 = Date.now();
      exit = await uploader.stop('SIGTERM', 20_000);
      stopSeconds = (Date.now() - t0) / 1000;
    }
    assert.equal(exit, 0, `SIGTERM exits on its own (${stopSeconds} s)\n${uploader.stderr}`);
    assert.ok(stopSeconds < 10, `within the grace period: ${stopSeconds} s`);
    assert.ok(existsSync(victim), 'nothing outside the dump directory is deleted');
    assert.equal(await readFile(victim, 'utf8'), 'keep me');
    for (const name of Object.keys(expected)) assert.ok(existsSync(join(dir, name)), `${name} left alone`);

    const client = s3.client();
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'dumps', Prefix: 'heapdumps/' }));
    const dumps = (listed.Contents ?? []).map((o) => o.Key!).filter((k) => !k.endsWith('.summary.json'));
    assert.equal(dumps.length, 1, dumps.join(', '));
    assert.match(dumps[0]!, /-java_pid1\.hprof$/);
    const obj = await client.send(new GetObjectCommand({ Bucket: 'dumps', Key: dumps[0]! }));
    assert.equal(sha256(await obj.Body!.transformToByteArray()), sha256(dump));
  });

  it('never prints a secret given in the endpoint URL', async () => {
    const r = await run(process.execPath, [...RUN_SOURCE, UPLOADER_MAIN], {
      PATH: process.env.PATH,
      HEAPDUMP_DIR: root,
      HEAPDUMP_BUCKET: 'dumps',
      HEAPDUMP_S3_ENDPOINT: 'https://AKIAKEY:s3cr3t-value@127.0.0.1:9',
    });
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /HEAPDUMP_S3_ENDPOINT "https:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:9\/?" holds credentials/,
    );
    assert.ok(!`${r.stdout}${r.stderr}`.includes('s3cr3t-value'));
  });
});
