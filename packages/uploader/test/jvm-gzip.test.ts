// Dumps the JVM gzipped itself (issue 27.7): `jcmd GC.heap_dump -gz=1` (or -XX:HeapDumpGzipLevel with a file
// path) writes gzip whatever the name, `.hprof` included. The uploader ships the file as it is and says what it
// is: the object's metadata, key and Content-Type say gzip, and the summary describes what it decompresses to,
// so `heapdump get` writes the JVM's .hprof (verified against the summary) and `heapdump inspect <key>` reads it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { StoredDumpSummary } from '@kube-heapdump/contract';
import { developerEnv } from '../../../test/support/developer-env.ts';
import { HeldJvm } from '../../../test/support/java.ts';
import { RUN_SOURCE } from '../../../test/support/node.ts';
import { run } from '../../../test/support/processes.ts';
import { DEFAULT_CREDENTIAL } from '../../../test/support/s3/server.ts';
import { type S3Fixture, startS3Fixture } from '../../../test/support/s3-fixture.ts';
import { localUploaderEnv, UploaderProcess } from '../../../test/support/uploader.ts';

const cli = join(import.meta.dirname, '../../cli/src/main.ts');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('a dump the JVM gzipped (issue 27.7)', () => {
  let fixture: S3Fixture;
  let root: string;
  let gzipped: Buffer;
  before(async () => {
    fixture = await startS3Fixture();
    root = await mkdtemp(join(tmpdir(), 'kh-jvm-gzip-'));
    const jvm = await HeldJvm.start({ alphas: 20_000, betas: 100, gammas: 10, alphaArrays: 3 });
    try {
      await jvm.dump(join(root, 'source.hprof'), 1);
    } finally {
      await jvm.close();
    }
    gzipped = await readFile(join(root, 'source.hprof'));
    assert.deepEqual([...gzipped.subarray(0, 2)], [0x1f, 0x8b], 'jcmd -gz=1 wrote gzip into the .hprof path');
  });
  after(async () => {
    await fixture.close();
    await rm(root, { recursive: true, force: true });
  });

  for (const name of ['heapdump-jcmd.hprof', 'java_pid1.hprof.gz']) {
    it(`${name}: stored as it is and declared gzip; get and inspect <key> read the dump`, async () => {
      const pod = name.endsWith('.gz') ? 'gz-named' : 'hprof-named';
      const dir = join(root, pod);
      await mkdir(dir);
      await writeFile(join(dir, name), gzipped, { mode: 0o600 });
      const uploader = new UploaderProcess(localUploaderEnv(fixture, dir, { POD_NAME: pod }), ['--once']);
      assert.equal(await uploader.exited, 0, uploader.stderr);
      const key = String((await uploader.waitForLog((l) => l.msg === 'dump stored')).key);
      assert.match(key, /\.hprof\.gz$/, 'the key says gzip');

      const client = fixture.client();
      const head = await client.send(new HeadObjectCommand({ Bucket: 'dumps', Key: key }));
      assert.equal(head.Metadata?.compression, 'gzip');
      assert.equal(head.ContentType, 'application/gzip');
      const stored = Buffer.from(
        await (
          await client.send(new GetObjectCommand({ Bucket: 'dumps', Key: key }))
        ).Body!.transformToByteArray(),
      );
      assert.ok(stored.equals(gzipped), 'the JVM bytes, not compressed again');
      const hprof = gunzipSync(gzipped);
      const summary = JSON.parse(
        await (
          await client.send(new GetObjectCommand({ Bucket: 'dumps', Key: `${key}.summary.json` }))
        ).Body!.transformToString(),
      ) as StoredDumpSummary;
      assert.equal(summary.dump.compression, 'gzip');
      assert.equal(summary.dump.sha256, sha256(hprof), 'the summary describes the dump the object holds');
      assert.equal(summary.dump.originalBytes, hprof.length);
      assert.equal(summary.dump.storedBytes, gzipped.length);
      assert.equal(summary.verdict, 'complete');

      const env = developerEnv({
        home: root,
        credential: DEFAULT_CREDENTIAL,
        bucket: 'dumps',
        endpoint: fixture.server.endpoint,
      });
      const out = join(root, `${pod}-got.hprof`);
      const got = await run(process.execPath, [...RUN_SOURCE, cli, 'get', key, '-o', out], env, 60_000);
      assert.equal(got.code, 0, got.stderr);
      assert.ok((await readFile(out)).equals(hprof), 'get writes the decompressed .hprof');
      const inspected = await run(
        process.execPath,
        [...RUN_SOURCE, cli, 'inspect', key, '--json'],
        env,
        60_000,
      );
      assert.equal(inspected.code, 0, inspected.stderr);
      const parsed = JSON.parse(inspected.stdout) as { verdict: string; bytes: number };
      assert.equal(parsed.verdict, 'complete');
      assert.equal(parsed.bytes, hprof.length);
    });
  }
});
