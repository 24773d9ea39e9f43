// HeapDumpStorage.transform() under Pulumi's mocks (which run transforms as the engine does): on resources
// under a parent given `transforms`, registered for the whole stack, and on the objects a Helm v4 chart's
// provider registers (its children are the provider's, invisible to mocks, so the transform is called with
// the type, name and props the provider sends); identity per namespace and ServiceAccount.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { loadAll } from 'js-yaml';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { installMocks, type Registered, resolved } from '../../../test/support/pulumi-mocks.ts';

const mocks = await installMocks({ deterministic: true });
const { FieldError, HeapDumpStorage } = await import('../src/index.ts');

/** A component we do not own: it creates a StatefulSet and a Job of its own. */
class Vendor extends pulumi.ComponentResource {
  readonly children: pulumi.Resource[];
  constructor(name: string, namespace: string, opts?: pulumi.ComponentResourceOptions) {
    super('vendor:index:Search', name, {}, opts);
    const pod = (container: string) => ({
      containers: [{ name: container, image: 'opensearch:2.17.0', resources: { limits: { memory: '2Gi' } } }],
    });
    this.children = [
      new k8s.apps.v1.StatefulSet(
        `${name}-nodes`,
        {
          metadata: { name: `${name}-nodes`, namespace },
          spec: {
            serviceName: name,
            selector: { matchLabels: { app: name } },
            template: {
              metadata: { labels: { app: name } },
              spec: { ...pod('search'), serviceAccountName: 'search' },
            },
            volumeClaimTemplates: [
              {
                metadata: { name: 'data' },
                spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } },
              },
            ],
          },
        },
        { parent: this },
      ),
      new k8s.batch.v1.CronJob(
        `${name}-reindex`,
        {
          metadata: { name: `${name}-reindex`, namespace },
          spec: {
            schedule: '0 4 * * *',
            jobTemplate: { spec: { template: { spec: { ...pod('reindex'), restartPolicy: 'Never' } } } },
          },
        },
        { parent: this },
      ),
    ];
    this.registerOutputs({});
  }
}

async function settle(resources: pulumi.Resource[]): Promise<Registered[]> {
  await resolved(pulumi.all(resources.map((r) => r.urn)));
  await new Promise((r) => setTimeout(r, 200));
  return [...mocks.registered()];
}
const podOf = (r: Registered) => {
  const spec = r.inputs.spec as {
    template?: { spec: { initContainers?: { name: string; env?: { name: string; value?: string }[] }[] } };
    jobTemplate?: {
      spec: {
        template: { spec: { initContainers?: { name: string; env?: { name: string; value?: string }[] }[] } };
      };
    };
  };
  return (spec.template ?? spec.jobTemplate?.spec.template)?.spec;
};

describe('transform', () => {
  test('on a component we do not own, through its parent, and selecting by kind', async () => {
    mocks.reset();
    const storage = new HeapDumpStorage('dumps', {
      storage: { existing: { bucket: 'b', region: 'eu-west-3' } },
    });
    const vendor = new Vendor('search', 'search', {
      transforms: [storage.transform({ kinds: ['StatefulSet'] })],
    });
    const registered = await settle([storage, vendor, ...vendor.children]);
    const sts = registered.find((r) => r.type === 'kubernetes:apps/v1:StatefulSet');
    const cron = registered.find((r) => r.type === 'kubernetes:batch/v1:CronJob');
    assert.ok(sts && cron);
    assert.equal(podOf(sts)?.initContainers?.[0]?.name, 'heapdump-uploader');
    assert.equal(podOf(cron)?.initContainers, undefined, 'CronJob not selected');
    new StatefulSet({ apiVersion: 'apps/v1', kind: 'StatefulSet', ...sts.inputs } as never).validate();
    assert.deepEqual((sts.inputs.spec as { volumeClaimTemplates: unknown }).volumeClaimTemplates, [
      {
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } },
      },
    ]);
  });

  test('registered for the stack: every workload, a Secret in each namespace that runs an uploader', async () => {
    mocks.reset();
    const storage = new HeapDumpStorage('dumps', {
      storage: { existing: { bucket: 'b', region: 'eu-west-3' } },
    });
    pulumi.runtime.registerResourceTransform(storage.transform());
    const a = new Vendor('search', 'search');
    const b = new Vendor('logs', 'logging');
    const registered = await settle([storage, a, b, ...a.children, ...b.children]);
    const workloads = registered.filter(
      (r) => r.type === 'kubernetes:apps/v1:StatefulSet' || r.type === 'kubernetes:batch/v1:CronJob',
    );
    assert.equal(workloads.length, 4);
    for (const w of workloads) assert.equal(podOf(w)?.initContainers?.[0]?.name, 'heapdump-uploader', w.name);
    const cron = workloads.find((w) => w.type === 'kubernetes:batch/v1:CronJob');
    new CronJob({ apiVersion: 'batch/v1', kind: 'CronJob', ...cron?.inputs } as never).validate();
    const secrets = registered.filter((r) => r.type === 'kubernetes:core/v1:Secret');
    assert.deepEqual(secrets.map((s) => (s.inputs.metadata as { namespace: string }).namespace).sort(), [
      'logging',
      'search',
    ]);
  });

  test('IRSA: a role per ServiceAccount actually used, trusting exactly it; the uploader alone assumes it', async () => {
    mocks.reset();
    const oidcProviderArn = 'arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-3.amazonaws.com/id/ABC';
    const storage = new HeapDumpStorage('dumps', {
      storage: { existing: { bucket: 'b', region: 'eu-west-3' } },
      identity: { kind: 'irsa', irsa: { oidcProviderArn } },
    });
    const vendor = new Vendor('search', 'search', { transforms: [storage.transform()] });
    const registered = await settle([storage, vendor, ...vendor.children]);
    const subjects = registered
      .filter((r) => r.type === 'aws:iam/role:Role')
      .map((r) => JSON.parse(r.inputs.assumeRolePolicy as string).Statement[0].Condition.StringEquals)
      .map((c: Record<string, string>) => c['oidc.eks.eu-west-3.amazonaws.com/id/ABC:sub'])
      .sort();
    assert.deepEqual(subjects, [
      'system:serviceaccount:search:default',
      'system:serviceaccount:search:search',
    ]);
    const sts = registered.find((r) => r.type === 'kubernetes:apps/v1:StatefulSet');
    const env = podOf(sts as Registered)?.initContainers?.[0]?.env ?? [];
    assert.match(
      env.find((e) => e.name === 'AWS_ROLE_ARN')?.value ?? '',
      /^arn:aws:iam::123456789012:role\/dumps-search-search-uploader/,
    );
    assert.equal(registered.filter((r) => r.type.startsWith('kubernetes:core/v1:Secret')).length, 0);
  });

  test('a Helm v4 chart: the objects its provider registers are wrapped; the rest pass', async () => {
    mocks.reset();
    const storage = new HeapDumpStorage('dumps', {
      storage: { existing: { bucket: 'b', region: 'eu-west-3' } },
    });
    const transform = storage.transform({ containers: ['orders'] });
    const chartYaml = readFileSync(new URL('./fixtures/helm/orders-chart.yaml', import.meta.url), 'utf8');
    const typeOf = (o: { apiVersion: string; kind: string }) =>
      `kubernetes:${o.apiVersion.includes('/') ? o.apiVersion : `core/${o.apiVersion}`}:${o.kind}`;
    const results = [];
    for (const o of loadAll(chartYaml) as {
      apiVersion: string;
      kind: string;
      metadata: { name: string; namespace: string };
    }[]) {
      // As the provider registers a v4 chart's children: `<chart>:<namespace>/<name>`, the object as props.
      const name = `orders:${o.metadata.namespace}/${o.metadata.name}`;
      results.push([
        o.kind,
        await transform({ custom: true, type: typeOf(o), name, props: o, opts: {} }),
      ] as const);
    }
    assert.deepEqual(
      results.map(([kind, r]) => [kind, r !== undefined]),
      [
        ['ServiceAccount', false],
        ['ConfigMap', false],
        ['Service', false],
        ['StatefulSet', false],
        ['Deployment', true],
      ],
    );
    const wrapped = results[4]?.[1];
    const spec = (await resolved(pulumi.output(wrapped?.props.spec))) as {
      template: { spec: { initContainers: { name: string }[] } };
    };
    assert.deepEqual(
      spec.template.spec.initContainers.map((c) => c.name),
      ['heapdump-uploader', 'wait-for-db'],
    );
  });

  test('a selected workload that cannot be wrapped fails with the workload and the field, never skipped', async () => {
    mocks.reset();
    const storage = new HeapDumpStorage('dumps', {
      storage: { existing: { bucket: 'b', region: 'eu-west-3' } },
    });
    const transform = storage.transform();
    const props = {
      metadata: { name: 'web', namespace: 'shop' },
      spec: {
        selector: {},
        template: {
          spec: {
            containers: [
              { name: 'app', image: 'a' },
              { name: 'proxy', image: 'p' },
            ],
          },
        },
      },
    };
    assert.throws(
      () => transform({ custom: true, type: 'kubernetes:apps/v1:Deployment', name: 'web', props, opts: {} }),
      (e: unknown) =>
        e instanceof FieldError &&
        e.field === 'heapDumps.containers' &&
        /Deployment shop\/web/.test(e.message) &&
        /app, proxy/.test(e.message),
    );
    const job = {
      metadata: { name: 'j' },
      spec: {
        template: {
          spec: {
            restartPolicy: 'Never',
            containers: [{ name: 'app', image: 'a', resources: { limits: { memory: '1Gi' } } }],
          },
        },
      },
    };
    const classic = new HeapDumpStorage('classic', {
      storage: { existing: { bucket: 'b', region: 'eu-west-3' } },
      uploader: { sidecar: 'classic' },
    });
    assert.throws(
      () =>
        classic.transform()({
          custom: true,
          type: 'kubernetes:batch/v1:Job',
          name: 'j',
          props: job,
          opts: {},
        }),
      (e: unknown) => e instanceof FieldError && e.field === 'uploader.sidecar',
    );
  });
});
