// The rest of the seed's story on the real kubelet, with the component's own workloads (test/kubelet/workloads:
// one `pulumi up`, one cluster for the file): a Job and a CronJob run whose JVM dies of OutOfMemoryError
// store the dump before their pod ends; a pod deleted while a large dump uploads to a slow store keeps its
// upload going within the grace period the component computed; a pod the kernel OOM-kills is what
// `heapdump doctor` says it is. Every stored dump is compared with the bytes the JVM wrote, captured on the node.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { UPLOADER_CONTAINER } from '../../packages/heapdump/src/names.ts';
import {
  type Cluster,
  clusterForSuite,
  describeWithNode,
  kubectl,
  kubectlOk,
  requireEngines,
} from '../support/cluster.ts';
import {
  assertStoredAsWritten,
  captureOnNode,
  heapdumpCli,
  JDK_IMAGE,
  onePod,
  type PodJson,
  podsOf,
  releaseApp,
  storedDumps,
  tagUploaderImage,
  waitUntil,
} from '../support/kubelet.ts';
import { openProject, type Project } from '../support/pulumi-engine.ts';
import { DEFAULT_CREDENTIAL } from '../support/s3/server.ts';
import { type S3Fixture, startS3Fixture } from '../support/s3-fixture.ts';

const NS = 'heapdump-workloads';
// The slow store's body rate: a dump of the 128 MiB heap of random bytes takes about half a minute.
const SLOW_MBPS = 5;

const terminated = (p: PodJson) =>
  ['Failed', 'Succeeded'].includes(p.status.phase) &&
  [...(p.status.containerStatuses ?? []), ...(p.status.initContainerStatuses ?? [])].every(
    (c) => c.state.terminated,
  );

describeWithNode(
  'the component’s workloads on a real kubelet: Job, CronJob, deletion, kernel OOM kill',
  () => {
    let cluster: Cluster;
    let s3: S3Fixture;
    let slow: S3Fixture;
    let project: Project;

    before(async () => {
      const engines = requireEngines();
      cluster = await clusterForSuite({ node: true });
      s3 = await startS3Fixture({ host: cluster.nodeIp });
      slow = await startS3Fixture({ host: cluster.nodeIp, rateBytesPerSecond: SLOW_MBPS * 1e6 });
      await tagUploaderImage(cluster);
      const config = {
        namespace: NS,
        image: JDK_IMAGE,
        endpoint: s3.server.endpoint,
        slowEndpoint: slow.server.endpoint,
        slowRateMBps: String(SLOW_MBPS),
        accessKeyId: DEFAULT_CREDENTIAL.accessKeyId,
      };
      project = await openProject(
        engines,
        cluster,
        join(import.meta.dirname, 'workloads/Pulumi.yaml'),
        join(import.meta.dirname, 'workloads/index.ts'),
        {
          ...Object.fromEntries(Object.entries(config).map(([k, v]) => [k, { value: v }])),
          secretAccessKey: { value: DEFAULT_CREDENTIAL.secretAccessKey, secret: true },
        },
      );
      await project.up();
    });

    after(async () => {
      await project?.dispose();
      await cluster?.stop();
      await s3?.close();
      await slow?.close();
    });

    const status = async (selector: string) =>
      JSON.stringify((await podsOf(cluster, NS, selector)).map((p) => p.status));

    /** The Job's one pod: released, its JVM dies of OutOfMemoryError; the dump must be stored when the pod has ended. */
    const jobStoresBeforeItEnds = async (jobName: string, t: { diagnostic(m: string): void }) => {
      const selector = `job-name=${jobName}`;
      const pod = await onePod(cluster, NS, selector);
      const capture = await captureOnNode(cluster, pod.metadata.uid);
      try {
        await releaseApp(cluster, pod.metadata.uid);
        const ended = await waitUntil(
          `the pod of ${jobName} ended`,
          async () => (await podsOf(cluster, NS, selector)).find(terminated),
          300,
          () => status(selector),
        );
        // Looked at once the pod has ended (every container, the sidecar too): nothing can store it after.
        const keys = await storedDumps(s3.client(), 'dumps', pod.metadata.name);
        assert.equal(
          keys.length,
          1,
          `the dump was stored when the pod ended: ${JSON.stringify(ended.status)}`,
        );
        const app = ended.status.containerStatuses?.find((c) => c.name === 'app');
        assert.equal(
          app?.state.terminated?.exitCode,
          3,
          'the JVM exited on OutOfMemoryError (ExitOnOutOfMemoryError)',
        );
        const uploader = ended.status.initContainerStatuses?.find((c) => c.name === UPLOADER_CONTAINER);
        assert.equal(uploader?.state.terminated?.exitCode, 0, 'the native sidecar stopped cleanly');
        const summary = await assertStoredAsWritten(
          s3.client(),
          'dumps',
          keys[0] as string,
          await capture.readAt(0),
        );
        assert.equal(await capture.linkedAt(0), false, 'the volume holds the dump no more');
        t.diagnostic(
          `${jobName}: ${summary.dump.originalBytes} bytes stored as ${keys[0]} at ${summary.timings.uploadComplete}; ` +
            `sidecar finished at ${uploader?.state.terminated?.finishedAt}`,
        );
      } finally {
        await capture.close();
      }
    };

    it('a Job whose JVM dies of OutOfMemoryError: the dump is stored before its pod ends', async (t) => {
      await jobStoresBeforeItEnds('oom-job', t);
    });

    it('a CronJob run at once (kubectl create job --from=cronjob/...): the same', async (t) => {
      await kubectlOk(cluster, ['-n', NS, 'create', 'job', '--from=cronjob/oom-cron', 'oom-cron-now']);
      await jobStoresBeforeItEnds('oom-cron-now', t);
    });

    it('kubectl delete pod while a large dump uploads: the sidecar finishes it within the grace period', async (t) => {
      const pod = await onePod(cluster, NS, 'app=big-dump');
      const grace = pod.spec.terminationGracePeriodSeconds ?? 30;
      const capture = await captureOnNode(cluster, pod.metadata.uid);
      try {
        await releaseApp(cluster, pod.metadata.uid);
        const client = slow.client();
        // Deleted once the upload is under way and not yet done.
        await waitUntil(
          'an upload under way to the slow store',
          async () =>
            (await client.send(new ListMultipartUploadsCommand({ Bucket: 'dumps' }))).Uploads?.length
              ? true
              : undefined,
          300,
          () => status('app=big-dump'),
        );
        assert.deepEqual(await storedDumps(client, 'dumps', pod.metadata.name), [], 'not stored yet');
        const deletedAt = Date.now();
        await kubectlOk(cluster, ['-n', NS, 'delete', 'pod', pod.metadata.name, '--wait=false']);
        // The pod is gone when every container has stopped (the kubelet kills what is left at the grace period).
        await waitUntil(
          `pod ${pod.metadata.name} gone`,
          async () => {
            const got = await kubectl(cluster, ['-n', NS, 'get', 'pod', pod.metadata.name]);
            return got.code !== 0 && /NotFound/.test(got.stderr) ? true : undefined;
          },
          grace + 120,
        );
        const goneSeconds = (Date.now() - deletedAt) / 1000;
        const keys = await storedDumps(client, 'dumps', pod.metadata.name);
        assert.equal(keys.length, 1, 'the dump under way was stored before the pod was gone');
        const written = await capture.readAt(0);
        // Read back through a server of its own on the same directory: the slow one would take as long again.
        const reader = await startS3Fixture({ dir: slow.dir });
        const summary = await assertStoredAsWritten(
          reader.client(),
          'dumps',
          keys[0] as string,
          written,
        ).finally(() => reader.close());
        const durableSeconds = (Date.parse(summary.timings.uploadComplete) - deletedAt) / 1000;
        assert.ok(durableSeconds > 0, 'the upload was still under way when the pod was deleted');
        assert.ok(
          durableSeconds <= grace,
          `durable ${durableSeconds} s after the deletion, grace ${grace} s`,
        );
        t.diagnostic(
          `dump ${written.length} bytes (stored ${summary.dump.storedBytes}, ${summary.dump.compression}) to a ` +
            `${SLOW_MBPS} MB/s store; grace period ${grace} s; durable ${durableSeconds.toFixed(1)} s after ` +
            `kubectl delete pod; pod gone after ${goneSeconds.toFixed(1)} s`,
        );
      } finally {
        await capture.close();
      }
    });

    it('a pod the kernel OOM-kills: exit 137, OOMKilled, and heapdump doctor says so', async (t) => {
      const pod = await onePod(cluster, NS, 'app=kernel-oom');
      await releaseApp(cluster, pod.metadata.uid);
      const killed = await waitUntil(
        'the app OOM-killed',
        async () =>
          (await podsOf(cluster, NS, 'app=kernel-oom'))
            .map((p) => p.status.containerStatuses?.find((c) => c.name === 'app'))
            .find((c) => c?.lastState.terminated ?? c?.state.terminated),
        300,
        () => status('app=kernel-oom'),
      );
      const last = killed.lastState.terminated ?? killed.state.terminated;
      assert.equal(last?.exitCode, 137);
      assert.equal(last?.reason, 'OOMKilled');
      const doctor = await heapdumpCli(cluster, {
        credential: DEFAULT_CREDENTIAL,
        bucket: 'dumps',
        endpoint: s3.server.endpoint,
      })('doctor', pod.metadata.name, '-n', NS);
      assert.match(doctor.stdout, /OOMKilled/, `${doctor.stdout}\n${doctor.stderr}`);
      assert.match(doctor.stdout, /the kernel killed the JVM/);
      assert.doesNotMatch(doctor.stdout, /ran out of heap/);
      t.diagnostic(doctor.stdout);
    });
  },
);
