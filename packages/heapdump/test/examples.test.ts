// The projects in examples/ run under Pulumi's mocks: they construct without errors, their Deployments
// validate against the Kubernetes schema and their list command is printed. (tsc type-checks them too;
// scripts/pack-check.ts renders them again against the packed tarballs and compares.)
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { EXAMPLES } from '../../../test/support/examples.ts';
import { RUN_SOURCE } from '../../../test/support/node.ts';
import { run } from '../../../test/support/processes.ts';
import { renderProgram } from '../../../test/support/render-program.ts';

for (const [example, config] of Object.entries(EXAMPLES)) {
  test(`examples/${example} renders a valid Deployment and a list command`, async () => {
    const rendered = await renderProgram(
      join(import.meta.dirname, '../../../examples', example, 'index.ts'),
      config,
    );
    const deployments = rendered.filter((r) => r.type === 'kubernetes:apps/v1:Deployment');
    assert.equal(deployments.length, 1);
    new Deployment(deployments[0]?.inputs as ConstructorParameters<typeof Deployment>[0]).validate();
    assert.ok(rendered.some((r) => r.type === 'heapdump:index:HeapDumpEnabledApp'));
  });
}

test('an example that needs your image stops with the name of the setting', async () => {
  const r = await run(process.execPath, [
    ...RUN_SOURCE,
    join(import.meta.dirname, '../../../test/support/render-program.ts'),
    join(import.meta.dirname, '../../../examples/huawei-obs/index.ts'),
  ]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Missing required configuration variable '[^']+:image'/);
});
