// `heapdump doctor`: a stand-in kubectl serves, per case, the pod JSON (the component's rendered spec plus a
// status as the API reports it, validated against the core/v1 Pod schema) and the uploader's logs (from real
// uploader runs where the fault can be made here: a stored dump, refused credentials), and runs the volume
// listing on this machine, where the case's dump directory is.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Pod as PodModel } from 'kubernetes-models/v1/Pod';
import { developerEnv } from '../../../test/support/developer-env.ts';
import { HeldJvm } from '../../../test/support/java.ts';
import { RUN_SOURCE } from '../../../test/support/node.ts';
import { run } from '../../../test/support/processes.ts';
import { DEFAULT_CREDENTIAL } from '../../../test/support/s3/server.ts';
import { type S3Fixture, startS3Fixture } from '../../../test/support/s3-fixture.ts';
import { type LogLine, localUploaderEnv, UploaderProcess } from '../../../test/support/uploader.ts';
import { uploaderImage } from '../../heapdump/src/image.ts';
import { renderDeployment } from '../../heapdump/src/workload.ts';
import { fakeKubectlEnv, kubectlCalls, storeArgs, writePods } from './fake-kubectl.ts';

const cli = join(import.meta.dirname, '../src/main.ts');
const NS = 'shop';
const hourAgo = new Date(Date.now() - 3600_000).toISOString();
const minuteAgo = new Date(Date.now() - 60_000).toISOString();

interface Spec {
  containers: { name: string }[];
  initContainers?: { name: string }[];
  volumes: { name: string; emptyDir: { sizeLimit: string } }[];
}

describe('heapdump doctor', () => {
  let fixture: S3Fixture;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const pods: Record<string, unknown> = {};
  const dumpKey: { value?: string } = {};
  const doctor = (pod: string, ...flags: string[]) =>
    run(process.execPath, [...RUN_SOURCE, cli, 'doctor', pod, '-n', NS, ...flags], env, 60_000);

  /** The component's pod for the app, its dump directory at dirs/<pod>, with this status. */
  async function addPod(
    name: string,
    status: Record<string, unknown>,
    edit: (spec: Spec) => void = () => {},
  ) {
    const dumps = join(dir, 'dirs', name);
    await mkdir(dumps, { recursive: true });
    const rendered = renderDeployment({
      appName: 'shop',
      app: {
        image: 'registry.example.com/shop:1.0',
        env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-Xmx448m' }],
        resources: { limits: { memory: '512Mi' } },
      },
      heapDumps: { mountPath: dumps, sizeLimit: '2Gi' },
      uploader: {},
      ...storeArgs(fixture.server.endpoint, 'dumps', 'heapdumps/'),
      defaultUploaderImage: uploaderImage(),
    });
    const spec = structuredClone(rendered.spec.template.spec) as unknown as Spec;
    edit(spec);
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: NS, labels: { app: 'shop' } },
      spec: { ...spec, nodeName: 'node-1' },
      status: { phase: 'Running', ...status },
    };
    new PodModel(pod as ConstructorParameters<typeof PodModel>[0]).validate();
    pods[`${NS}/${name}`] = pod;
    await writePods(dir, pods);
    return dumps;
  }

  async function writeLog(pod: string, lines: LogLine[] | string[], previous = false) {
    const at = join(dir, 'logs', NS, pod);
    await mkdir(at, { recursive: true });
    const text = lines.map((l) =>
      typeof l === 'string' ? l : l.level === 'raw' ? l.msg : JSON.stringify(l),
    );
    await writeFile(join(at, `heapdump-uploader${previous ? '.previous' : ''}.log`), `${text.join('\n')}\n`);
  }

  const uploaderRunning = (restartCount = 0) => ({
    name: 'heapdump-uploader',
    ready: true,
    restartCount,
    image: 'uploader',
    imageID: '',
    state: { running: { startedAt: hourAgo } },
  });
  const app = (lastState: Record<string, unknown> | undefined, restartCount: number) => ({
    name: 'app',
    ready: true,
    restartCount,
    image: 'registry.example.com/shop:1.0',
    imageID: '',
    state: { running: { startedAt: minuteAgo } },
    ...(lastState ? { lastState: { terminated: lastState } } : {}),
  });

  before(async () => {
    fixture = await startS3Fixture();
    dir = await mkdtemp(join(tmpdir(), 'kh-doctor-'));
    const dumpFile = join(dir, 'java_pid1.hprof');
    const jvm = await HeldJvm.start({ alphas: 1000, betas: 10, gammas: 10, alphaArrays: 2 });
    try {
      await jvm.dump(dumpFile);
    } finally {
      await jvm.close();
    }
    env = { ...fakeKubectlEnv(dir), ...developerEnv({ home: dir, credential: DEFAULT_CREDENTIAL }) };
    const terminatedAt = (exitCode: number, reason: string) => ({
      exitCode,
      reason,
      startedAt: hourAgo,
      finishedAt: minuteAgo,
    });

    // Dumped: the JVM exited 3 after its OutOfMemoryError; the real uploader shipped the dump.
    const dumped = await addPod('shop-dumped', {
      containerStatuses: [app(terminatedAt(3, 'Error'), 1)],
      initContainerStatuses: [uploaderRunning()],
    });
    await copyFile(dumpFile, join(dumped, 'java_pid1.hprof'));
    const shipper = new UploaderProcess(
      localUploaderEnv(fixture, dumped, { POD_NAME: 'shop-dumped', POD_NAMESPACE: NS }),
      ['--once'],
    );
    assert.equal(await shipper.exited, 0, shipper.stderr);
    dumpKey.value = String((await shipper.waitForLog((l) => l.msg === 'dump stored')).key);
    await writeLog('shop-dumped', shipper.logs);

    // OOMKilled: the kernel killed the JVM at the container's limit.
    await addPod('shop-oomkilled', {
      containerStatuses: [app(terminatedAt(137, 'OOMKilled'), 4)],
      initContainerStatuses: [uploaderRunning()],
    });
    await writeLog('shop-oomkilled', shipper.logs.slice(0, 1));

    // The uploader's credentials are refused (a real uploader with a wrong secret), it restarts in a loop;
    // the JVM's dump stays in the volume.
    const refused = await addPod('shop-refused', {
      containerStatuses: [app(terminatedAt(3, 'Error'), 1)],
      initContainerStatuses: [
        {
          name: 'heapdump-uploader',
          ready: false,
          restartCount: 7,
          image: 'uploader',
          imageID: '',
          state: {
            waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container' },
          },
          lastState: {
            terminated: { exitCode: 1, reason: 'Error', startedAt: hourAgo, finishedAt: minuteAgo },
          },
        },
      ],
    });
    await copyFile(dumpFile, join(refused, 'java_pid1.hprof'));
    const denied = new UploaderProcess(
      localUploaderEnv(fixture, refused, {
        POD_NAME: 'shop-refused',
        POD_NAMESPACE: NS,
        AWS_SECRET_ACCESS_KEY: 'wrong',
      }),
    );
    await denied.waitForLog((l) => /refused our credentials/.test(l.msg), 60_000);
    await denied.stop('SIGKILL');
    await writeLog('shop-refused', denied.logs, true);
    await writeLog('shop-refused', []);

    // Volume full: the dump fills the volume's sizeLimit; the uploader cannot save its state.
    const full = await addPod(
      'shop-full',
      { containerStatuses: [app(undefined, 0)], initContainerStatuses: [uploaderRunning()] },
      (spec) => {
        spec.volumes[0]!.emptyDir.sizeLimit = '4Mi';
      },
    );
    await writeFile(join(full, 'java_pid1.hprof'), Buffer.alloc(4 * 2 ** 20 - 4096, 1));
    await writeLog('shop-full', [
      JSON.stringify({
        level: 'warn',
        time: minuteAgo,
        component: 'heapdump-uploader',
        file: 'java_pid1.hprof',
        key: 'heapdumps/shop/shop/shop-full/x-java_pid1.hprof.zst',
        code: 'ENOSPC',
        error: 'ENOSPC: no space left on device, write',
        msg: 'cannot save the upload state (is the dump volume full?); uploading without it: a restart would start this dump over',
      }),
    ]);
  });
  after(async () => {
    await fixture?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('dumped: exit 3 after ExitOnOutOfMemoryError, the stored key, no problem', async () => {
    const r = await doctor('shop-dumped');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^Pod {7}shop\/shop-dumped \(Running\)$/m);
    assert.match(
      r.stdout,
      new RegExp(
        `^App {7}ok  container app last terminated at \\S+: exit 3 \\(Error\\), restarts 1: the JVM ran out of heap and exited \\(ExitOnOutOfMemoryError\\) after writing a heap dump; stored: ${dumpKey.value} \\(complete\\)$`,
        'm',
      ),
    );
    assert.match(r.stdout, /^Uploader {2}ok {2}container heapdump-uploader running since \S+, restarts 0$/m);
    assert.match(
      r.stdout,
      /^Volume {4}ok {2}\S+shop-dumped \(volume heapdumps\) holds 0 B of its 2048Mi sizeLimit \(0%\)$/m,
    );
    assert.match(r.stdout, /^No problem found\.$/m);
    const calls = await kubectlCalls(dir);
    const mine = calls.filter((c) => c.includes('shop-dumped'));
    assert.deepEqual(mine[0], ['get', 'pod', 'shop-dumped', '-n', NS, '-o', 'json']);
    assert.ok(!mine.some((c) => c.includes('--previous')), 'no previous log without a restart');
    assert.deepEqual(mine.at(-1)?.slice(0, 8), [
      'exec',
      '-n',
      NS,
      'shop-dumped',
      '-c',
      'heapdump-uploader',
      '--',
      'node',
    ]);
  });

  it('OOMKilled: no dump can exist; the heap against the limit, the headroom, what to change', async () => {
    const r = await doctor('shop-oomkilled');
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stdout,
      /exit 137 \(OOMKilled\), restarts 4: the kernel killed the JVM for passing the container's memory limit before Java saw an OutOfMemoryError, so no heap dump can exist; memory limit 512\.0 MiB, heap 448\.0 MiB \(-Xmx448m\): 64\.0 MiB of native headroom \(13% of the limit\)$/m,
    );
    assert.match(
      r.stdout,
      /-> keep the heap at most the component's default \(65% at this limit\): .*: raise resources\.limits\.memory to at least 689\.2 MiB, or lower the heap to at most 332\.8 MiB \(-Xmx, -XX:MaxRAMPercentage=65, or none/,
    );
    assert.match(r.stdout, /^1 problem found\.$/m);
  });

  it('credentials refused: the crash-looping uploader, its error lines, the dump left in the volume', async () => {
    const r = await doctor('shop-refused');
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /PROBLEM {2}container heapdump-uploader waiting \(CrashLoopBackOff\), restarts 7$/m,
    );
    assert.match(
      r.stdout,
      /PROBLEM {2}credentials refused: \S+ S3 refused our credentials \(SignatureDoesNotMatch\)/m,
    );
    assert.match(r.stdout, /-> the store refuses the uploader's credentials: check the Secret's keys/);
    assert.match(r.stdout, /PROBLEM {2}no dump of the pod in s3:\/\/dumps\/heapdumps\//);
    assert.match(
      r.stdout,
      /PROBLEM {2}java_pid1\.hprof \([\d.]+ MiB, last written \d+ s ago\) is present, not yet shipped: the uploader reports errors above$/m,
    );
    const calls = await readFile(join(dir, 'kubectl.log'), 'utf8');
    assert.match(
      calls,
      /\["logs","shop-refused","-n","shop","-c","heapdump-uploader","--tail=500","--previous"\]/,
    );
  });

  it('volume full: its use against the sizeLimit, the uploader saying so, as JSON too', async () => {
    const r = await doctor('shop-full');
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /PROBLEM {2}\S+shop-full \(volume heapdumps\) holds 4\.00 MiB of its 4Mi sizeLimit \(100%\)$/m,
    );
    assert.match(
      r.stdout,
      /PROBLEM {2}volume full: \S+ cannot save the upload state \(is the dump volume full\?\).* \[ENOSPC\]/,
    );
    assert.match(r.stdout, /-> the dump volume is full: raise heapDumps\.sizeLimit/);
    const json = await doctor('shop-full', '--json');
    const findings = JSON.parse(json.stdout).findings as { topic: string; severity: string; text: string }[];
    assert.ok(findings.some((f) => f.topic === 'volume' && f.severity === 'problem' && /100%/.test(f.text)));
    assert.ok(findings.some((f) => f.topic === 'uploader' && /^volume full: /.test(f.text)));
  });

  it('names what is wrong: no such pod, no kubectl', async () => {
    const missing = await doctor('nope');
    assert.equal(missing.code, 1);
    assert.equal(
      missing.stderr,
      'heapdump: kubectl get pod nope: Error from server (NotFound): pods "nope" not found\n',
    );
    const noKubectl = await run(process.execPath, [...RUN_SOURCE, cli, 'doctor', 'x'], {
      ...env,
      KUBECTL: join(dir, 'none'),
    });
    assert.equal(noKubectl.code, 2);
    assert.match(noKubectl.stderr, /cannot run kubectl \(ENOENT\): install it or set KUBECTL/);
  });
});
