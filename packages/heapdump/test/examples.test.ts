// The programs in examples/ run under Pulumi's mocks: they construct without errors and their Deployments
// validate against the Kubernetes schema. (tsc type-checks them too.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { installMocks, resolved } from '../../../test/support/pulumi-mocks.ts';

const mocks = await installMocks();

for (const example of ['quickstart', 'huawei-obs', 'eks-irsa']) {
  test(`examples/${example} renders a valid Deployment and a list command`, async () => {
    mocks.reset();
    const program = await import(`../../../examples/${example}/index.ts`);
    const listCommand = await resolved(program.listCommand as import('@pulumi/pulumi').Output<string>);
    assert.match(listCommand, /^heapdump list --bucket \S+ --prefix heapdumps\/ /);
    // The Deployment registers once its inputs resolve, independently of the exported outputs.
    const deployments = () => mocks.registered().filter((r) => r.type === 'kubernetes:apps/v1:Deployment');
    for (const deadline = Date.now() + 10_000; deployments().length === 0 && Date.now() < deadline; )
      await sleep(10);
    assert.equal(deployments().length, 1);
    new Deployment(deployments()[0]?.inputs as ConstructorParameters<typeof Deployment>[0]).validate();
  });
}
