// The bundled uploader (what the image ships: one file, no node_modules, no type stripping) ships a dump
// and its summary.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { type S3Fixture, startS3Fixture } from '../../../test/support/s3-fixture.ts';
import {
  bundleUploader,
  imageNodeFlags,
  localUploaderEnv,
  UploaderProcess,
} from '../../../test/support/uploader.ts';
import { sampleDump } from '../../hprof/test/synthetic.ts';

describe('bundled uploader', () => {
  let out: string;
  let main: string;
  let s3: S3Fixture;
  before(async () => {
    out = await mkdtemp(join(tmpdir(), 'kh-bundle-'));
    main = await bundleUploader(out);
    assert.deepEqual((await readdir(out)).sort(), ['main.js', 'main.js.map']);
    s3 = await startS3Fixture();
  });
  after(async () => {
    await s3.close();
    await rm(out, { recursive: true, force: true });
  });

  it("ships a dump with --once from the bundle, run with the image's node flags", async () => {
    const dir = join(out, 'dumps');
    await mkdir(dir);
    await writeFile(join(dir, 'java_pid1.hprof'), sampleDump(8), { mode: 0o600 });
    const u = new UploaderProcess(localUploaderEnv(s3, dir), ['--once'], main, imageNodeFlags());
    assert.equal(await u.exited, 0, `${JSON.stringify(u.logs)}\n${u.stderr}`);
    const client = s3.client();
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'dumps' }));
    const summaryKey = listed.Contents?.map((o) => o.Key!).find((k) => k.endsWith('.summary.json'));
    assert.ok(summaryKey, JSON.stringify(listed.Contents));
    const summary = JSON.parse(
      await (
        await client.send(new GetObjectCommand({ Bucket: 'dumps', Key: summaryKey }))
      ).Body!.transformToString(),
    );
    assert.equal(summary.verdict, 'complete');
    assert.equal(summary.totals.instances, 5, 'the analysis parsed the dump');
  });
});
