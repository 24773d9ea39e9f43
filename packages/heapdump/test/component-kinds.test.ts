// HeapDumpEnabledApp for every workload kind, from the shorthand and from a pod template, under Pulumi's
// mocks: the resource of that kind exists, validates against the Kubernetes OpenAPI schema, and carries heap
// dumps; the shorthand and a pod template do not mix.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { construct, installMocks, resolved } from '../../../test/support/pulumi-mocks.ts';

const mocks = await installMocks();
const { FieldError, HeapDumpEnabledApp } = await import('../src/index.ts');
type Args = ConstructorParameters<typeof HeapDumpEnabledApp>[1];

const existing = { storage: { existing: { bucket: 'b', region: 'eu-west-3' } } };
const java = {
  name: 'batch',
  image: 'registry.example.com/batch:1',
  resources: { limits: { memory: '1Gi' } },
};

const kinds: [Args['kind'], string, string, Partial<Args>, (o: object) => void][] = [
  [
    'StatefulSet',
    'kubernetes:apps/v1:StatefulSet',
    'apps/v1',
    { workloadSpec: { serviceName: 'x' } },
    (o) => new StatefulSet(o as never).validate(),
  ],
  ['DaemonSet', 'kubernetes:apps/v1:DaemonSet', 'apps/v1', {}, (o) => new DaemonSet(o as never).validate()],
  [
    'Job',
    'kubernetes:batch/v1:Job',
    'batch/v1',
    { workloadSpec: { backoffLimit: 0 } },
    (o) => new Job(o as never).validate(),
  ],
  [
    'CronJob',
    'kubernetes:batch/v1:CronJob',
    'batch/v1',
    { workloadSpec: { schedule: '*/5 * * * *' } },
    (o) => new CronJob(o as never).validate(),
  ],
];

describe('every kind, from a pod template and from the shorthand', () => {
  for (const [kind, type, apiVersion, extra, validate] of kinds) {
    for (const from of ['podTemplate', 'shorthand'] as const) {
      test(`${kind} from the ${from}`, async () => {
        mocks.reset();
        const batch = kind === 'Job' || kind === 'CronJob';
        const pod =
          from === 'podTemplate'
            ? {
                podTemplate: {
                  spec: { containers: [java], ...(batch ? { restartPolicy: 'OnFailure' } : {}) },
                },
              }
            : { image: java.image, resources: java.resources };
        const { component } = await construct(
          (opts) => new HeapDumpEnabledApp('batch', { ...existing, kind, ...extra, ...pod }, opts),
        );
        await resolved(component.listCommand);
        const [workload, ...more] = mocks.registered().filter((r) => r.type === type);
        assert.ok(workload && more.length === 0, `one ${type}`);
        validate({ apiVersion, kind, ...workload.inputs });
        const text = JSON.stringify(workload.inputs);
        assert.match(text, /"name":"heapdump-uploader"/);
        assert.match(text, /"restartPolicy":"Always"/, 'native sidecar');
        assert.equal(await resolved(component.workloadName), 'batch');
      });
    }
  }

  test('the shorthand beside a pod template, replicas on a Job, a CronJob without schedule: refused', () => {
    const fieldOf = (args: Args) => {
      try {
        new HeapDumpEnabledApp('bad', { ...existing, ...args });
      } catch (e) {
        assert.ok(e instanceof FieldError, String(e));
        return e.field;
      }
      assert.fail('no error');
    };
    assert.equal(fieldOf({ image: 'x', podTemplate: { spec: { containers: [java] } } }), 'image');
    assert.equal(fieldOf({ kind: 'Job', replicas: 2, image: 'x', resources: java.resources }), 'replicas');
    assert.equal(
      fieldOf({ kind: 'CronJob', image: 'x', resources: java.resources }),
      'workloadSpec.schedule',
    );
    assert.equal(fieldOf({}), 'image');
    assert.equal(fieldOf({ kind: 'Pod' as 'Job', image: 'x' }), 'kind');
  });
});
