// One rendered pod run under real memory limits for the memory watchdog's tests: HeapDumpEnabledApp rendered
// under Pulumi's mocks (existing bucket on the strict S3 server, keys in a Secret), its pod simulated with
// each container in a memory cgroup of its limit, the app a MemoryHog on a given JDK. Collects what a
// reader of the closing note needs: exits and their reasons, every dump file that appeared, the agent's
// lines with their times, and what the store holds once the uploader is done.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { HeapDumpEnabledAppArgs } from '../../packages/heapdump/src/args.ts';
import { captureDumps } from './dump-capture.ts';
import { fixtureClasspath } from './java.ts';
import { RUN_SOURCE } from './node.ts';
import { SimulatedPod, type SimulatedWorkload } from './pod-simulator.ts';
import type { Registered } from './pulumi-mocks.ts';
import { renderApp } from './render-app.ts';
import { DEFAULT_CREDENTIAL } from './s3/server.ts';
import { type S3Fixture, startS3Fixture } from './s3-fixture.ts';
import { type UploaderLog, uploaderLogs } from './simulation.ts';
import { UPLOADER_MAIN } from './uploader.ts';

// JDK 11 and 21 are jlinked Temurin runtimes (no javac, like a distroless or jlinked app image) that
// scripts/test-jdks installs; .ci/run calls it.
const JDK_CACHE = process.env.HEAPDUMP_JDKS_ROOT ?? '/var/cache/kube-heapdump/jdks';
const KNOWN_JDKS = [
  { name: 'JDK 11 (jlinked Temurin)', feature: 11, home: join(JDK_CACHE, '11.0.13.1'), claimed: true },
  { name: 'JDK 17', feature: 17, home: '/usr/lib/jvm/java-17-openjdk-amd64', claimed: true },
  { name: 'JDK 21 (jlinked Temurin)', feature: 21, home: join(JDK_CACHE, '21.0.8.2'), claimed: true },
  { name: 'JDK 25 (Temurin)', feature: 25, home: '/usr/lib/jvm/temurin-25-jdk-amd64', claimed: false },
];

/** The JDKs here: each case runs on every one found. */
export const JDKS = KNOWN_JDKS.filter((j) => existsSync(join(j.home, 'bin/java')));

/** The JDKs the watchdog claims (11, 17, 21) that are not installed here, with what installs them. */
export function missingClaimedJdks(): string | undefined {
  const missing = KNOWN_JDKS.filter((j) => j.claimed && !JDKS.includes(j)).map(
    (j) => `${j.name} (${j.home})`,
  );
  return missing.length ? `not installed: ${missing.join(', ')}; run scripts/test-jdks` : undefined;
}

const APP_IMAGE = 'registry.example.com/sim/memory-hog:1.0';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface WatchdogCase {
  jdkHome: string;
  /** MemoryHog's arguments. */
  args: string[];
  /** The container's memory limit. */
  memory: string;
  /** Literal JAVA_TOOL_OPTIONS of the container. */
  javaToolOptions?: string;
  /** JAVA_TOOL_OPTIONS from a ConfigMap: the component cannot read it (as for a heap set there). */
  javaToolOptionsFromConfigMap?: string;
  heapDumps?: HeapDumpEnabledAppArgs['heapDumps'];
  /** Restarts of the app container after it exits (default 0). */
  restarts?: number;
  /** Stop the run once this is true of the app's output (default: at its first exit). */
  until?: (run: WatchdogRun) => boolean;
  /** More literal env of the app container. */
  env?: Record<string, string>;
  /** Each container in a memory cgroup of its limit (default true; false needs no writable cgroups). */
  memoryLimits?: boolean;
  /** The uploader's `quietSeconds` (default 5; null: the component's default). */
  quietSeconds?: number | null;
}

export interface TimedLine {
  at: number;
  line: string;
}

export interface WatchdogRun {
  pod: SimulatedPod;
  /** The rendered pod spec, as the kubelet would get it. */
  spec: SimulatedWorkload['spec']['template']['spec'];
  fixture: S3Fixture;
  bucket: string;
  volume: string;
  logs: UploaderLog[];
  /** The app's output lines, timed. */
  app: TimedLine[];
  /** Every dump file that appeared in the volume, in order. */
  dumps: string[];
  stored(): Promise<string[]>;
  object(key: string): Promise<Buffer>;
  close(): Promise<void>;
}

export async function runWatchdogCase(c: WatchdogCase, registered: () => Registered[]): Promise<WatchdogRun> {
  const { uploaderImage } = await import('../../packages/heapdump/src/image.ts');
  const sandbox = await mkdtemp(join(tmpdir(), 'kh-watchdog-'));
  const fixture = await startS3Fixture({ buckets: ['dumps'] });
  const bucket = 'dumps';
  const env = [
    ...(c.javaToolOptions === undefined ? [] : [{ name: 'JAVA_TOOL_OPTIONS', value: c.javaToolOptions }]),
    ...(c.javaToolOptionsFromConfigMap === undefined
      ? []
      : [{ name: 'JAVA_TOOL_OPTIONS', configMapKeyRef: { name: 'jvm', key: 'options' } }]),
    ...Object.entries(c.env ?? {}).map(([name, value]) => ({ name, value })),
  ];
  const rendered = await renderApp(
    'hog',
    {
      namespace: 'shop',
      image: APP_IMAGE,
      args: ['MemoryHog', ...c.args],
      env,
      resources: { limits: { memory: c.memory } },
      heapDumps: { mountPath: join(sandbox, 'dumps'), ...c.heapDumps },
      uploader: {
        ...(c.quietSeconds === null ? {} : { quietSeconds: c.quietSeconds ?? 5 }),
        metricsPort: await freePort(),
      },
      storage: { existing: { bucket, endpoint: fixture.server.endpoint, forcePathStyle: true } },
      identity: { existingSecret: { name: 'store-keys' } },
    },
    registered,
  );
  const pod = new SimulatedPod({
    deployment: rendered.deployment,
    secrets: {
      'store-keys': {
        AWS_ACCESS_KEY_ID: DEFAULT_CREDENTIAL.accessKeyId,
        AWS_SECRET_ACCESS_KEY: DEFAULT_CREDENTIAL.secretAccessKey,
      },
    },
    configMaps: { jvm: { options: c.javaToolOptionsFromConfigMap ?? '' } },
    images: {
      [APP_IMAGE]: {
        entrypoint: [join(c.jdkHome, 'bin/java')],
        env: { CLASSPATH: await fixtureClasspath() },
      },
      [uploaderImage()]: { entrypoint: [process.execPath, ...RUN_SOURCE, UPLOADER_MAIN] },
    },
    sandbox,
    maxRestarts: c.restarts ?? 0,
    memoryLimits: c.memoryLimits ?? true,
  });
  const logs = uploaderLogs(pod);
  const app: TimedLine[] = [];
  pod.on('line', (name: string, line: string) => {
    if (name === 'app') app.push({ at: Date.now(), line });
  });
  const volume = join(sandbox, 'dumps');
  await pod.start();
  const capture = captureDumps(volume);
  const run: WatchdogRun = {
    pod,
    spec: rendered.deployment.spec.template.spec,
    fixture,
    bucket,
    volume,
    logs,
    app,
    get dumps() {
      return capture.files;
    },
    async stored() {
      const out = await fixture.client().send(new ListObjectsV2Command({ Bucket: bucket }));
      return (out.Contents ?? []).map((o) => o.Key ?? '').sort();
    },
    async object(key) {
      const out = await fixture.client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const body = out.Body as { transformToByteArray(): Promise<Uint8Array> };
      return Buffer.from(await body.transformToByteArray());
    },
    async close() {
      await capture.close();
      await pod.stop();
      await fixture.close();
      await rm(sandbox, { recursive: true, force: true });
    },
  };
  return run;
}
