// The Done-when of "bring your own workload": the Spring Boot Deployment (fixtures/spring-boot.ts) wrapped by
// each of the three ways, under Pulumi's mocks, renders with every field intact plus heap dumps, and
// validates against the Kubernetes OpenAPI schema. (test/pod-simulation.test.ts runs the results.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { dump, loadAll } from 'js-yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { installMocks, type Registered, resolved, setMockCalls } from '../../../test/support/pulumi-mocks.ts';
import { removeTemplateAdditions } from './additions.ts';
import { springBootPodTemplate, springBootWorkloadSpec } from './fixtures/spring-boot.ts';

const mocks = await installMocks({ deterministic: true });
const { addHeapDumpsToTemplate, HeapDumpEnabledApp, HeapDumpStorage } = await import('../src/index.ts');
const { heapDumpJvmFlags } = await import('../src/jvm.ts');
const { watchdogJvmFlags } = await import('../src/watchdog.ts');

const chartYaml = readFileSync(new URL('./fixtures/helm/orders-chart.yaml', import.meta.url), 'utf8');
const decode = (text: string) => ({ result: loadAll(text).filter((d) => d !== null) });
setMockCalls({
  'kubernetes:helm:template': () => decode(chartYaml),
  'kubernetes:yaml:decode': (inputs) => decode(String(inputs.text)),
});

const template = springBootPodTemplate() as never as Parameters<typeof removeTemplateAdditions>[1];
const flags = [...heapDumpJvmFlags({}), ...watchdogJvmFlags({}, {}, '/dumps', [])].join(' ');
const storageArgs = { storage: { existing: { bucket: 'shop-dumps', region: 'eu-west-3' } } };
const springBootDeployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'orders', namespace: 'shop' },
  spec: { ...springBootWorkloadSpec, template: springBootPodTemplate() },
};

/** Waits for every resource registered so far (and those they create) to settle. */
async function settle(resources: pulumi.Resource[]): Promise<Registered[]> {
  await resolved(pulumi.all(resources.map((r) => r.urn)));
  await new Promise((r) => setTimeout(r, 200));
  return [...mocks.registered()];
}

function deploymentsIn(registered: Registered[], name = 'orders'): Registered[] {
  return registered.filter(
    (r) =>
      r.type === 'kubernetes:apps/v1:Deployment' && (r.inputs.metadata as { name?: string }).name === name,
  );
}

/** The wrapped Deployment: the fixture's fields intact, heap dumps added, valid, reading its Secret. */
function checkWrapped(deployment: Registered, registered: Registered[]): void {
  const inputs = deployment.inputs as { spec: Record<string, unknown> & { template: typeof template } };
  const { template: got, ...workload } = inputs.spec;
  assert.deepEqual(workload, springBootWorkloadSpec, 'the Deployment fields as given');
  assert.deepEqual(removeTemplateAdditions(got, template, ['orders'], flags), template, 'the pod as given');
  new Deployment({ ...inputs, apiVersion: 'apps/v1', kind: 'Deployment' } as never).validate();
  const uploader = got.spec?.initContainers?.[0];
  const keyRef = uploader?.env?.find((e) => e.name === 'AWS_ACCESS_KEY_ID')?.valueFrom?.secretKeyRef;
  const secret = registered.find(
    (r) =>
      r.type === 'kubernetes:core/v1:Secret' && (r.state.metadata as { name: string }).name === keyRef?.name,
  );
  assert.ok(secret, `the Secret ${keyRef?.name} the uploader reads exists`);
  assert.equal((secret.inputs.metadata as { namespace: string }).namespace, 'shop', 'in the pod namespace');
}

describe('the Spring Boot Deployment, wrapped three ways', () => {
  test('1. HeapDumpEnabledApp with the pod template and the Deployment fields', async () => {
    mocks.reset();
    const app = new HeapDumpEnabledApp('orders', {
      ...storageArgs,
      workloadMetadata: { name: 'orders', namespace: 'shop', labels: { team: 'checkout' } },
      podTemplate: springBootPodTemplate(),
      workloadSpec: springBootWorkloadSpec,
      heapDumps: { containers: ['orders'] },
    });
    await resolved(app.listCommand);
    const registered = await settle([app]);
    const [deployment] = deploymentsIn(registered);
    assert.ok(deployment);
    checkWrapped(deployment, registered);
    assert.deepEqual((deployment.inputs.metadata as { labels: unknown }).labels, {
      team: 'checkout',
      'app.kubernetes.io/part-of': 'kube-heapdump',
    });
    assert.equal(await resolved(app.serviceAccountName), 'orders');
  });

  test('2. HeapDumpStorage.transform() on YAML (ConfigGroup), a Helm v3 chart, and a stack transform', async () => {
    mocks.reset();
    const storage = new HeapDumpStorage('shop', storageArgs);
    const transforms = [storage.transform({ containers: ['orders'] })];
    const group = new k8s.yaml.ConfigGroup(
      'orders-yaml',
      { yaml: dump(springBootDeployment) },
      { transforms },
    );
    const chart = new k8s.helm.v3.Chart(
      'orders-chart',
      { chart: 'orders', namespace: 'shop' },
      { transforms },
    );
    await resolved(chart.ready);
    await resolved(group.resources);
    const registered = await settle([storage, group, chart]);
    const wrapped = deploymentsIn(registered);
    assert.equal(wrapped.length, 2, 'the YAML and the chart Deployment');
    for (const d of wrapped) checkWrapped(d, registered);
    // The chart's PostgreSQL has no container named orders: not selected, untouched.
    const postgres = registered.find((r) => r.type === 'kubernetes:apps/v1:StatefulSet');
    assert.ok(postgres);
    const pg = loadAll(chartYaml).find((d) => (d as { kind?: string }).kind === 'StatefulSet') as {
      spec: unknown;
    };
    assert.deepEqual((postgres.inputs as { spec: unknown }).spec, pg.spec);
    // One Secret for the one namespace, however many workloads run there.
    assert.equal(registered.filter((r) => r.type === 'kubernetes:core/v1:Secret').length, 1);
  });

  test('3. addHeapDumpsToTemplate with HeapDumpStorage.podOptions() on your own Deployment', async () => {
    mocks.reset();
    const storage = new HeapDumpStorage('shop', storageArgs);
    const options = storage.podOptions({
      namespace: 'shop',
      serviceAccountName: 'orders',
      appName: 'orders',
    });
    const deployment = new k8s.apps.v1.Deployment('orders', {
      metadata: { name: 'orders', namespace: 'shop' },
      spec: options.apply((o) => ({
        ...springBootWorkloadSpec,
        template: addHeapDumpsToTemplate(springBootPodTemplate() as never, {
          ...o,
          heapDumps: { containers: ['orders'] },
        }).template as never,
      })),
    });
    const registered = await settle([storage, deployment]);
    const [d] = deploymentsIn(registered);
    assert.ok(d);
    checkWrapped(d, registered);
  });
});
