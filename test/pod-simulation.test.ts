// The component's rendered pod, run for real: the Deployment HeapDumpEnabledApp renders under Pulumi's mocks
// becomes a real JVM and our real uploader sharing a directory, talking to the strict S3 server. Nothing the
// pod does is re-typed here: JVM flags, uploader env and credentials all come from the rendered spec.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { zstdDecompressSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { captureDumps } from './support/dump-capture.ts';
import { SimulatedPod } from './support/pod-simulator.ts';
import { installMocks, MOCK_REGION } from './support/pulumi-mocks.ts';
import { renderApp } from './support/render-app.ts';
import { DEFAULT_CREDENTIAL } from './support/s3/server.ts';
import { type S3Fixture, startS3Fixture } from './support/s3-fixture.ts';
import { SIM_JAVA_IMAGE, simulationImages, type UploaderLog, uploaderLogs } from './support/simulation.ts';

const podCredential = {
  accessKeyId: 'AKIASIMULATEDPOD0001',
  secretAccessKey: randomBytes(20).toString('hex'),
};
const mocks = await installMocks({ accessKey: podCredential });
const { uploaderImage } = await import('../packages/heapdump/src/image.ts');
const images = await simulationImages(uploaderImage());

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** The Java app as a platform engineer would declare it; the dump volume inside the test's sandbox. */
function javaApp(sandbox: string) {
  return {
    namespace: 'shop',
    image: SIM_JAVA_IMAGE,
    args: ['HeapFixture', 'oom', '2000', '200', '20', '3'],
    env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-Xmx40m -XX:+UseSerialGC' }],
    resources: { limits: { memory: '256Mi' } },
    heapDumps: { mountPath: join(sandbox, 'dumps') },
    uploader: { quietSeconds: 5, metricsPort: 0 },
  };
}

async function sandbox(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kh-pod-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function s3(options: Parameters<typeof startS3Fixture>[0]): Promise<S3Fixture> {
  const fixture = await startS3Fixture(options);
  cleanups.push(() => fixture.close());
  return fixture;
}

function stored(logs: UploaderLog[], n: number): UploaderLog[] | undefined {
  const found = logs.filter((l) => l.msg === 'dump stored');
  return found.length >= n ? found : undefined;
}

async function getBytes(fixture: S3Fixture, bucket: string, key: string): Promise<Buffer> {
  const out = await fixture.client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(
    await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('provisioned bucket + access key identity', () => {
  test('OOM -> object under the documented key, equal bytes, summary, volume freed; the restarted JVM dumps again', async () => {
    const dir = await sandbox();
    const rendered = await renderApp('orders', javaApp(dir), mocks.registered);
    assert.ok(rendered.bucket && rendered.userPolicy);
    // The bucket the component "created", and the IAM user's key limited by the policy it rendered.
    const fixture = await s3({
      region: MOCK_REGION,
      buckets: [rendered.bucket],
      credentials: [{ ...podCredential, policy: rendered.userPolicy }, DEFAULT_CREDENTIAL],
      virtualHostSuffix: 's3.localhost',
    });
    const pod = new SimulatedPod({
      deployment: rendered.deployment,
      secrets: rendered.secrets,
      images,
      sandbox: dir,
      // The pod reaches "AWS S3" at the local server, virtual-hosted as on AWS.
      awsS3Endpoint: `http://s3.localhost:${fixture.server.port}`,
      hosts: ['s3.localhost', `${rendered.bucket}.s3.localhost`],
    });
    const logs = uploaderLogs(pod);
    const volume = join(dir, 'dumps');
    await pod.start();
    cleanups.push(() => pod.stop());
    const capture = captureDumps(volume);
    cleanups.push(() => capture.close());

    // First OOM: exit 3 (ExitOnOutOfMemoryError from the rendered flags), the kubelet restarts the JVM once.
    const exits = await pod.waitForExits('app', 2, 120_000);
    assert.deepEqual(exits, [3, 3]);
    const [first, second] = (await pod.waitFor(
      () => stored(logs, 2),
      60_000,
      'two dumps stored',
    )) as UploaderLog[];
    assert.ok(first && second);
    assert.notEqual(first.key, second.key);

    const pattern = new RegExp(
      `^heapdumps/shop/orders/${pod.name}/\\d{8}T\\d{6}Z-[0-9a-f]{8}-java_pid\\d+\\.hprof\\.zst$`,
    );
    for (const log of [first, second]) {
      const key = String(log.key);
      assert.match(key, pattern);
      assert.equal(log.verdict, 'complete');
      const object = zstdDecompressSync(await getBytes(fixture, rendered.bucket, key));
      const file = String(log.file);
      const original = await capture.read(file);
      assert.equal(object.length, original.length, `${file}: object and dump sizes`);
      assert.equal(sha256(object), sha256(original), `${file}: object bytes equal the dump's`);
      const summary = JSON.parse(
        (await getBytes(fixture, rendered.bucket, `${key}.summary.json`)).toString(),
      );
      assert.equal(summary.dump.sha256, sha256(original));
      assert.equal(summary.verdict, 'complete');
      assert.equal(summary.dump.namespace, 'shop');
      assert.equal(summary.dump.pod, pod.name);
      assert.equal(existsSync(join(volume, file)), false, `${file} removed from the volume`);
    }
    // The uploader used the pod's put-only key, virtual-hosted, and never more than the policy allows.
    const uploads = fixture.server.requests.filter((r) => r.accessKeyId === podCredential.accessKeyId);
    assert.ok(uploads.length > 0);
    assert.ok(uploads.every((r) => r.addressing === 'virtual-host'));
    assert.deepEqual([...new Set(uploads.filter((r) => r.status < 300).map((r) => r.operation))].sort(), [
      'CompleteMultipartUpload',
      'CreateMultipartUpload',
      'PutObject',
      'UploadPart',
    ]);
    await pod.stop();
    assert.equal(pod.failure, undefined);
  });
});

/** The app on an existing S3-compatible bucket, with the keys in a Secret the user made ("store-keys"). */
async function byoPod(
  name: string,
  dir: string,
  existing: { bucket: string; endpoint: string; forcePathStyle: boolean },
  secretAccessKey: string,
  hosts: string[] = [],
): Promise<SimulatedPod> {
  const rendered = await renderApp(
    name,
    {
      ...javaApp(dir),
      storage: { existing, prefix: 'jvm' },
      identity: { existingSecret: { name: 'store-keys' } },
    },
    mocks.registered,
  );
  return new SimulatedPod({
    deployment: rendered.deployment,
    secrets: {
      'store-keys': {
        AWS_ACCESS_KEY_ID: DEFAULT_CREDENTIAL.accessKeyId,
        AWS_SECRET_ACCESS_KEY: secretAccessKey,
      },
    },
    images,
    sandbox: dir,
    maxRestarts: 0,
    hosts,
  });
}

describe('bring-your-own S3-compatible storage', () => {
  for (const style of ['path', 'virtual-host'] as const) {
    test(`${style} style configured: the rendered env reaches the uploader and the upload works`, async () => {
      const dir = await sandbox();
      const fixture = await s3({ buckets: ['team-dumps'], virtualHostSuffix: 'store.localhost' });
      const endpoint =
        style === 'path' ? fixture.server.endpoint : `http://store.localhost:${fixture.server.port}`;
      const pod = await byoPod(
        `byo-${style}`,
        dir,
        { bucket: 'team-dumps', endpoint, forcePathStyle: style === 'path' },
        DEFAULT_CREDENTIAL.secretAccessKey,
        style === 'virtual-host' ? ['store.localhost', 'team-dumps.store.localhost'] : [],
      );
      const logs = uploaderLogs(pod);
      await pod.start();
      cleanups.push(() => pod.stop());
      const [log] = (await pod.waitFor(() => stored(logs, 1), 120_000, 'dump stored')) as UploaderLog[];
      assert.match(String(log?.key), new RegExp(`^jvm/shop/byo-${style}/`));
      const listed = await fixture
        .client()
        .send(new ListObjectsV2Command({ Bucket: 'team-dumps', Prefix: 'jvm/' }));
      assert.equal(listed.KeyCount, 2, 'the dump and its summary');
      const writes = fixture.server.requests.filter(
        (r) => r.operation === 'UploadPart' || r.operation === 'PutObject',
      );
      assert.ok(
        writes.length > 0 && writes.every((r) => r.addressing === style),
        `all requests ${style} style`,
      );
      await pod.stop();
    });
  }

  test('a wrong secret: the uploader says 403 clearly and keeps the dump', async () => {
    const dir = await sandbox();
    const fixture = await s3({ buckets: ['team-dumps'] });
    const pod = await byoPod(
      'wrong-key',
      dir,
      { bucket: 'team-dumps', endpoint: fixture.server.endpoint, forcePathStyle: true },
      'not-the-secret',
    );
    const logs = uploaderLogs(pod);
    await pod.start();
    cleanups.push(() => pod.stop());
    const refusal = await pod.waitFor(
      () => logs.find((l) => l.msg.startsWith('S3 refused our credentials')),
      120_000,
      'a credentials error',
    );
    assert.match(refusal.msg, /SignatureDoesNotMatch/);
    assert.equal(refusal.level, 'error');
    await pod.waitForExits('app', 1);
    await pod.stop();
    const left = await readdir(join(dir, 'dumps'));
    assert.ok(
      left.some((f) => /^java_pid\d+\.hprof$/.test(f)),
      `the dump is kept: ${left}`,
    );
    const objects = await fixture.client().send(new ListObjectsV2Command({ Bucket: 'team-dumps' }));
    assert.equal(objects.KeyCount, 0);
  });
});

test('fields the simulator cannot honour fail the run before anything starts', async () => {
  const dir = await sandbox();
  const rendered = await renderApp('strict', javaApp(dir), mocks.registered);
  const spec = rendered.deployment.spec.template.spec;
  const withVolume = structuredClone(rendered.deployment);
  withVolume.spec.template.spec.volumes = [
    ...(spec.volumes ?? []),
    { name: 'cfg', configMap: { name: 'x' } },
  ];
  assert.throws(
    () => new SimulatedPod({ deployment: withVolume, images, sandbox: dir }),
    /ConfigMap x is not given/,
  );
  const outside = structuredClone(rendered.deployment);
  for (const c of [
    ...(outside.spec.template.spec.initContainers ?? []),
    ...outside.spec.template.spec.containers,
  ]) {
    c.volumeMounts = [{ name: 'heapdumps', mountPath: '/dumps' }];
  }
  assert.throws(() => new SimulatedPod({ deployment: outside, images, sandbox: dir }), /outside the sandbox/);
  const unknownField = structuredClone(rendered.deployment);
  Object.assign(unknownField.spec.template.spec.containers[0] as object, { workingDir: '/srv' });
  assert.throws(
    () => new SimulatedPod({ deployment: unknownField, images, sandbox: dir }),
    /field workingDir cannot be simulated/,
  );
  assert.throws(
    () => new SimulatedPod({ deployment: rendered.deployment, images: {}, sandbox: dir }),
    /no local program for image/,
  );
});
