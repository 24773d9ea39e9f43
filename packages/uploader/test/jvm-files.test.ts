// The JVM's other evidence in the dump volume: a crash log (`hs_err_pid<N>.log`, from the component's
// -XX:ErrorFile) and a Flight Recorder file (a real recording from a JVM run with the component's flags) ship
// with the dumps' key layout, a summary saying their kind and no verdict, and the dumps' hostile-file rules;
// `heapdump list` shows their kind and `heapdump get` writes them as they were.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { STORED_FILE_SUMMARY_SCHEMA, type StoredFileSummary, summaryKey } from '@kube-heapdump/contract';
import { developerEnv } from '../../../test/support/developer-env.ts';
import { RUN_SOURCE } from '../../../test/support/node.ts';
import { run } from '../../../test/support/processes.ts';
import { DEFAULT_CREDENTIAL } from '../../../test/support/s3/server.ts';
import { type S3Fixture, startS3Fixture } from '../../../test/support/s3-fixture.ts';
import { localUploaderEnv, UploaderProcess } from '../../../test/support/uploader.ts';
import { heapDumpJvmFlags } from '../../heapdump/src/jvm.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const cli = join(import.meta.dirname, '../../cli/src/main.ts');
const REFUSED = 'not shipped: not a dump file the uploader may read';
const PREFIX = 'heapdumps/prod/shop/shop-7d9f-abcde/';

describe('uploader: crash logs and Flight Recorder files', () => {
  let s3: S3Fixture;
  let root: string;
  let recording: Buffer;
  let staged: string;
  before(async () => {
    s3 = await startS3Fixture();
    root = await mkdtemp(join(tmpdir(), 'kh-jvm-files-'));
    // A JVM run with the component's flags (mount path: a staging directory), exiting normally: its recording.
    staged = join(root, 'staging');
    await mkdir(staged);
    const main = join(root, 'Hello.java');
    await writeFile(
      main,
      'public class Hello { public static void main(String[] a) throws Exception { Thread.sleep(300); } }\n',
    );
    const flags = heapDumpJvmFlags({ mountPath: staged, flightRecorder: true });
    assert.ok(flags.some((f) => f.startsWith('-XX:StartFlightRecording=')));
    const jvm = await run('java', [...flags, main]);
    assert.equal(jvm.code, 0, jvm.stderr);
    recording = await readFile(join(staged, 'flight-recording.jfr'));
    assert.equal(recording.subarray(0, 4).toString('latin1'), 'FLR\0', 'a Flight Recorder file');
  });
  after(async () => {
    await s3.close();
    await rm(root, { recursive: true, force: true });
  });

  it('ships them by kind with the key layout, refuses a symlinked crash log, lists and gets them', async () => {
    const dir = join(root, 'dumps');
    await mkdir(dir);
    const secret = join(root, 'secret');
    await writeFile(secret, 'password=hunter2', { mode: 0o600 });
    await symlink(secret, join(dir, 'hs_err_pid1.log'));
    const uploader = new UploaderProcess(
      localUploaderEnv(s3, dir, {
        HEAPDUMP_QUIET_SECONDS: '2',
        HEAPDUMP_OWNER_UID: String(process.getuid!()),
      }),
    );
    const crashLog = Buffer.from(
      `#\n# A fatal error has been detected by the Java Runtime Environment:\n#\n#  SIGSEGV (0xb)\n${'x'.repeat(20_000)}\n`,
    );
    try {
      await uploader.waitForLog((l) => l.msg === REFUSED, 30_000, 'the symlink refused');
      // The JVM writes its crash log in pieces: it ships whole, once quiet.
      await writeFile(join(dir, 'hs_err_pid4242.log'), crashLog.subarray(0, 100), { mode: 0o600 });
      await new Promise((r) => setTimeout(r, 1000));
      await appendFile(join(dir, 'hs_err_pid4242.log'), crashLog.subarray(100));
      await rename(join(staged, 'flight-recording.jfr'), join(dir, 'flight-recording.jfr'));
      for (const kind of ['hs-err', 'jfr'])
        await uploader.waitForLog(
          (l) => l.msg === 'dump stored' && l.kind === kind,
          60_000,
          `${kind} stored`,
        );
    } finally {
      assert.equal(await uploader.stop('SIGTERM', 20_000), 0, uploader.stderr);
    }
    const refusals = uploader.logs.filter((l) => l.msg === REFUSED);
    assert.deepEqual(
      refusals.map((l) => [l.file, l.reason]),
      [['hs_err_pid1.log', 'symlink']],
    );
    assert.ok(existsSync(join(dir, 'hs_err_pid1.log')), 'the link is left alone');
    assert.equal(await readFile(secret, 'utf8'), 'password=hunter2');
    assert.ok(!existsSync(join(dir, 'hs_err_pid4242.log')), 'the crash log is deleted once stored');
    assert.ok(!existsSync(join(dir, 'flight-recording.jfr')), 'the recording is deleted once stored');

    const client = s3.client();
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'dumps', Prefix: 'heapdumps/' }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!).filter((k) => !k.endsWith('.summary.json'));
    assert.equal(keys.length, 2, keys.join(', '));
    const keyOf = (file: string) => {
      const re = new RegExp(`^${PREFIX}\\d{8}T\\d{6}Z-[0-9a-f]{8}-${file.replace('.', '\\.')}\\.zst$`);
      const key = keys.find((k) => re.test(k));
      assert.ok(key, `${file} under the key layout, compressed like dumps: ${keys.join(', ')}`);
      return key;
    };
    const expected = [
      ['hs_err_pid4242.log', 'hs-err', crashLog],
      ['flight-recording.jfr', 'jfr', recording],
    ] as const;
    for (const [file, kind, bytes] of expected) {
      const key = keyOf(file);
      const obj = await client.send(new GetObjectCommand({ Bucket: 'dumps', Key: summaryKey(key) }));
      const summary = JSON.parse(await obj.Body!.transformToString()) as StoredFileSummary;
      assert.equal(summary.storedSchema, STORED_FILE_SUMMARY_SCHEMA);
      assert.equal(summary.kind, kind);
      assert.equal('verdict' in summary, false, 'no HPROF verdict');
      assert.equal(summary.dump.file, file);
      assert.equal(summary.dump.sha256, sha256(bytes));
      assert.equal(summary.dump.originalBytes, bytes.length);
      const head = await client.send(new HeadObjectCommand({ Bucket: 'dumps', Key: summaryKey(key) }));
      assert.equal(head.Metadata?.kind, kind);
      assert.equal(head.Metadata?.verdict, undefined);
    }

    const env = developerEnv({
      home: root,
      credential: DEFAULT_CREDENTIAL,
      bucket: 'dumps',
      endpoint: s3.server.endpoint,
    });
    const list = await run(process.execPath, [...RUN_SOURCE, cli, 'list'], { ...env, NO_COLOR: '1' });
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /^time\s+namespace\/app\/pod\s+kind\s+size\s+stored\s+verdict\s+key$/);
    for (const [file, kind] of expected) {
      const row = lines.find((l) => l.endsWith(keyOf(file)));
      assert.match(row ?? '', new RegExp(`\\sprod/shop/shop-7d9f-abcde\\s+${kind}\\s.*\\s-\\s+\\S+$`), file);
    }
    assert.match(lines.at(-1) ?? '', /^total\s+2 files\s+1 hs-err, 1 jfr\s/);

    for (const [file, , bytes] of expected) {
      const out = join(root, `got-${file}`);
      const got = await run(process.execPath, [...RUN_SOURCE, cli, 'get', keyOf(file), '-o', out], env);
      assert.equal(got.code, 0, got.stderr);
      assert.equal(sha256(await readFile(out)), sha256(bytes), `${file} as it was`);
    }
    const summary = await run(
      process.execPath,
      [...RUN_SOURCE, cli, 'summary', keyOf('hs_err_pid4242.log')],
      env,
    );
    assert.equal(summary.code, 0, summary.stderr);
    assert.equal(summary.stderr, '', 'no HPROF field is missed in a crash log summary');
    assert.match(summary.stdout, /^Kind\s+hs-err: not a heap dump, no verdict/m);
    assert.match(summary.stdout, new RegExp(`sha256 ${sha256(crashLog)}`));
    const jfr = await run('jfr', ['summary', join(root, 'got-flight-recording.jfr')]);
    assert.equal(jfr.code, 0, jfr.stderr);
    assert.match(jfr.stdout, /jdk\.JVMInformation/);
  });

  it('with redaction on, a recording is kept, not shipped (only HPROF is redacted)', async () => {
    const dir = join(root, 'redacted');
    await mkdir(dir);
    await writeFile(join(dir, 'app.jfr'), recording, { mode: 0o600 });
    const r = await run(
      process.execPath,
      [...RUN_SOURCE, join(import.meta.dirname, '../src/main.ts'), '--once'],
      {
        PATH: process.env.PATH,
        AWS_CONFIG_FILE: '/nonexistent',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
        HEAPDUMP_METRICS_PORT: '0',
        ...localUploaderEnv(s3, dir, { HEAPDUMP_QUIET_SECONDS: '1', HEAPDUMP_REDACT: 'strings' }),
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const refused = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === REFUSED);
    assert.deepEqual(
      refused.map((l) => [l.file, l.reason]),
      [['app.jfr', 'cannot-redact']],
    );
    assert.ok(existsSync(join(dir, 'app.jfr')));
  });
});
