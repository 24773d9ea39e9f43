// `pulumi up` of the examples that need no AWS, for real (test/support/deployment-checks.ts says what is
// checked): huawei-obs as it is (an existing bucket, an existing Secret), pod-template and add-heap-dumps with
// their bring-your-own-bucket config (their README) pointed at the strict S3 server. Each example's namespace
// exists beforehand, as its README asks.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import {
  type Cluster,
  clusterForSuite,
  describeWithCluster,
  kubectl,
  kubectlOk,
  requireEngines,
} from '../support/cluster.ts';
import { deploymentChecks, type Rendered, renderUnderMocks } from '../support/deployment-checks.ts';
import { openProject, type Project } from '../support/pulumi-engine.ts';

const EXAMPLES = join(import.meta.dirname, '../../examples');

/** A bucket on an S3-compatible store, its key in the Secret `heapdump-store` (README's "Bring your own bucket"). */
const BRING_YOUR_OWN = {
  'storage.existing.bucket': 'dumps',
  'storage.existing.endpoint': 'http://127.0.0.1:9000',
  'storage.existing.forcePathStyle': 'true',
  'identity.kind': 'existingSecret',
  'identity.existingSecret.name': 'heapdump-store',
};

interface Case {
  example: string;
  namespace: string;
  /** Whether Pulumi's mocks render it (a Helm chart is rendered by the provider). */
  mocks: boolean;
  /** `pulumi config set [--path]` values. */
  config: Record<string, string>;
  change: { key: string; value: string; updates: string };
  /** A check of the deployed objects of its own. */
  more?: (cluster: Cluster) => Promise<void>;
}

const CASES: Case[] = [
  {
    example: 'huawei-obs',
    namespace: 'finance',
    mocks: true,
    config: { image: 'registry.example/finance/billing:2.3.1', bucket: 'finance-heapdumps' },
    change: {
      key: 'image',
      value: 'registry.example/finance/billing:2.3.2',
      updates: 'kubernetes:apps/v1:Deployment',
    },
  },
  {
    example: 'pod-template',
    namespace: 'shop',
    mocks: true,
    config: { namespace: 'shop', ...BRING_YOUR_OWN },
    change: {
      key: 'image',
      value: 'registry.example/petclinic:3.4.0',
      updates: 'kubernetes:apps/v1:Deployment',
    },
  },
  {
    example: 'add-heap-dumps',
    namespace: 'search',
    mocks: true,
    config: BRING_YOUR_OWN,
    change: {
      key: 'image',
      value: 'registry.example/opensearch:2.18.0',
      updates: 'kubernetes:apps/v1:StatefulSet',
    },
  },
  {
    // The chart in the repository (examples/helm-transform/chart), rendered by the real provider; the
    // transform must wrap the keycloak StatefulSet and leave PostgreSQL's alone.
    example: 'helm-transform',
    namespace: 'auth',
    mocks: false,
    config: {
      chart: join(EXAMPLES, 'helm-transform/chart'),
      chartVersion: '24.4.1-local',
      ...BRING_YOUR_OWN,
    },
    change: {
      key: 'storage.existing.bucket',
      value: 'dumps-2',
      updates: 'kubernetes:apps/v1:StatefulSet::keycloak:auth/keycloak-keycloak',
    },
    async more(cluster) {
      const containers = async (name: string) =>
        (
          await kubectlOk(cluster, [
            '-n',
            'auth',
            'get',
            'statefulset',
            name,
            '-o',
            'jsonpath={.spec.template.spec.initContainers[*].name} {.spec.template.spec.containers[*].name}',
          ])
        ).trim();
      assert.equal(await containers('keycloak-keycloak'), 'heapdump-uploader keycloak');
      assert.equal(await containers('keycloak-postgresql'), 'postgresql');
    },
  },
];

/** `--path` config as the object Pulumi builds from it, for the mock render (which takes whole values). */
function asObjects(config: Record<string, string>): Record<string, string> {
  const out: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(config)) {
    const keys = path.split('.');
    let node = out as Record<string, unknown>;
    for (const key of keys.slice(0, -1)) {
      node[key] ??= {};
      node = node[key] as Record<string, unknown>;
    }
    node[keys.at(-1)!] = value === 'true' ? true : value;
  }
  return Object.fromEntries(
    Object.entries(out).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
  );
}

for (const c of CASES) {
  describeWithCluster(`pulumi up of examples/${c.example} on a real API server`, () => {
    let cluster: Cluster;
    let project: Project;
    let rendered: Rendered[] | undefined;

    before(async () => {
      const engines = requireEngines();
      cluster = await clusterForSuite();
      await kubectlOk(cluster, ['create', 'namespace', c.namespace]);
      const dir = join(EXAMPLES, c.example);
      if (c.mocks) rendered = await renderUnderMocks(join(dir, 'index.ts'), asObjects(c.config));
      project = await openProject(engines, cluster, join(dir, 'Pulumi.yaml'), join(dir, 'index.ts'), {});
      for (const [path, value] of Object.entries(c.config)) {
        await project.stack.setConfig(path, { value }, path.includes('.'));
      }
    });

    after(async () => {
      await project?.dispose();
      if (cluster) await kubectl(cluster, ['delete', 'namespace', c.namespace, '--wait=false']);
      await cluster?.stop();
    });

    deploymentChecks({
      cluster: () => cluster,
      project: () => project,
      rendered: () => rendered,
      change: c.change,
      more: c.more && (() => it(`examples/${c.example}: what it is for`, () => c.more!(cluster))),
    });
  });
}
