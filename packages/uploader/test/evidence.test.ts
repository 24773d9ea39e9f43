// The agent's evidence file beside its dump (`<dump>.evidence.json`) is written by the app container: the
// uploader waits a little for it, stores it beside the dump and names it in the summary only when it is a
// regular file of the app's, valid and about that dump; otherwise it says why once and ships the dump alone.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { summaryKey } from '@kube-heapdump/contract';
import { type S3Fixture, startS3Fixture } from '../../../test/support/s3-fixture.ts';
import { localUploaderEnv, UploaderProcess } from '../../../test/support/uploader.ts';
import { evidenceFor } from '../../contract/test/evidence-fixture.ts';
import { sampleDump } from '../../hprof/test/synthetic.ts';

const REFUSED = 'not shipped: not a dump file the uploader may read';

describe("uploader: the agent's evidence", () => {
  let s3: S3Fixture;
  let root: string;
  before(async () => {
    s3 = await startS3Fixture();
    root = await mkdtemp(join(tmpdir(), 'kh-evidence-'));
  });
  after(async () => {
    await s3.close();
    await rm(root, { recursive: true, force: true });
  });

  it('stores one that comes after its dump; refuses a symlinked one and one naming another dump', async () => {
    const dir = join(root, 'dumps');
    await mkdir(dir);
    const dump = sampleDump(8);
    const late = 'heapdump-threshold-20261207T140202Z.hprof';
    const linked = 'heapdump-ondemand-20261207T140203Z.hprof';
    const other = 'heapdump-threshold-20261207T140204Z.hprof';
    const secret = join(root, 'secret');
    await writeFile(secret, 'password=hunter2', { mode: 0o600 });
    await symlink(secret, join(dir, `${linked}.evidence.json`));
    await writeFile(join(dir, `${other}.evidence.json`), JSON.stringify(evidenceFor(late)), { mode: 0o600 });
    for (const name of [late, linked, other]) await writeFile(join(dir, name), dump, { mode: 0o600 });

    const uploader = new UploaderProcess(
      localUploaderEnv(s3, dir, {
        HEAPDUMP_COMPRESSION: 'none',
        HEAPDUMP_OWNER_UID: String(process.getuid!()),
      }),
    );
    try {
      // The agent writes a threshold dump's evidence after the dump when memory is short: a second later here.
      await new Promise((r) => setTimeout(r, 1000));
      await writeFile(join(dir, `${late}.evidence.json`), JSON.stringify(evidenceFor(late)), { mode: 0o600 });
      const storedCount = () => uploader.logs.filter((l) => l.msg === 'dump stored').length;
      await uploader.waitForLog(() => storedCount() === 3, 60_000, 'three dumps stored');
    } finally {
      await uploader.stop('SIGTERM', 20_000);
    }
    const stored = (name: string) => uploader.logs.find((l) => l.msg === 'dump stored' && l.file === name);
    const client = s3.client();
    const read = async (key: string) =>
      JSON.parse(
        await (
          await client.send(new GetObjectCommand({ Bucket: 'dumps', Key: key }))
        ).Body!.transformToString(),
      );

    // Stored beside the dump, only its known fields, named in the summary; the file then leaves the volume.
    const lateKey = String(stored(late)?.key);
    const evidence = await read(`${lateKey}.evidence.json`);
    assert.equal(evidence.injected, undefined);
    assert.equal(evidence.jvm.heapDumpStackBytes, 132_644_864);
    const summary = await read(summaryKey(lateKey));
    assert.equal(summary.evidence.key, `${lateKey}.evidence.json`);
    assert.equal(summary.evidence.trigger, 'memory-threshold');
    const told = uploader.logs.find((l) => l.msg === 'evidence stored');
    assert.equal(told?.heapDumpStackBytes, 132_644_864, 'doctor reads it from this line');

    // A symlink (to a secret) is refused as any hostile file; the dump ships without evidence.
    const refused = uploader.logs.filter((l) => l.msg === REFUSED && l.file === `${linked}.evidence.json`);
    assert.equal(refused.length, 1, JSON.stringify(refused));
    assert.equal(refused[0]?.reason, 'symlink');
    assert.equal((await read(summaryKey(String(stored(linked)?.key)))).evidence, undefined);

    // Valid but about another dump: not stored, said why.
    const invalid = uploader.logs.find((l) => l.msg === 'evidence not stored: not valid');
    assert.match(String(invalid?.why), new RegExp(`names another dump \\(${late.replace(/\./g, '\\.')}\\)`));
    assert.equal((await read(summaryKey(String(stored(other)?.key)))).evidence, undefined);

    const keys = (await client.send(new ListObjectsV2Command({ Bucket: 'dumps' }))).Contents ?? [];
    assert.deepEqual(
      keys.map((o) => o.Key!).filter((k) => k.endsWith('.evidence.json')),
      [`${lateKey}.evidence.json`],
    );
    const left = await readdir(dir);
    assert.ok(!left.includes(`${late}.evidence.json`), left.join(', '));
    assert.ok(left.includes(`${linked}.evidence.json`), 'a refused file is left alone');
  });
});
