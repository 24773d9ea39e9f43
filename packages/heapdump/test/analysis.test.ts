// The `analysis` argument: its checks (one FieldError naming the field, before anything is registered), the
// objects it renders (valid against the Kubernetes schema, least privilege), the IAM policy, and the resources
// HeapDumpStorage / HeapDumpEnabledApp register with it on and off.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { construct, installMocks } from '../../../test/support/pulumi-mocks.ts';
import { parseControllerEnv } from '../../uploader/src/analysis-controller/settings.ts';

const mocks = await installMocks();
const { HeapDumpEnabledApp, HeapDumpStorage } = await import('../src/index.ts');
const { analysisPolicy } = await import('../src/analysis-access.ts');
const { analysisSettings } = await import('../src/analysis-args.ts');
const { analysisObjects } = await import('../src/analysis-render.ts');
const { uploaderImage } = await import('../src/image.ts');

const TARGET = {
  bucket: 'dumps',
  prefix: 'heapdumps/',
  endpoint: 'http://rgw.storage:7480',
  region: 'us-east-1',
  forcePathStyle: true,
  checksums: true,
};

describe('analysis arguments', () => {
  test('off by default: nothing to render', () => {
    assert.equal(analysisSettings(undefined, 'shop'), undefined);
    assert.equal(analysisSettings({ enabled: false }, 'shop'), undefined);
  });

  test('defaults: the app namespace, 512Mi per GiB, 16Gi at most, a day of TTL, two retries', () => {
    assert.deepEqual(analysisSettings({ enabled: true }, 'shop'), {
      namespace: 'shop',
      namespaces: ['shop'],
      memoryPerGiB: '512Mi',
      maxMemory: '16Gi',
      ttlSecondsAfterFinished: 86400,
      backoffLimit: 2,
      nodeSelector: {},
      tolerations: [],
      credentialsSecret: undefined,
    });
  });

  test('a bad value is one error naming the field', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ memoryPerGiB: 'lots' }, /analysis\.memoryPerGiB: "lots" is not a size/],
      [{ maxMemory: '100Mi' }, /analysis\.maxMemory: 100Mi is less than 256Mi/],
      [{ ttlSecondsAfterFinished: -1 }, /analysis\.ttlSecondsAfterFinished: -1 must be an integer/],
      [{ namespace: 'Bad_NS' }, /analysis\.namespace: "Bad_NS" is not a namespace name/],
      [{ tolerations: [{ operator: 'Exists', value: 'x' }] }, /analysis\.tolerations\[0\]\.value/],
    ];
    for (const [args, message] of cases)
      assert.throws(() => analysisSettings({ enabled: true, ...args }, 'shop'), message);
    assert.throws(() => analysisSettings({ enabled: true }, undefined), /analysis\.namespaces: is required/);
  });
});

describe('rendered objects', () => {
  const settings = analysisSettings(
    { enabled: true, namespace: 'heapdump', namespaces: ['shop', 'billing'], nodeSelector: { pool: 'big' } },
    undefined,
  );
  assert.ok(settings);
  const objects = analysisObjects({
    name: 'heapdump-analysis',
    settings,
    target: TARGET,
    image: 'registry.example.com/kube-heapdump-uploader:1.0.0',
    credentials: { kind: 'secret', secretName: 'analysis-store' },
  });
  const of = (kind: string) => objects.filter((o) => o.kind === kind);

  test('validate against the Kubernetes schema', () => {
    const models: Record<string, (o: never) => { validate(): void }> = {
      ServiceAccount: (o) => new ServiceAccount(o),
      Role: (o) => new Role(o),
      RoleBinding: (o) => new RoleBinding(o),
      Deployment: (o) => new Deployment(o),
    };
    for (const o of objects) models[o.kind]?.(o as never).validate();
    assert.deepEqual(objects.map((o) => o.kind).sort(), [
      'Deployment',
      'Role',
      'Role',
      'Role',
      'RoleBinding',
      'RoleBinding',
      'RoleBinding',
      'ServiceAccount',
    ]);
  });

  test('least privilege: Events list/watch/create in the served namespaces, Jobs create/get in its own', () => {
    const rules = of('Role').map((r) => [r.metadata.namespace, JSON.stringify(r.rules)]);
    assert.deepEqual(rules.sort(), [
      [
        'billing',
        JSON.stringify([{ apiGroups: [''], resources: ['events'], verbs: ['list', 'watch', 'create'] }]),
      ],
      ['heapdump', JSON.stringify([{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get'] }])],
      [
        'shop',
        JSON.stringify([{ apiGroups: [''], resources: ['events'], verbs: ['list', 'watch', 'create'] }]),
      ],
    ]);
    for (const b of of('RoleBinding'))
      assert.deepEqual(b.subjects, [
        { kind: 'ServiceAccount', name: 'heapdump-analysis', namespace: 'heapdump' },
      ]);
  });

  test("the controller's environment is what its command parses", () => {
    const d = of('Deployment')[0] as unknown as {
      spec: {
        template: { spec: { containers: { args: string[]; env: { name: string; value?: string }[] }[] } };
      };
    };
    const c = d.spec.template.spec.containers[0];
    assert.deepEqual(c?.args, ['analysis-controller']);
    const env = Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value ?? 'heapdump']));
    const cfg = parseControllerEnv(env);
    assert.deepEqual([...cfg.namespaces], ['shop', 'billing']);
    assert.equal(cfg.jobs.namespace, 'heapdump');
    assert.equal(cfg.jobs.credentialsSecret, 'analysis-store');
    assert.deepEqual(cfg.jobs.nodeSelector, { pool: 'big' });
    assert.equal(cfg.sizing.maxMemory, 16 * 2 ** 30);
    assert.equal(cfg.jobs.store.endpoint, 'http://rgw.storage:7480');
  });
});

test('the analysis policy reads under the prefix and writes only reports', () => {
  const doc = analysisPolicy({ bucketArn: 'arn:aws:s3:::dumps', prefix: 'heapdumps/' });
  assert.deepEqual(
    doc.Statement.map((s) => [s.Action, s.Resource]),
    [
      ['s3:GetObject', 'arn:aws:s3:::dumps/heapdumps/*'],
      ['s3:PutObject', 'arn:aws:s3:::dumps/heapdumps/*.report.*'],
    ],
  );
});

describe('components', () => {
  const existing = {
    storage: { existing: { bucket: 'dumps', endpoint: 'http://rgw.storage:7480', forcePathStyle: true } },
    identity: { kind: 'existingSecret' as const, existingSecret: { name: 'uploader-key' } },
  };

  test('HeapDumpStorage with analysis registers the controller, its Roles and nothing when off', async () => {
    mocks.reset();
    await construct((opts) => new HeapDumpStorage('dumps', existing, opts));
    assert.equal(mocks.registered().filter((r) => r.type.startsWith('kubernetes:')).length, 0);
    mocks.reset();
    await construct(
      (opts) =>
        new HeapDumpStorage(
          'dumps',
          {
            ...existing,
            analysis: { enabled: true, namespaces: ['shop'], credentialsSecret: 'analysis-key' },
          },
          opts,
        ),
    );
    const types = mocks
      .registered()
      .map((r) => r.type)
      .filter((t) => t.startsWith('kubernetes:'))
      .sort();
    assert.deepEqual(types, [
      'kubernetes:apps/v1:Deployment',
      'kubernetes:core/v1:ServiceAccount',
      'kubernetes:rbac.authorization.k8s.io/v1:Role',
      'kubernetes:rbac.authorization.k8s.io/v1:Role',
      'kubernetes:rbac.authorization.k8s.io/v1:RoleBinding',
      'kubernetes:rbac.authorization.k8s.io/v1:RoleBinding',
    ]);
    const deployment = mocks.registered().find((r) => r.type === 'kubernetes:apps/v1:Deployment');
    new Deployment({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      ...(deployment?.inputs as object),
    } as never).validate();
  });

  test("the controller runs the component's uploader image: given, from its registry, or the default", async () => {
    const controllerImage = () => {
      const d = mocks.registered().find((r) => r.type === 'kubernetes:apps/v1:Deployment');
      const spec = d?.inputs.spec as { template: { spec: { containers: { image: string }[] } } };
      return spec.template.spec.containers[0]?.image;
    };
    const withAnalysis = {
      ...existing,
      analysis: { enabled: true, namespaces: ['shop'], credentialsSecret: 'k' },
    };
    for (const [uploader, image] of [
      [{ image: 'mirror.example.com/uploader:pinned' }, 'mirror.example.com/uploader:pinned'],
      [{ registry: 'mirror.example.com/team' }, uploaderImage('mirror.example.com/team')],
      [undefined, uploaderImage()],
    ] as const) {
      mocks.reset();
      await construct(
        (opts) => new HeapDumpStorage('dumps', { ...withAnalysis, ...(uploader ? { uploader } : {}) }, opts),
      );
      assert.equal(controllerImage(), image, `HeapDumpStorage, uploader ${JSON.stringify(uploader)}`);
    }
    mocks.reset();
    await construct(
      (opts) =>
        new HeapDumpEnabledApp(
          'orders',
          {
            image: 'registry.example.com/orders:1',
            namespace: 'shop',
            resources: { limits: { memory: '1Gi' } },
            uploader: { registry: 'mirror.example.com/team' },
            analysis: { enabled: true },
          },
          opts,
        ),
    );
    const controller = mocks
      .registered()
      .filter((r) => r.type === 'kubernetes:apps/v1:Deployment')
      .map(
        (d) => (d.inputs.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec,
      )
      .find((spec) => spec.containers[0]?.image !== 'registry.example.com/orders:1');
    assert.equal(
      controller?.containers[0]?.image,
      uploaderImage('mirror.example.com/team'),
      'HeapDumpEnabledApp',
    );
  });

  test('with the uploader key only (existingSecret) it says which field is missing, before registering anything', () => {
    mocks.reset();
    assert.throws(
      () => new HeapDumpStorage('dumps', { ...existing, analysis: { enabled: true, namespaces: ['shop'] } }),
      /analysis\.credentialsSecret: is required with identity\.kind existingSecret/,
    );
    assert.equal(mocks.registered().length, 0);
  });

  test('HeapDumpEnabledApp with analysis on a provisioned bucket gets its own IAM user, policy and Secret', async () => {
    mocks.reset();
    await construct(
      (opts) =>
        new HeapDumpEnabledApp(
          'orders',
          {
            image: 'registry.example.com/orders:1',
            namespace: 'shop',
            resources: { limits: { memory: '1Gi' } },
            analysis: { enabled: true },
          },
          opts,
        ),
    );
    const r = mocks.registered();
    const policies = r.filter((x) => x.type === 'aws:iam/userPolicy:UserPolicy');
    assert.equal(policies.length, 2, 'the uploader and the analysis, each its own');
    const analysis = policies.find((p) => String(p.inputs.policy).includes('report'));
    assert.ok(analysis, 'one policy is the analysis policy');
    assert.match(String(analysis.inputs.policy), /"s3:GetObject"/);
    const sa = r.find((x) => x.type === 'kubernetes:core/v1:ServiceAccount');
    assert.ok(sa);
    assert.equal((sa.inputs.metadata as { namespace: string }).namespace, 'shop');
  });
});
