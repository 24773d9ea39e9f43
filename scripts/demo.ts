// `npm run demo`: the whole product on one machine. A local S3-compatible server; HeapDumpEnabledApp
// rendered under Pulumi's mocks; its pod run for real by the pod simulator (a JVM that runs out of memory and
// our uploader, sharing the dump volume); then the developer's `heapdump list` and `heapdump inspect <key>`.
// Exits non-zero if anything fails; removes everything it created.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { humanBytes } from '@kube-heapdump/contract';
import { RUN_SOURCE } from '../test/support/node.ts';
import { SimulatedPod } from '../test/support/pod-simulator.ts';
import { run } from '../test/support/processes.ts';
import { installMocks, MOCK_REGION } from '../test/support/pulumi-mocks.ts';
import { renderApp } from '../test/support/render-app.ts';
import { DEFAULT_CREDENTIAL, startS3Server } from '../test/support/s3/server.ts';
import { SIM_JAVA_IMAGE, simulationImages, uploaderLogs } from '../test/support/simulation.ts';

const started = Date.now();
const say = (text: string) => {
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
  process.stdout.write(`[${t}s] ${text}\n`);
};
const mb = (n: unknown) => humanBytes(Number(n));
const cli = join(import.meta.dirname, '../packages/cli/src/main.ts');

const sandbox = await mkdtemp(join(tmpdir(), 'kube-heapdump-demo-'));
const cleanups: (() => Promise<unknown>)[] = [() => rm(sandbox, { recursive: true, force: true })];
let failed = false;

try {
  process.stdout.write(
    'kube-heapdump demo: a real JVM runs out of memory in a simulated pod rendered by HeapDumpEnabledApp;\n' +
      'the uploader sidecar streams the dump to a local S3-compatible server; a developer lists and reads it.\n\n',
  );
  const podKey = { accessKeyId: 'AKIADEMOUPLOADER0001', secretAccessKey: randomBytes(20).toString('hex') };
  const mocks = await installMocks({ accessKey: podKey });
  const { uploaderImage } = await import('../packages/heapdump/src/image.ts');
  const rendered = await renderApp(
    'shop',
    {
      namespace: 'demo',
      image: SIM_JAVA_IMAGE,
      args: ['-Dfill=mixed', 'HeapFixture', 'oom', '20000', '2000', '200', '3'],
      env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-Xmx96m' }],
      resources: { limits: { memory: '256Mi' } },
      securityContext: { runAsUser: process.getuid?.() ?? 1000 },
      heapDumps: { mountPath: join(sandbox, 'dumps') },
      uploader: { metricsPort: 0, quietSeconds: 10 },
    },
    mocks.registered,
  );
  const bucket = rendered.bucket as string;
  const types = mocks.registered().map((r) => r.type.split(':').at(-1));
  say(
    `pulumi (mocked): HeapDumpEnabledApp "shop" would create ${types.length - 1} resources: ${types.slice(1).join(', ')}`,
  );
  const spec = rendered.deployment.spec.template.spec;
  const app = spec.containers[0];
  const jto = app?.env?.find((e) => e.name === 'JAVA_TOOL_OPTIONS')?.value;
  say(`  JVM container: JAVA_TOOL_OPTIONS="${jto}"`);
  say(
    `  uploader: native sidecar, IAM policy ${JSON.stringify(rendered.userPolicy?.Statement.map((s) => s.Action))}; ` +
      `dump volume sizeLimit ${spec.volumes?.[0]?.emptyDir?.sizeLimit}, grace ${spec.terminationGracePeriodSeconds}s`,
  );

  const server = await startS3Server({
    dir: join(sandbox, 's3'),
    port: 0,
    region: MOCK_REGION,
    buckets: [bucket],
    // The pod's key may only do what the rendered IAM policy allows; the developer reads with their own.
    credentials: [{ ...podKey, policy: rendered.userPolicy }, DEFAULT_CREDENTIAL],
    virtualHostSuffix: 's3.localhost',
  });
  cleanups.unshift(() => server.stop());
  say(`S3-compatible server (SigV4, IAM policy checks) on ${server.endpoint}, bucket ${bucket}`);

  const pod = new SimulatedPod({
    deployment: rendered.deployment,
    secrets: rendered.secrets,
    images: await simulationImages(uploaderImage()),
    sandbox,
    awsS3Endpoint: `http://s3.localhost:${server.port}`,
    hosts: ['s3.localhost', `${bucket}.s3.localhost`],
    maxRestarts: 1,
  });
  cleanups.unshift(() => pod.stop());
  const logs = uploaderLogs(pod);
  pod.on('start', (name: string, restarts: number) =>
    say(
      restarts === 0
        ? `pod ${pod.name}: started ${name}`
        : `kubelet: restarted ${name} (restart ${restarts})`,
    ),
  );
  pod.on('exit', (name: string, code: number | null) => {
    if (name === 'app') say(`JVM exited with status ${code}${code === 3 ? ' (ExitOnOutOfMemoryError)' : ''}`);
  });
  pod.on('line', (name: string, line: string) => {
    if (name === 'app' && /OutOfMemoryError|Dumping heap|Heap dump file created/.test(line))
      say(`JVM: ${line.trim()}`);
    if (name !== 'heapdump-uploader') return;
    let l: Record<string, unknown>;
    try {
      l = JSON.parse(line);
    } catch {
      return say(`uploader: ${line}`);
    }
    if (l.msg === 'dump detected, uploading while it is written') {
      say(`uploader: ${l.file} appeared; streaming it (${l.compression}) while the JVM writes it`);
    } else if (l.msg === 'dump written') {
      say(
        `uploader: read and compressed all of ${l.file} (${mb(l.bytes)}, verdict ${l.verdict}); last parts in flight`,
      );
    } else if (l.msg === 'dump object complete') {
      say(
        `uploader: durable s3://${bucket}/${l.key}: ${mb(l.originalBytes)} stored as ${mb(l.storedBytes)}, ` +
          `${Number(l.afterDumpSeconds).toFixed(2)} s after the dump was complete`,
      );
    } else if (l.msg === 'dump stored') {
      say(
        `uploader: summary of ${l.file} written ${Number(l.summarySeconds).toFixed(2)} s later; local file deleted`,
      );
    } else if (l.level === 'error' || l.level === 'warn') {
      say(`uploader ${l.level}: ${l.msg}`);
    }
  });

  await pod.start();
  await pod.waitFor(
    () => (logs.filter((l) => l.msg === 'dump stored').length >= 2 ? true : undefined),
    90_000,
    'two dumps stored',
  );
  await pod.stop();
  say('pod stopped (sidecar last)');

  const env = {
    PATH: process.env.PATH,
    AWS_CONFIG_FILE: '/nonexistent',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ACCESS_KEY_ID: DEFAULT_CREDENTIAL.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DEFAULT_CREDENTIAL.secretAccessKey,
  };
  // The component's listCommand, pointed at the local server instead of AWS.
  const listArgs = [
    'list',
    '--bucket',
    bucket,
    '--region',
    MOCK_REGION,
    '--endpoint',
    server.endpoint,
    '--path-style',
    '--namespace',
    'demo',
    '--app',
    'shop',
  ];
  const newest = logs.filter((l) => l.msg === 'dump stored').at(-1)?.key as string;
  const storeArgs = listArgs.slice(1, 8);
  for (const args of [listArgs, ['inspect', newest, ...storeArgs, '--top', '8']]) {
    process.stdout.write(`\n$ heapdump ${args.join(' ')}\n`);
    const r = await run(process.execPath, [...RUN_SOURCE, cli, ...args], env);
    process.stdout.write(r.stdout + r.stderr);
    if (r.code !== 0) throw new Error(`heapdump ${args[0]} exited ${r.code}`);
  }
  process.stdout.write('\n');
  say(`done: ${pod.failure ?? 'every dump shipped, listed and inspected from the bucket'}`);
  if (pod.failure) failed = true;
} catch (err) {
  failed = true;
  process.stderr.write(`demo failed: ${(err as Error).message}\n`);
} finally {
  for (const c of cleanups) await c().catch(() => {});
}
process.exit(failed ? 1 : 0);
