// The Shipper in-process (shipper.ts): a dump shipped whole with its summary, its file freed; what a lost
// store leaves behind. (Resume decisions: resume.test.ts; a file changing under the upload: file-changed.test.ts.)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zstdDecompressSync } from 'node:zlib';
import {
  AbortMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import type { StoredDumpSummary } from '@kube-heapdump/contract';
import { DEFAULT_CREDENTIAL } from '../../../test/support/s3/server.ts';
import { type S3Fixture, startS3Fixture } from '../../../test/support/s3-fixture.ts';
import { type FaultRule, startS3Proxy } from '../../../test/support/s3-proxy.ts';
import { bulkyDump } from '../../hprof/test/synthetic.ts';
import { createLogger } from '../src/log.ts';
import { loopbackClient, podConfig, testShipper } from './fixtures.ts';

process.env.AWS_ACCESS_KEY_ID = DEFAULT_CREDENTIAL.accessKeyId;
process.env.AWS_SECRET_ACCESS_KEY = DEFAULT_CREDENTIAL.secretAccessKey;
const log = createLogger('error');

describe('shipper in-process', () => {
  let fixture: S3Fixture;
  let root: string;
  before(async () => {
    fixture = await startS3Fixture();
    root = await mkdtemp(join(tmpdir(), 'kh-shipper-'));
  });
  after(async () => {
    await fixture.close();
    await rm(root, { recursive: true, force: true });
  });

  function shipper(dir: string, env: Record<string, string> = {}, endpoint = fixture.server.endpoint) {
    const cfg = podConfig(dir, endpoint, { HEAPDUMP_QUIET_SECONDS: '2', ...env });
    return testShipper(cfg, loopbackClient(endpoint, log), log);
  }

  async function objects(prefix: string) {
    const listed = await fixture.client().send(new ListObjectsV2Command({ Bucket: 'dumps', Prefix: prefix }));
    return (listed.Contents ?? []).map((o) => o.Key!);
  }

  for (const compression of ['none', 'zstd', 'gzip'] as const) {
    it(`ships a ${compression} dump of several parts with its summary, then frees the file`, async () => {
      const dir = await mkdtemp(join(root, `ship-${compression}-`));
      const dump = bulkyDump(21, 'random', compression.length);
      await writeFile(join(dir, 'java_pid1.hprof'), dump, { mode: 0o600 });
      await shipper(dir, { HEAPDUMP_COMPRESSION: compression, POD_NAME: `ship-${compression}` }).ship(
        'java_pid1.hprof',
      );
      const keys = await objects(`heapdumps/prod/shop/ship-${compression}/`);
      const key = keys.find((k) => !k.endsWith('.summary.json'))!;
      assert.equal(keys.length, 2, keys.join(' '));
      const summary = JSON.parse(
        await (
          await fixture.client().send(new GetObjectCommand({ Bucket: 'dumps', Key: `${key}.summary.json` }))
        ).Body!.transformToString(),
      ) as StoredDumpSummary;
      assert.equal(summary.verdict, 'complete');
      assert.ok(summary.dump.parts >= 2, `${summary.dump.parts} parts`);
      assert.deepEqual(summary.dump.integrity, { parts: 'crc32', object: 'crc32', head: true });
      assert.equal(summary.dump.sha256, createHash('sha256').update(dump).digest('hex'));
      const stored = Buffer.from(
        await (
          await fixture.client().send(new GetObjectCommand({ Bucket: 'dumps', Key: key }))
        ).Body!.transformToByteArray(),
      );
      if (compression === 'zstd') assert.ok(zstdDecompressSync(stored).equals(dump));
      if (compression === 'none') assert.ok(stored.equals(dump));
      assert.deepEqual(
        (await readdir(dir)).filter((f) => !f.startsWith('.')),
        [],
        'the dump file is deleted',
      );
    });
  }

  it('starts over under a new key when the store loses the upload mid-way, leaving no orphan', async () => {
    const dir = await mkdtemp(join(root, 'lost-'));
    await writeFile(join(dir, 'java_pid1.hprof'), bulkyDump(24), { mode: 0o600 });
    const rules: FaultRule[] = [{ operation: 'UploadPart', fault: { kind: 'hang' }, after: 1 }];
    const proxy = await startS3Proxy(fixture.server.endpoint, rules);
    try {
      const s = shipper(
        dir,
        { HEAPDUMP_COMPRESSION: 'none', POD_NAME: 'lost-1', HEAPDUMP_S3_CONCURRENCY: '1' },
        proxy.endpoint,
      );
      const shipping = s.ship('java_pid1.hprof');
      // While part 2 hangs, the upload disappears from the store (a lifecycle rule, an operator).
      for (;;) {
        const uploads = await fixture.client().send(new ListMultipartUploadsCommand({ Bucket: 'dumps' }));
        const mine = uploads.Uploads?.find((u) => u.Key?.includes('/lost-1/'));
        if (mine && proxy.seen.some((r) => r.fault === 'hang')) {
          await fixture
            .client()
            .send(
              new AbortMultipartUploadCommand({ Bucket: 'dumps', Key: mine.Key, UploadId: mine.UploadId }),
            );
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      await shipping;
      const keys = await objects('heapdumps/prod/shop/lost-1/');
      assert.equal(keys.filter((k) => !k.endsWith('.summary.json')).length, 1, keys.join(' '));
      const uploads = await fixture.client().send(new ListMultipartUploadsCommand({ Bucket: 'dumps' }));
      assert.equal(uploads.Uploads?.filter((u) => u.Key?.includes('/lost-1/')).length ?? 0, 0);
    } finally {
      await proxy.close();
    }
  });
});
