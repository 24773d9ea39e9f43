// The seed's story on the real kubelet: `pulumi up` of the root project (Pulumi.yaml, index.ts) onto the node
// of `scripts/cluster start --with-node`, with the images imported there (the app on the JDK image, the
// uploader under the component's default name) and a Ceph RGW (scripts/rgw, on loopback: pods reach it through
// a forwarder on the node's address; the uploader has the put-only subuser's key). The JVM leaks
// until OutOfMemoryError; the kubelet restarts it in the same pod; the native sidecar ships the dump the dead
// container left in the emptyDir, and posts the HeapDumpStored Event on the pod.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { STORED_EVENT_REASON } from '@kube-heapdump/contract';
import {
  type Cluster,
  clusterForSuite,
  describeWithNode,
  kubectlOk,
  requireEngines,
} from '../support/cluster.ts';
import type { DumpCapture } from '../support/dump-capture.ts';
import {
  assertStoredAsWritten,
  captureOnNode,
  forwardOnNode,
  heapdumpCli,
  JDK_IMAGE,
  onePod,
  type PodJson,
  tagUploaderImage,
  waitUntil,
} from '../support/kubelet.ts';
import { openProject, type Project } from '../support/pulumi-engine.ts';
import { newRgwBucket, type RgwServer, rgwClient, rgwForSuite } from '../support/rgw.ts';

const ROOT = join(import.meta.dirname, '../..');
const NAMESPACE = 'heapdump-node';

describeWithNode('the root project on a real kubelet: OutOfMemoryError, restart, dump shipped', () => {
  let cluster: Cluster;
  let rgw: RgwServer;
  let bucket: string;
  let owner: S3Client;
  let forward: Awaited<ReturnType<typeof forwardOnNode>>;
  let project: Project;
  let capture: DumpCapture;

  before(async () => {
    const engines = requireEngines();
    cluster = await clusterForSuite({ node: true });
    rgw = await rgwForSuite();
    bucket = await newRgwBucket(rgw, 'kubelet');
    owner = rgwClient(rgw);
    forward = await forwardOnNode(cluster, rgw.endpoint);
    // The component's default uploader image (IfNotPresent): the imported one under that name.
    await tagUploaderImage(cluster);
    const config = {
      namespace: NAMESPACE,
      endpoint: forward.endpoint,
      bucket,
      region: rgw.region,
      accessKeyId: rgw.putOnly.accessKeyId,
      image: JDK_IMAGE,
    };
    project = await openProject(engines, cluster, join(ROOT, 'Pulumi.yaml'), join(ROOT, 'index.ts'), {
      ...Object.fromEntries(Object.entries(config).map(([k, v]) => [k, { value: v }])),
      secretAccessKey: { value: rgw.putOnly.secretAccessKey, secret: true },
    });
    await project.up();
    // Every dump the JVMs write into the pod's volume, held open on the node (the JVM needs about 13 s to fill
    // its heap after it starts, well after the kubelet makes the volume).
    const pod = await onePod(cluster, NAMESPACE, 'app=leaky');
    capture = await captureOnNode(cluster, pod.metadata.uid);
  });

  after(async () => {
    await capture?.close();
    await project?.dispose();
    await cluster?.stop();
    await forward?.close();
    owner?.destroy();
    await rgw?.stop();
  });

  const appPod = async () => {
    const pods = JSON.parse(await kubectlOk(cluster, ['-n', NAMESPACE, 'get', 'pods', '-o', 'json']))
      .items as PodJson[];
    assert.equal(pods.length, 1, `one pod of the Deployment: ${pods.map((p) => p.metadata.name).join(', ')}`);
    return pods[0] as PodJson;
  };
  const objects = async () =>
    ((await owner.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key ?? '');

  it('restarts the JVM in the same pod and the sidecar stores its dump, with a HeapDumpStored Event', async (t) => {
    const deadline = Date.now() + 300_000;
    const first = await appPod();
    let stored: string[] = [];
    while (stored.length === 0) {
      stored = (await objects()).filter((key) => /\.hprof(\.zst)?$/.test(key));
      if (Date.now() > deadline)
        throw new Error(`no dump stored after 300 s: ${JSON.stringify((await appPod()).status)}`);
      await sleep(2000);
    }
    const pod = await appPod();
    assert.equal(pod.metadata.uid, first.metadata.uid, 'the same pod');
    const app = pod.status.containerStatuses?.find((c) => c.name === 'app');
    assert.ok(app && app.restartCount >= 1, `the app restarted: ${JSON.stringify(app)}`);
    assert.ok(app.lastState.terminated, 'its last run terminated');
    assert.match(stored[0] as string, new RegExp(`^heapdumps/${NAMESPACE}/`));
    // The object is the first file the JVM wrote, byte for byte (and so is the SHA-256 in its summary)...
    assert.ok(capture.files.length >= 1, 'the dump was captured on the node');
    await assertStoredAsWritten(owner, bucket, stored[0] as string, await capture.readAt(0));
    // ...and once stored, that file is gone from the volume (the bytes live on only in the capture's descriptor).
    await waitUntil(
      'the stored dump deleted from the volume',
      async () => ((await capture.linkedAt(0)) ? undefined : true),
      60,
    );

    let reasons: string[] = [];
    for (let i = 0; i < 60 && !reasons.includes(STORED_EVENT_REASON); i++) {
      const events = JSON.parse(
        await kubectlOk(cluster, [
          '-n',
          NAMESPACE,
          'get',
          'events',
          '--field-selector',
          `involvedObject.name=${pod.metadata.name}`,
          '-o',
          'json',
        ]),
      ).items as { reason: string }[];
      reasons = events.map((e) => e.reason);
      if (!reasons.includes(STORED_EVENT_REASON)) await sleep(1000);
    }
    assert.ok(reasons.includes(STORED_EVENT_REASON), `Events on the pod: ${reasons.join(', ')}`);
    // For the record: the restarted pod as the kubelet reports it.
    t.diagnostic(await kubectlOk(cluster, ['-n', NAMESPACE, 'get', 'pod', pod.metadata.name, '-o', 'yaml']));
    storedKey = stored[0] as string;
    podName = pod.metadata.name;
    podUid = pod.metadata.uid;
  });

  let storedKey = '';
  let podName = '';
  let podUid = '';
  /** The developer CLI against this store and, through the real kubectl, this cluster. */
  const heapdump = (...args: string[]) =>
    heapdumpCli(cluster, { credential: rgw.owner, bucket, endpoint: rgw.endpoint })(...args);

  it('heapdump list finds the stored dump', async () => {
    assert.ok(storedKey, 'a dump was stored (the test before)');
    const listed = await heapdump('list', '--namespace', NAMESPACE);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(listed.stdout.includes(storedKey.split('/').pop() as string), listed.stdout);
  });

  it('a second OutOfMemoryError in the same pod gives a second object, not an overwrite', async () => {
    assert.ok(storedKey, 'a dump was stored (the test before)');
    const deadline = Date.now() + 300_000;
    let stored: string[] = [];
    while (stored.length < 2) {
      stored = (await objects()).filter((key) => /\.hprof(\.zst)?$/.test(key));
      if (Date.now() > deadline) throw new Error(`one dump stored after 300 s: ${stored.join(', ')}`);
      await sleep(2000);
    }
    assert.ok(stored.includes(storedKey), `the first object is still there: ${stored.join(', ')}`);
    assert.equal(new Set(stored).size, stored.length);
    // Two deaths of the JVM in one pod (the restart count may still say 1 while the kubelet backs off).
    assert.equal((await appPod()).metadata.uid, podUid, 'still the same pod');
  });

  it('heapdump doctor, with the real kubectl, explains the Java OutOfMemoryError', async (t) => {
    assert.ok(podName, 'a dump was stored (the test before)');
    const doctor = await heapdump('doctor', podName, '-n', NAMESPACE);
    // The app's finding reads the exit as the JVM's OutOfMemoryError exit ("not an OutOfMemoryError" also
    // names it: a doctor that missed exit 3 printed that).
    assert.match(doctor.stdout, /ran out of heap/, `${doctor.stdout}\n${doctor.stderr}`);
    assert.doesNotMatch(doctor.stdout, /not an OutOfMemoryError/);
    assert.doesNotMatch(doctor.stdout, /OOMKilled/);
    // It finds the last dump stored and complete (the uploader's summary), under a key the store holds.
    const key = /stored: (\S+) \(complete\)/.exec(doctor.stdout)?.[1];
    assert.ok(key && (await objects()).includes(key), `a stored, complete dump in: ${doctor.stdout}`);
    t.diagnostic(doctor.stdout);
  });
});
