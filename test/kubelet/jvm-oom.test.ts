// The seed's claim on the real kubelet, without our component: a JVM that dies of OutOfMemoryError is
// restarted in the same pod (restartPolicy Always), and the heap dump it wrote to an emptyDir is still there for
// the next container; a container past its memory limit is killed by the kernel (exit 137, OOMKilled).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Cluster, clusterForSuite, describeWithNode, kubectlOk } from '../support/cluster.ts';

const JDK = 'localhost/kube-heapdump/jdk:17';
const NS = 'jvm-oom';
// Fills the heap, unless the directory named by its argument already holds a heap dump: then it waits, so the
// restarted container stays up to be looked at.
const OOM_JAVA = `import java.nio.file.*;
import java.util.*;
public class Oom {
  public static void main(String[] args) throws Exception {
    try (var files = Files.list(Path.of(args[0]))) {
      if (files.anyMatch(f -> f.toString().endsWith(".hprof"))) Thread.sleep(Long.MAX_VALUE);
    }
    List<byte[]> held = new ArrayList<>();
    while (true) held.add(new byte[1 << 20]);
  }
}
`;

interface ContainerStatus {
  restartCount: number;
  state: { running?: object; terminated?: { exitCode: number; reason: string } };
  lastState: { terminated?: { exitCode: number; reason: string } };
}
interface PodJson {
  metadata: { uid: string };
  status: { phase: string; containerStatuses?: ContainerStatus[] };
}

function javaPod(name: string, spec: { restartPolicy: string; xmx: string; memoryLimit?: string }) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS },
    spec: {
      restartPolicy: spec.restartPolicy,
      terminationGracePeriodSeconds: 1,
      volumes: [
        { name: 'dumps', emptyDir: {} },
        { name: 'src', configMap: { name: 'oom-src' } },
      ],
      containers: [
        {
          name: 'app',
          image: JDK,
          imagePullPolicy: 'Never',
          command: ['java', `-Xmx${spec.xmx}`, '-XX:+HeapDumpOnOutOfMemoryError', '-XX:HeapDumpPath=/dumps'],
          args: ['/src/Oom.java', '/dumps'],
          volumeMounts: [
            { name: 'dumps', mountPath: '/dumps' },
            { name: 'src', mountPath: '/src' },
          ],
          ...(spec.memoryLimit ? { resources: { limits: { memory: spec.memoryLimit } } } : {}),
        },
      ],
    },
  };
}

describeWithNode('a JVM out of memory on the real kubelet', () => {
  let cluster: Cluster;
  const create = async (name: string, object: object) => {
    const file = join(cluster.dir, `${name}.json`);
    await writeFile(file, JSON.stringify(object));
    await kubectlOk(cluster, ['create', '-f', file]);
  };
  const pod = async (name: string) =>
    JSON.parse(await kubectlOk(cluster, ['-n', NS, 'get', 'pod', name, '-o', 'json'])) as PodJson;
  /** The pod once `done` holds for it; fails after three minutes with its last status. */
  const waitFor = async (name: string, done: (p: PodJson) => boolean) => {
    const deadline = Date.now() + 180_000;
    for (;;) {
      const current = await pod(name);
      if (done(current)) return current;
      if (Date.now() > deadline) throw new Error(`pod ${name}: ${JSON.stringify(current.status)}`);
      await sleep(1000);
    }
  };

  before(async () => {
    cluster = await clusterForSuite({ node: true });
    await kubectlOk(cluster, ['create', 'namespace', NS]);
    await create('oom-src', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'oom-src', namespace: NS },
      data: { 'Oom.java': OOM_JAVA },
    });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('restarts the container in the same pod, and its heap dump survives in the emptyDir', async () => {
    await create('restarts', javaPod('restarts', { restartPolicy: 'Always', xmx: '32m' }));
    const first = await waitFor(
      'restarts',
      (p) => p.status.phase === 'Running' || p.status.phase === 'Pending',
    );
    const restarted = await waitFor('restarts', (p) => {
      const c = p.status.containerStatuses?.[0];
      return (c?.restartCount ?? 0) >= 1 && c?.state.running !== undefined;
    });
    const container = restarted.status.containerStatuses?.[0] as ContainerStatus;
    assert.equal(container.restartCount, 1);
    assert.equal(restarted.metadata.uid, first.metadata.uid);
    // An uncaught OutOfMemoryError ends the JVM with 1, after the dump.
    assert.equal(container.lastState.terminated?.exitCode, 1);
    const listing = await kubectlOk(cluster, ['-n', NS, 'exec', 'restarts', '--', 'ls', '/dumps']);
    assert.deepEqual(listing.trim().split('\n'), ['java_pid1.hprof']);
    const header = await kubectlOk(cluster, [
      '-n',
      NS,
      'exec',
      'restarts',
      '--',
      'head',
      '-c',
      '18',
      '/dumps/java_pid1.hprof',
    ]);
    assert.equal(header, 'JAVA PROFILE 1.0.2');
    const size = await kubectlOk(cluster, [
      '-n',
      NS,
      'exec',
      'restarts',
      '--',
      'stat',
      '-c',
      '%s',
      '/dumps/java_pid1.hprof',
    ]);
    assert.ok(Number(size) > 1_000_000, `a dump of a 32 MiB heap is ${size.trim()} bytes`);
  });

  it('OOM-kills a container past its memory limit: exit 137, OOMKilled', async () => {
    await create('killed', javaPod('killed', { restartPolicy: 'Never', xmx: '1g', memoryLimit: '96Mi' }));
    const ended = await waitFor(
      'killed',
      (p) => p.status.phase === 'Failed' || p.status.phase === 'Succeeded',
    );
    const terminated = ended.status.containerStatuses?.[0]?.state.terminated;
    assert.equal(terminated?.exitCode, 137);
    assert.equal(terminated?.reason, 'OOMKilled');
  });
});
