// Workloads we do not construct, and Jobs, run for real: the pod simulator runs what the transform, the pod
// template and addHeapDumps render (a real JVM, our real uploader, the strict S3 server). The Spring Boot
// Deployment wrapped each of the three ways stores its dump; a transformed StatefulSet stores its dump; a
// Job completes when the JVM exits (native sidecar), and a JVM that dies of OOM in a Job has its dump stored
// before the pod ends.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { zstdDecompressSync } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import {
  springBootData,
  springBootPodTemplate,
  springBootWorkloadSpec,
} from '../packages/heapdump/test/fixtures/spring-boot.ts';
import { captureDumps } from './support/dump-capture.ts';
import { SimulatedPod, type WorkloadSpec } from './support/pod-simulator.ts';
import { installMocks, type Registered, resolved } from './support/pulumi-mocks.ts';
import { DEFAULT_CREDENTIAL } from './support/s3/server.ts';
import { type S3Fixture, startS3Fixture } from './support/s3-fixture.ts';
import { SIM_JAVA_IMAGE, simulationImages, type UploaderLog, uploaderLogs } from './support/simulation.ts';

const mocks = await installMocks();
const { addHeapDumpsToTemplate, HeapDumpEnabledApp, HeapDumpStorage } = await import(
  '../packages/heapdump/src/index.ts'
);
const { uploaderImage } = await import('../packages/heapdump/src/image.ts');
const SIDECAR = 'registry.example.com/sim/sidecar:1';
const INIT = 'registry.example.com/sim/init:1';
const images = {
  ...(await simulationImages(uploaderImage())),
  // Stand-ins for the app's own sidecars and init container: they run until stopped, or exit at once.
  [SIDECAR]: { entrypoint: ['sh', '-c', 'exec sleep 600', 'sidecar'] },
  [INIT]: { entrypoint: ['true'] },
};
const OOM = ['HeapFixture', 'oom', '2000', '200', '20', '3'];
const JVM = '-Xmx40m -XX:+UseSerialGC';
const keys = {
  'store-keys': {
    AWS_ACCESS_KEY_ID: DEFAULT_CREDENTIAL.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DEFAULT_CREDENTIAL.secretAccessKey,
  },
};

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});
async function sandbox(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kh-wl-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
const fixture: S3Fixture = await startS3Fixture({ buckets: ['team-dumps'] });
cleanups.push(() => fixture.close());
const storageArgs = {
  storage: {
    existing: { bucket: 'team-dumps', endpoint: fixture.server.endpoint, forcePathStyle: true },
    prefix: 'jvm',
  },
  identity: { existingSecret: { name: 'store-keys' } },
};
const sim = (dir: string) => ({
  heapDumps: { mountPath: join(dir, 'dumps') },
  uploader: { quietSeconds: 5, metricsPort: 0 },
});

async function settle(resources: pulumi.Resource[]): Promise<Registered[]> {
  await resolved(pulumi.all(resources.map((r) => r.urn)));
  await new Promise((r) => setTimeout(r, 200));
  return [...mocks.registered()];
}
const one = (registered: Registered[], type: string) => {
  const found = registered.filter((r) => r.type === type);
  assert.equal(found.length, 1, type);
  return found[0]?.inputs as unknown as WorkloadSpec;
};

async function objectBytes(key: string): Promise<Buffer> {
  const out = await fixture.client().send(new GetObjectCommand({ Bucket: 'team-dumps', Key: key }));
  return Buffer.from(
    await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  return port;
}
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Runs the workload's pod until its first dump is stored; checks the object against the dump the JVM wrote. */
async function runUntilStored(
  workload: WorkloadSpec,
  dir: string,
  keyPrefix: string,
  data: {
    configMaps?: Record<string, Record<string, string>>;
    secrets?: Record<string, Record<string, string>>;
  } = {},
): Promise<{ pod: SimulatedPod; log: UploaderLog }> {
  const pod = new SimulatedPod({
    deployment: workload,
    secrets: { ...keys, ...data.secrets },
    configMaps: data.configMaps,
    images,
    sandbox: dir,
    maxRestarts: 0,
  });
  const logs = uploaderLogs(pod);
  await pod.start();
  cleanups.push(() => pod.stop());
  const capture = captureDumps(join(dir, 'dumps'));
  cleanups.push(() => capture.close());
  const log = await pod.waitFor(() => logs.find((l) => l.msg === 'dump stored'), 120_000, 'dump stored');
  assert.ok(String(log.key).startsWith(keyPrefix), `${log.key} under ${keyPrefix}`);
  const original = await capture.read(String(log.file));
  assert.equal(
    sha256(zstdDecompressSync(await objectBytes(String(log.key)))),
    sha256(original),
    'object bytes equal the dump',
  );
  return { pod, log };
}

const springBoot = (dir: string) =>
  springBootPodTemplate({
    root: dir,
    image: SIM_JAVA_IMAGE,
    args: OOM,
    jvmOptions: JVM,
    memory: '256Mi',
    sidecarImage: SIDECAR,
    initImage: INIT,
    initCommand: ['true'],
  });
const withData = { configMaps: springBootData.configMaps, secrets: springBootData.secrets };

describe('the Spring Boot Deployment, each way, runs and stores its dump', () => {
  test('1. HeapDumpEnabledApp with its pod template', async () => {
    mocks.reset();
    const dir = await sandbox();
    const app = new HeapDumpEnabledApp('orders', {
      ...storageArgs,
      ...sim(dir),
      heapDumps: { ...sim(dir).heapDumps, containers: ['orders'] },
      namespace: 'shop',
      podTemplate: springBoot(dir),
      workloadSpec: springBootWorkloadSpec,
    });
    const workload = one(await settle([app]), 'kubernetes:apps/v1:Deployment');
    const { pod } = await runUntilStored(workload, dir, 'jvm/shop/orders/', withData);
    assert.ok(pod.notEnforced.includes('pod.affinity'));
    await pod.stop();
  });

  test('2. HeapDumpStorage.transform() on the YAML', async () => {
    mocks.reset();
    const dir = await sandbox();
    const storage = new HeapDumpStorage('shop', { ...storageArgs, ...sim(dir) });
    const yaml = JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'orders', namespace: 'shop' },
      spec: { ...springBootWorkloadSpec, template: springBoot(dir) },
    });
    const group = new k8s.yaml.ConfigGroup(
      'orders',
      { objs: [JSON.parse(yaml)] },
      { transforms: [storage.transform({ containers: ['orders'] })] },
    );
    await resolved(group.resources);
    const workload = one(await settle([storage, group]), 'kubernetes:apps/v1:Deployment');
    const { pod } = await runUntilStored(workload, dir, 'jvm/shop/orders/', withData);
    await pod.stop();
  });

  test('3. addHeapDumpsToTemplate with podOptions() on your own Deployment', async () => {
    mocks.reset();
    const dir = await sandbox();
    const storage = new HeapDumpStorage('shop', { ...storageArgs, ...sim(dir) });
    const options = storage.podOptions({
      namespace: 'shop',
      serviceAccountName: 'orders',
      appName: 'orders',
    });
    const deployment = new k8s.apps.v1.Deployment('orders', {
      metadata: { name: 'orders', namespace: 'shop' },
      spec: options.apply((o) => ({
        ...springBootWorkloadSpec,
        template: addHeapDumpsToTemplate(springBoot(dir) as never, {
          ...o,
          heapDumps: { ...o.heapDumps, containers: ['orders'] },
        }).template as never,
      })),
    });
    const workload = one(await settle([storage, deployment]), 'kubernetes:apps/v1:Deployment');
    const { pod } = await runUntilStored(workload, dir, 'jvm/shop/orders/', withData);
    await pod.stop();
  });
});

describe('StatefulSets and Jobs', () => {
  test('a StatefulSet under a transform, with its volumeClaimTemplates, stores its dump', async () => {
    mocks.reset();
    const dir = await sandbox();
    const storage = new HeapDumpStorage('search', { ...storageArgs, ...sim(dir) });
    const sts = new k8s.apps.v1.StatefulSet(
      'search',
      {
        metadata: { name: 'search', namespace: 'search' },
        spec: {
          serviceName: 'search',
          selector: { matchLabels: { app: 'search' } },
          template: {
            metadata: { labels: { app: 'search' } },
            spec: {
              containers: [
                {
                  name: 'search',
                  image: SIM_JAVA_IMAGE,
                  args: OOM,
                  env: [{ name: 'JAVA_TOOL_OPTIONS', value: JVM }],
                  resources: { limits: { memory: '256Mi' } },
                  volumeMounts: [{ name: 'data', mountPath: join(dir, 'data') }],
                },
              ],
            },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: 'data' },
              spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
            },
          ],
        },
      },
      { transforms: [storage.transform()] },
    );
    const workload = one(await settle([storage, sts]), 'kubernetes:apps/v1:StatefulSet');
    const { pod } = await runUntilStored(workload, dir, 'jvm/search/search/');
    await pod.stop();
  });

  const job = async (dir: string, args: string[]) => {
    mocks.reset();
    return new HeapDumpEnabledApp('report', {
      ...storageArgs,
      ...sim(dir),
      // The uploader's /healthz gates the JVM's start (its startup probe), as the kubelet runs it.
      uploader: { quietSeconds: 5, metricsPort: await freePort() },
      kind: 'Job',
      namespace: 'batch',
      image: SIM_JAVA_IMAGE,
      args,
      env: [{ name: 'JAVA_TOOL_OPTIONS', value: JVM }],
      resources: { limits: { memory: '256Mi' } },
      workloadSpec: { backoffLimit: 0 },
    });
  };

  test('a Job completes when the JVM exits: the native sidecar is stopped after it', async () => {
    const dir = await sandbox();
    const app = await job(dir, ['-version']);
    const workload = one(await settle([app]), 'kubernetes:batch/v1:Job');
    const pod = new SimulatedPod({
      deployment: workload,
      secrets: keys,
      images,
      sandbox: dir,
      maxRestarts: 0,
    });
    await pod.start();
    cleanups.push(() => pod.stop());
    assert.equal(await pod.waitForCompletion(60_000), 'Succeeded');
    assert.deepEqual(pod.runs.get('app')?.exitCodes, [0]);
    assert.equal(pod.pid('heapdump-uploader'), undefined, 'the uploader stopped with the pod');
  });

  test('a JVM that dies of OOM in a Job has its dump stored before the pod ends', async () => {
    const dir = await sandbox();
    const app = await job(dir, OOM);
    const workload = one(await settle([app]), 'kubernetes:batch/v1:Job');
    const pod = new SimulatedPod({
      deployment: workload,
      secrets: keys,
      images,
      sandbox: dir,
      maxRestarts: 0,
    });
    const logs = uploaderLogs(pod);
    let storedBeforeEnd = false;
    pod.on('completed', () => {
      storedBeforeEnd = logs.some((l) => l.msg === 'dump stored');
    });
    await pod.start();
    cleanups.push(() => pod.stop());
    assert.equal(await pod.waitForCompletion(120_000), 'Failed');
    assert.deepEqual(pod.runs.get('app')?.exitCodes, [3], 'ExitOnOutOfMemoryError');
    assert.ok(storedBeforeEnd, `stored before the pod ended: ${logs.map((l) => l.msg).join(' | ')}`);
    const stored = logs.find((l) => l.msg === 'dump stored');
    assert.match(String(stored?.key), /^jvm\/batch\/report\//);
    assert.equal(stored?.verdict, 'complete');
  });
});
