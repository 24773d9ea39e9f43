// Memory against the number of dumps in flight (issue 19.3): N dumps written at once, the bundled uploader
// run as the image runs it, its peak RSS (VmHWM) within the memory limit the component renders for it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zstdDecompressSync } from 'node:zlib';
import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { AGENT_DIR, parseQuantity, type StoredDumpSummary } from '@kube-heapdump/contract';
import { UPLOADER_CONTAINER } from '../packages/heapdump/src/names.ts';
import { type PodInputs, renderDeployment } from '../packages/heapdump/src/workload.ts';
import { bulkyDump } from '../packages/hprof/test/synthetic.ts';
import { peakRss } from './support/processes.ts';
import { startS3Fixture } from './support/s3-fixture.ts';
import { bundleUploader, imageNodeFlags, localUploaderEnv, UploaderProcess } from './support/uploader.ts';

const MiB = 1024 * 1024;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The uploader container's memory limit in a default rendering of the component. */
function renderedUploaderLimit(): number {
  const inputs: PodInputs = {
    appName: 'orders',
    app: { image: 'registry.example.com/orders:1.4', resources: { limits: { memory: '2Gi' } } },
    heapDumps: {},
    uploader: {},
    target: {
      bucket: 'dumps',
      prefix: 'heapdumps/',
      region: 'eu-west-3',
      forcePathStyle: false,
      checksums: true,
    },
    credentials: {
      kind: 'secret',
      secretName: 'orders-uploader',
      accessKeyIdKey: 'AWS_ACCESS_KEY_ID',
      secretAccessKeyKey: 'AWS_SECRET_ACCESS_KEY',
    },
    defaultUploaderImage: 'uploader:test',
  };
  const spec = renderDeployment(inputs).spec.template.spec;
  const containers = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]; // a native sidecar
  const limit = containers.find((c) => c.name === UPLOADER_CONTAINER)?.resources?.limits?.memory;
  const bytes = parseQuantity(String(limit));
  assert.ok(bytes, `the uploader's rendered memory limit: ${limit}`);
  return bytes;
}

describe('memory with many dumps in flight', () => {
  let out: string;
  let main: string;
  let limit: number;
  before(async () => {
    out = await mkdtemp(join(tmpdir(), 'kh-memory-'));
    main = await bundleUploader(out);
    limit = renderedUploaderLimit();
  });
  after(() => rm(out, { recursive: true, force: true }));

  for (const n of [8, 20]) {
    it(`stores ${n} dumps written at once, peak RSS within the rendered limit`, async () => {
      // A store slower than the dumps are written keeps parts of every dump waiting for the budget.
      const s3 = await startS3Fixture({ rateBytesPerSecond: 80e6 });
      const dir = join(out, `dumps-${n}`);
      await mkdir(dir);
      const u = new UploaderProcess(localUploaderEnv(s3, dir), [], main, imageNodeFlags());
      try {
        await u.waitForLog((l) => l.msg === 'uploader starting');
        // Random bytes: zstd cannot shrink them, so every dump is several ~8 MiB compressed parts.
        const dumps = Array.from({ length: n }, (_, i) => bulkyDump(16, 'random', 100 + i));
        await Promise.all(
          dumps.map((d, i) => writeFile(join(dir, `java_pid${i + 1}.hprof`), d, { mode: 0o600 })),
        );
        await u.waitForLog(
          (l) => l.msg === 'dump stored' && u.count((x) => x.msg === 'dump stored') >= n,
          240_000,
        );
        const peak = await peakRss(u.child.pid!);
        process.stdout.write(`# ${n} dumps at once: peak RSS ${(peak / MiB).toFixed(1)} MiB\n`);
        assert.ok(peak < limit, `peak RSS ${(peak / MiB).toFixed(1)} MiB, limit ${limit / MiB} MiB`);
        assert.ok(u.count((l) => l.msg === 'dump queued') > 0, 'dumps beyond the active ones waited');

        const client = s3.client();
        const listed = await client.send(new ListObjectsV2Command({ Bucket: 'dumps', Prefix: 'heapdumps/' }));
        const keys = (listed.Contents ?? []).map((o) => o.Key!).filter((k) => !k.endsWith('.summary.json'));
        assert.equal(keys.length, n);
        const expected = new Set(dumps.map(sha256));
        for (const key of keys) {
          const obj = await client.send(new GetObjectCommand({ Bucket: 'dumps', Key: key }));
          const got = sha256(zstdDecompressSync(Buffer.from(await obj.Body!.transformToByteArray())));
          const summary = JSON.parse(
            await (
              await client.send(new GetObjectCommand({ Bucket: 'dumps', Key: `${key}.summary.json` }))
            ).Body!.transformToString(),
          ) as StoredDumpSummary;
          assert.equal(summary.dump.sha256, got);
          assert.ok(expected.delete(got), `${key} is one of the dumps, once`);
        }
        const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: 'dumps' }));
        assert.equal(uploads.Uploads?.length ?? 0, 0);
        // Left: the uploader's state and the memory watchdog's agent it installs at start.
        assert.deepEqual((await readdir(dir)).sort(), [AGENT_DIR, '.heapdump-uploader'].sort());
      } finally {
        await u.stop();
        await s3.close();
      }
    });
  }
});
