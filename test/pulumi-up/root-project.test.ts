// `pulumi up` of the root project (Pulumi.yaml, index.ts) for real: the Pulumi engine and the Kubernetes
// provider built from Go modules (scripts/engines), a real API server (scripts/cluster), bring-your-own
// S3-compatible storage (the RGW CI starts, else the strict S3 server). The objects the API server holds must
// be what the same program renders under Pulumi's mocks; then no change on a second preview, an argument
// changed in place, nothing left after destroy. Then the uploader's Event token, as the API server decides it.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { parseNotifyEnv, UPLOADER_ENV } from '@kube-heapdump/contract';
import { dumpEvent, postEvent } from '../../packages/uploader/src/kube-event.ts';
import {
  type Cluster,
  clusterForSuite,
  describeWithCluster,
  type Engines,
  kubectlOk,
  requireEngines,
} from '../support/cluster.ts';
import { deploymentChecks, type Rendered, renderUnderMocks } from '../support/deployment-checks.ts';
import { run } from '../support/processes.ts';
import { openProject, type Project } from '../support/pulumi-engine.ts';
import { RGW_ENV } from '../support/rgw.ts';
import { DEFAULT_CREDENTIAL } from '../support/s3/server.ts';
import { type S3Fixture, startS3Fixture } from '../support/s3-fixture.ts';

const ROOT = join(import.meta.dirname, '../..');
const NAMESPACE = 'heapdump-e2e';

describeWithCluster('pulumi up of the root project on a real API server', () => {
  let engines: Engines;
  let cluster: Cluster;
  let project: Project;
  let s3: S3Fixture | undefined;
  let config: Record<string, string>;
  let rendered: Rendered[];

  before(async () => {
    engines = requireEngines();
    cluster = await clusterForSuite();
    const rgwFile = process.env[RGW_ENV];
    let store: { endpoint: string; bucket: string; accessKeyId: string; secretAccessKey: string };
    if (rgwFile) {
      const rgw = JSON.parse(await readFile(rgwFile, 'utf8'));
      store = { endpoint: rgw.endpoint, bucket: rgw.bucket, ...rgw.putOnly };
    } else {
      s3 = await startS3Fixture();
      store = { endpoint: s3.server.endpoint, bucket: 'dumps', ...DEFAULT_CREDENTIAL };
    }
    config = {
      namespace: NAMESPACE,
      endpoint: store.endpoint,
      bucket: store.bucket,
      accessKeyId: store.accessKeyId,
      secretAccessKey: store.secretAccessKey,
    };
    rendered = await renderUnderMocks(join(ROOT, 'index.ts'), config);
    project = await openProject(engines, cluster, join(ROOT, 'Pulumi.yaml'), join(ROOT, 'index.ts'), {
      ...Object.fromEntries(Object.entries(config).map(([k, v]) => [k, { value: v }])),
      secretAccessKey: { value: store.secretAccessKey, secret: true },
    });
  });

  after(async () => {
    await project?.dispose();
    await cluster?.stop();
    await s3?.close();
  });

  deploymentChecks({
    cluster: () => cluster,
    project: () => project,
    rendered: () => rendered,
    change: { key: 'replicas', value: '3', updates: 'kubernetes:apps/v1:Deployment' },
    more: () => {
      it('renders the objects an existing bucket and Secret need, and no AWS resource', () => {
        const types = rendered.map((r) => r.type);
        for (const kind of ['Namespace', 'Secret', 'Deployment', 'Role', 'RoleBinding']) {
          assert.ok(
            types.some((t) => t.endsWith(`:${kind}`)),
            `a ${kind} among ${types.join(', ')}`,
          );
        }
        assert.deepEqual(
          types.filter((t) => t.startsWith('aws:')),
          [],
        );
      });
      eventTokenChecks();
    },
  });

  function eventTokenChecks() {
    it("the uploader's token may create Events in its namespace and nothing else; its Event client posts one", async () => {
      const deployment = JSON.parse(
        await kubectlOk(cluster, ['-n', NAMESPACE, 'get', 'deployments', '-o', 'jsonpath={.items[0]}']),
      );
      const pod = deployment.spec.template.spec;
      const serviceAccount: string = pod.serviceAccountName ?? 'default';
      // The token the kubelet would project into the uploader: the volume the component renders says how.
      const source = pod.volumes
        .flatMap(
          (v: { projected?: { sources: { serviceAccountToken?: { audience?: string } }[] } }) =>
            v.projected?.sources ?? [],
        )
        .find((s: { serviceAccountToken?: unknown }) => s.serviceAccountToken).serviceAccountToken;
      const token = (
        await kubectlOk(cluster, [
          '-n',
          NAMESPACE,
          'create',
          'token',
          serviceAccount,
          `--duration=${source.expirationSeconds}s`,
          ...(source.audience ? [`--audience=${source.audience}`] : []),
        ])
      ).trim();
      const asUploader = (args: string[]) =>
        run(cluster.kubectl, [
          '--kubeconfig=/dev/null',
          `--server=${cluster.server}`,
          `--certificate-authority=${cluster.caFile}`,
          `--token=${token}`,
          ...args,
        ]);
      const event = (namespace: string) =>
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { generateName: 'rbac-check-', namespace },
          involvedObject: { kind: 'Pod', name: 'x', namespace },
          reason: 'RbacCheck',
          message: 'rbac check',
        });
      const dir = await mkdtemp(join(tmpdir(), 'kh-rbac-'));
      try {
        await writeFile(join(dir, 'own.json'), event(NAMESPACE));
        await writeFile(join(dir, 'other.json'), event('default'));
        await writeFile(
          join(dir, 'pod.json'),
          JSON.stringify({
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: 'intruder', namespace: NAMESPACE },
            spec: { containers: [{ name: 'c', image: 'busybox' }] },
          }),
        );
        const allowed = await asUploader(['create', '-f', join(dir, 'own.json')]);
        assert.equal(allowed.code, 0, allowed.stderr);
        for (const args of [
          ['-n', NAMESPACE, 'get', 'secrets'],
          ['-n', NAMESPACE, 'get', 'secret', 'heapdump-store'],
          ['create', '-f', join(dir, 'pod.json')],
          ['create', '-f', join(dir, 'other.json')],
          ['-n', NAMESPACE, 'get', 'events'],
        ]) {
          const refused = await asUploader(args);
          assert.notEqual(refused.code, 0, `kubectl ${args.join(' ')} with the uploader's token`);
          assert.match(refused.stderr, /Forbidden|forbidden/, `kubectl ${args.join(' ')}: ${refused.stderr}`);
        }

        // The uploader's own Event client, configured as in the pod (KUBERNETES_SERVICE_HOST/PORT, token dir).
        await writeFile(join(dir, 'token'), token);
        await writeFile(join(dir, 'ca.crt'), await readFile(cluster.caFile));
        const url = new URL(cluster.server);
        const settings = parseNotifyEnv({
          KUBERNETES_SERVICE_HOST: url.hostname,
          KUBERNETES_SERVICE_PORT: url.port,
          [UPLOADER_ENV.serviceAccountDir]: dir,
        });
        const podIdentity = { name: 'leaky-7d9f-abcde', namespace: NAMESPACE, node: 'node-1', app: 'leaky' };
        const notice = {
          key: 'heapdumps/leaky/leaky-7d9f-abcde/dump.hprof.zst',
          bucket: 'dumps',
          file: 'java_pid1.hprof',
          verdict: 'complete',
          originalBytes: 1000,
          storedBytes: 100,
          compression: 'zstd',
          topClass: undefined,
        };
        await postEvent(
          settings,
          dumpEvent(podIdentity, undefined, notice, 'stored for the RBAC check', new Date()),
          10_000,
        );
        const events = JSON.parse(
          await kubectlOk(cluster, [
            '-n',
            NAMESPACE,
            'get',
            'events',
            '--field-selector',
            'reason=HeapDumpStored',
            '-o',
            'json',
          ]),
        );
        assert.equal(events.items.length, 1);
        assert.equal(events.items[0].involvedObject.name, podIdentity.name);
        assert.equal(events.items[0].message, 'stored for the RBAC check');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
