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
  outputs?: { metadata?: { name?: string; namespace?: string } };
}
type Live = Record<string, unknown> & {
  kind: string;
  apiVersion: string;
  metadata: { name: string; namespace?: string; uid: string };
};

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
  const state = await project.stack.exportStack();
  const resources = (state.deployment as { resources: StateResource[] }).resources.filter((r) =>
    r.type.startsWith('kubernetes:'),
  );
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
  /** What the program renders under mocks with the stack's config. */
  rendered(): Rendered[];
  /** The config value the update check changes, and the object (`type::name`) it must update in place. */
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
    const kubernetes = c.rendered().filter((r) => r.type.startsWith('kubernetes:'));
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
    const before = (await liveObjects(c.cluster(), c.project())).get(c.change.updates);
    assert.ok(before, `the stack holds ${c.change.updates}`);
    await c.project().stack.setConfig(c.change.key, { value: c.change.value });
    const up = await c.project().up();
    const { update, ...others } = up.summary.resourceChanges ?? {};
    assert.deepEqual({ update, others: Object.keys(others) }, { update: 1, others: ['same'] });
    const after = (await liveObjects(c.cluster(), c.project())).get(c.change.updates)!;
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
