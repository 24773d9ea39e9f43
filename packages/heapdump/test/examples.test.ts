// The projects in examples/ run under Pulumi's mocks: they construct without errors, every workload they
// render validates against the Kubernetes schema and has heap dumps. (tsc type-checks them too;
// scripts/pack-check.ts renders them again against the packed tarballs and compares.) A Helm v4 chart's
// objects are its provider's, not rendered under mocks: transform.test.ts covers them.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { EXAMPLES } from '../../../test/support/examples.ts';
import { RUN_SOURCE } from '../../../test/support/node.ts';
import { run } from '../../../test/support/processes.ts';
import { renderProgram } from '../../../test/support/render-program.ts';

const WORKLOADS: Record<string, [string, string, (o: never) => { validate(): void }]> = {
  'kubernetes:apps/v1:Deployment': ['apps/v1', 'Deployment', (o) => new Deployment(o)],
  'kubernetes:apps/v1:StatefulSet': ['apps/v1', 'StatefulSet', (o) => new StatefulSet(o)],
  'kubernetes:apps/v1:DaemonSet': ['apps/v1', 'DaemonSet', (o) => new DaemonSet(o)],
  'kubernetes:batch/v1:Job': ['batch/v1', 'Job', (o) => new Job(o)],
  'kubernetes:batch/v1:CronJob': ['batch/v1', 'CronJob', (o) => new CronJob(o)],
};

for (const [example, config] of Object.entries(EXAMPLES)) {
  test(`examples/${example} renders valid workloads with heap dumps`, async () => {
    const rendered = await renderProgram(
      join(import.meta.dirname, '../../../examples', example, 'index.ts'),
      config,
    );
    assert.ok(
      rendered.some((r) => r.type.startsWith('heapdump:index:')),
      'a kube-heapdump component',
    );
    const workloads = rendered.filter((r) => WORKLOADS[r.type]);
    const chart = rendered.some((r) => r.type === 'kubernetes:helm.sh/v4:Chart');
    assert.ok(workloads.length > 0 || chart, 'a workload, or a Helm v4 chart whose provider renders them');
    for (const w of workloads) {
      const [apiVersion, kind, make] = WORKLOADS[w.type] as (typeof WORKLOADS)[string];
      make({ apiVersion, kind, ...w.inputs } as never).validate();
      assert.match(JSON.stringify(w.inputs), /"name":"heapdump-uploader"/, `${w.name} has the uploader`);
    }
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
