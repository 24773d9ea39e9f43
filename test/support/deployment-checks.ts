// The checks every project deployed for real goes through (test/pulumi-up/): `pulumi up` succeeds and the API
// server holds every object the same program renders under Pulumi's mocks; a second preview shows no change;
// one config value changed updates one object in place; `pulumi destroy` leaves nothing of it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { type Cluster, kubectl, kubectlOk } from './cluster.ts';
import { asStored, differences } from './k8s-compare.ts';
import { run } from './processes.ts';
import type { Project } from './pulumi-engine.ts';

const ROOT = join(import.meta.dirname, '../..');

export interface Rendered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}
interface StateResource {
  urn: string;
  type: string;
  inputs?: Record<string, unknown>;
  outputs?: { metadata?: { name?: string; namespace?: string } };
}

async function stateResources(project: Project): Promise<StateResource[]> {
  const state = await project.stack.exportStack();
  return (state.deployment as { resources: StateResource[] }).resources;
}

/** The inputs of each resource as the engine sent them to the provider (after transforms), from the state. */
async function sentInputs(project: Project): Promise<Rendered[]> {
  return (await stateResources(project)).map((r) => ({
    type: r.type,
    name: r.urn.split('::').at(-1)!,
    inputs: r.inputs ?? {},
  }));
}
type Live = Record<string, unknown> & {
  kind: string;
  apiVersion: string;
  metadata: { name: string; namespace?: string; uid: string };
};

/** A Kubernetes object's type (a Helm chart, `kubernetes:helm.sh/v4:Chart`, is a component of them). */
export const isObjectType = (type: string) =>
  type.startsWith('kubernetes:') && !type.startsWith('kubernetes:helm.sh/');

/** What the program renders under Pulumi's mocks (a process of its own: mocks and the engine are exclusive). */
export async function renderUnderMocks(program: string, config: Record<string, string>): Promise<Rendered[]> {
  const rendered = await run(
    process.execPath,
    [
      '--conditions=@kube-heapdump/source',
      join(ROOT, 'test/support/render-program.ts'),
      program,
      JSON.stringify(config),
    ],
    process.env,
    300_000,
  );
  if (rendered.code !== 0) throw new Error(`rendering ${program} under mocks: ${rendered.stderr}`);
  return JSON.parse(rendered.stdout) as Rendered[];
}

/** The `kubectl get` argument for a provider type: kubernetes:apps/v1:Deployment -> Deployment.v1.apps. */
export function kubectlKind(type: string): string {
  const [, groupVersion, kind] = type.split(':') as [string, string, string];
  const [group, version] = groupVersion.split('/') as [string, string];
  return group === 'core' ? kind : `${kind}.${version}.${group}`;
}

/** The live object of each Kubernetes resource in the stack, keyed `type::name` (the Pulumi resource's). */
export async function liveObjects(cluster: Cluster, project: Project): Promise<Map<string, Live>> {
  const resources = (await stateResources(project)).filter((r) => isObjectType(r.type));
  const live = new Map<string, Live>();
  for (const r of resources) {
    const { name, namespace } = r.outputs?.metadata ?? {};
    assert.ok(name, `${r.urn} has no metadata.name in the state`);
    const args = ['get', kubectlKind(r.type), name, '-o', 'json', ...(namespace ? ['-n', namespace] : [])];
    live.set(`${r.type}::${r.urn.split('::').at(-1)}`, JSON.parse(await kubectlOk(cluster, args)) as Live);
  }
  return live;
}

export interface DeploymentChecks {
  cluster(): Cluster;
  project(): Project;
  /**
   * What the program renders under mocks with the stack's config; undefined where mocks cannot render it (a
   * Helm chart is rendered by the provider): then the inputs the engine sent, from the stack's state.
   */
  rendered(): Rendered[] | undefined;
  /**
   * The config value (a `--path` when it has dots) the update check changes, and the one object it must update
   * in place: the start of its `type::name`.
   */
  change: { key: string; value: string; updates: string };
  /** Registers more tests to run on the deployed stack, before the destroy check. */
  more?: () => void;
}

/** The four checks, as tests in the current describe (in order: they share the stack). */
export function deploymentChecks(c: DeploymentChecks): void {
  it('pulumi up creates every object, and the API server holds what the program renders under mocks', async () => {
    const up = await c.project().up();
    assert.equal(up.summary.result, 'succeeded');
    const live = await liveObjects(c.cluster(), c.project());
    const kubernetes = (c.rendered() ?? (await sentInputs(c.project()))).filter((r) => isObjectType(r.type));
    assert.deepEqual(
      [...live.keys()].sort(),
      kubernetes.map((r) => `${r.type}::${r.name}`).sort(),
      'the stack holds exactly the Kubernetes objects the program renders',
    );
    for (const r of kubernetes) {
      const object = live.get(`${r.type}::${r.name}`);
      assert.deepEqual(differences(asStored(r.inputs), object), [], `${r.type} ${r.name}`);
    }
  });

  it('a second preview shows no change', async () => {
    await c.project().previewNoChanges();
  });

  it(`changing ${c.change.key} updates ${c.change.updates} in place`, async () => {
    const only = (live: Map<string, Live>) => {
      const found = [...live].filter(([key]) => key.startsWith(c.change.updates));
      assert.equal(found.length, 1, `one ${c.change.updates} in ${[...live.keys()].join(', ')}`);
      return found[0]![1];
    };
    const before = only(await liveObjects(c.cluster(), c.project()));
    await c.project().stack.setConfig(c.change.key, { value: c.change.value }, c.change.key.includes('.'));
    const up = await c.project().up();
    const { update, ...others } = up.summary.resourceChanges ?? {};
    assert.deepEqual({ update, others: Object.keys(others) }, { update: 1, others: ['same'] });
    const after = only(await liveObjects(c.cluster(), c.project()));
    assert.equal(after.metadata.uid, before.metadata.uid, 'the same object, not a replacement');
    assert.notDeepEqual(after, before);
    await c.project().previewNoChanges();
  });

  c.more?.();

  it('pulumi destroy leaves nothing of it in the API server', async () => {
    const live = await liveObjects(c.cluster(), c.project());
    const destroyed = await c.project().destroy();
    assert.equal(destroyed.summary.result, 'succeeded');
    for (const { kind, apiVersion, metadata } of live.values()) {
      const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['core', apiVersion];
      const args = [
        'get',
        kubectlKind(`kubernetes:${group}/${version}:${kind}`),
        metadata.name,
        ...(metadata.namespace ? ['-n', metadata.namespace] : []),
      ];
      // A namespace goes once the controller-manager has emptied it.
      let left = await kubectl(c.cluster(), args);
      for (let i = 0; i < 120 && left.code === 0; i++) {
        await new Promise((r) => setTimeout(r, 500));
        left = await kubectl(c.cluster(), args);
      }
      assert.match(left.stderr, /NotFound/, `${kind} ${metadata.name} is still there`);
    }
  });
}
