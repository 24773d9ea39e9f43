// `heapdump trigger`: everything real but the cluster hop. The pod is the component's rendered pod, run by
// the pod simulator (a live JVM and our uploader sharing the dump volume); kubectl is a stand-in that
// answers `get pod` with that spec and runs `exec` commands on this machine, where the JVM is.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zstdDecompressSync } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { analyzeStream } from '@kube-heapdump/hprof';
import { FIXTURE_CLASS } from '../../../test/support/java.ts';
import { RUN_SOURCE } from '../../../test/support/node.ts';
import type { SimulatedPod } from '../../../test/support/pod-simulator.ts';
import { run } from '../../../test/support/processes.ts';
import { type S3Fixture, startS3Fixture } from '../../../test/support/s3-fixture.ts';
import { SIM_JAVA_IMAGE, simulationImages } from '../../../test/support/simulation.ts';
import { uploaderImage } from '../../heapdump/src/image.ts';
import { announcedKey, dumpTarget } from '../src/trigger.ts';
import { kubectlCalls } from './fake-kubectl.ts';
import { startTriggerPod } from './trigger-pod.ts';

const cli = join(import.meta.dirname, '../src/main.ts');

describe('heapdump trigger', () => {
  let fixture: S3Fixture;
  let dir: string;
  let pod: SimulatedPod;
  let env: NodeJS.ProcessEnv;
  const alphas = 54_321;

  before(async () => {
    fixture = await startS3Fixture({ buckets: ['team-dumps'] });
    dir = await mkdtemp(join(tmpdir(), 'kh-trigger-'));
    ({ pod, env } = await startTriggerPod({
      dir,
      endpoint: fixture.server.endpoint,
      image: SIM_JAVA_IMAGE,
      images: await simulationImages(uploaderImage()),
      alphas,
      metricsPort: 0,
    }));
  });
  after(async () => {
    await pod?.stop();
    await fixture?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('dumps the live JVM through kubectl exec; the sidecar ships it; --wait sees it stored', async () => {
    const jvm = pod.pid('app');
    assert.ok(jvm);
    const r = await run(
      process.execPath,
      [
        ...RUN_SOURCE,
        cli,
        'trigger',
        pod.name,
        '-n',
        'shop',
        '--pid',
        String(jvm),
        '--wait',
        '--timeout',
        '60',
      ],
      env,
      90_000,
    );
    assert.equal(r.code, 0, r.stderr);
    const [written, expect, stored] = r.stdout.trim().split('\n');
    assert.match(
      written ?? '',
      new RegExp(`^dump written in shop/${pod.name}: ${dir}/dumps/heapdump-\\d{8}T\\d{6}Z\\.hprof$`),
    );
    assert.match(
      expect ?? '',
      new RegExp(
        `^the uploader ships it as s3://team-dumps/jvm/shop/shop/${pod.name}/<time>-<id>-heapdump-\\d{8}T\\d{6}Z\\.hprof\\.zst$`,
      ),
    );
    const key = /^stored: s3:\/\/team-dumps\/(\S+) \(.+, complete\)$/.exec(stored ?? '')?.[1];
    assert.ok(key, stored);

    // It is this JVM's heap, and the JVM was not restarted.
    const object = await fixture.client().send(new GetObjectCommand({ Bucket: 'team-dumps', Key: key }));
    const bytes = zstdDecompressSync(Buffer.from(await object.Body!.transformToByteArray()));
    const analyzed = await analyzeStream([bytes], 'none', { top: 100 });
    assert.equal(analyzed.verdict, 'complete');
    assert.equal(analyzed.topClasses.find((c) => c.name === FIXTURE_CLASS.alpha)?.instances, alphas);
    assert.equal(pod.pid('app'), jvm);
    assert.deepEqual(pod.runs.get('app')?.exitCodes, []);

    // kubectl was asked for the JVM container (found from the volume mounts) in the pod's namespace.
    const calls = await kubectlCalls(dir);
    assert.deepEqual(calls[0], ['get', 'pod', pod.name, '-n', 'shop', '-o', 'json']);
    assert.deepEqual(calls[1]?.slice(0, 6), ['exec', '-n', 'shop', pod.name, '-c', 'app']);
  });

  it('names what is wrong: no such pod, no such container', async () => {
    const missing = await run(process.execPath, [...RUN_SOURCE, cli, 'trigger', 'nope', '-n', 'shop'], env);
    assert.equal(missing.code, 1);
    assert.equal(
      missing.stderr,
      'heapdump: kubectl get pod nope: Error from server (NotFound): pods "nope" not found\n',
    );
    const container = await run(
      process.execPath,
      [...RUN_SOURCE, cli, 'trigger', pod.name, '-n', 'shop', '-c', 'sidecar'],
      env,
    );
    assert.equal(container.code, 2);
    assert.equal(container.stderr, `heapdump: pod ${pod.name} has no container sidecar\n`);
  });
});

describe('the key trigger announces and waits for', () => {
  const pod = (uploaderEnv: { name: string; value: string }[]) => ({
    metadata: { name: 'shop-1', namespace: 'shop' },
    spec: {
      containers: [{ name: 'app', volumeMounts: [{ name: 'heapdumps', mountPath: '/dumps' }] }],
      initContainers: [
        {
          name: 'heapdump-uploader',
          env: [{ name: 'HEAPDUMP_DIR', value: '/dumps' }, ...uploaderEnv],
          volumeMounts: [{ name: 'heapdumps', mountPath: '/dumps' }],
        },
      ],
    },
  });
  it("is the uploader's default (zstd) when the pod does not set HEAPDUMP_COMPRESSION", () => {
    const target = dumpTarget(pod([{ name: 'HEAPDUMP_APP', value: 'shop' }]), undefined);
    assert.equal(
      announcedKey(target, 'heapdumps/', 'shop-1', 'heapdump-x.hprof'),
      'heapdumps/shop/shop/shop-1/<time>-<id>-heapdump-x.hprof.zst',
    );
  });
  it('follows the compression the pod sets', () => {
    for (const [compression, suffix] of [
      ['gzip', '.gz'],
      ['none', ''],
    ] as const) {
      const target = dumpTarget(pod([{ name: 'HEAPDUMP_COMPRESSION', value: compression }]), undefined);
      assert.equal(
        announcedKey(target, '', 'shop-1', 'heapdump-x.hprof'),
        `shop/shop-1/shop-1/<time>-<id>-heapdump-x.hprof${suffix}`,
      );
    }
  });
});
