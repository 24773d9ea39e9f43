// HeapDumpEnabledApp under Pulumi's mocks: which resources exist for each storage and identity, how they
// are configured, what the Deployment looks like (validated against the Kubernetes OpenAPI schema).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import {
  type Child,
  construct,
  installMocks,
  MOCK_REGION,
  type Registered,
  resolved,
  SECRET_SIGNATURE,
  SECRET_SIGNATURE_VALUE,
} from '../../../test/support/pulumi-mocks.ts';

const mocks = await installMocks();
// The component is imported after setMocks, as Pulumi's testing guide asks.
const { FieldError, HeapDumpEnabledApp } = await import('../src/index.ts');
const { uploaderPolicy, denyInsecureTransportPolicy } = await import('../src/policies.ts');
const { listCommand } = await import('../src/component.ts');
type Args = ConstructorParameters<typeof HeapDumpEnabledApp>[1];

const javaApp = {
  image: 'registry.example.com/orders:1.4',
  namespace: 'shop',
  resources: { limits: { memory: '2Gi' } },
  securityContext: { runAsUser: 1001 },
};

interface Rendered {
  app: InstanceType<typeof HeapDumpEnabledApp>;
  children: Child[];
  registered: Registered[];
  of: (type: string) => Registered[];
  one: (type: string) => Registered;
  deployment: Record<string, unknown> & { spec: DeploymentSpecLike };
}
interface ContainerLike {
  name: string;
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
}
interface DeploymentSpecLike {
  template: {
    metadata: { annotations?: Record<string, string> };
    spec: { containers: ContainerLike[]; initContainers?: ContainerLike[]; serviceAccountName?: string };
  };
}

async function render(name: string, args: Args): Promise<Rendered> {
  mocks.reset();
  const { component, children } = await construct((opts) => new HeapDumpEnabledApp(name, args, opts));
  await resolved(component.listCommand);
  const registered = [...mocks.registered()];
  const of = (type: string) => registered.filter((r) => r.type === type);
  const one = (type: string) => {
    const found = of(type);
    assert.equal(found.length, 1, `one ${type}, got ${found.length}`);
    return found[0] as Registered;
  };
  const deployment = one('kubernetes:apps/v1:Deployment').inputs as Rendered['deployment'];
  return { app: component, children, registered, of, one, deployment };
}

const envOf = (d: Rendered['deployment'], container: string) => {
  const spec = d.spec.template.spec;
  const c = [...(spec.initContainers ?? []), ...spec.containers].find((c) => c.name === container);
  assert.ok(c, `container ${container}`);
  return new Map((c.env ?? []).map((e) => [e.name, e]));
};

function validateDeployment(d: Record<string, unknown>): void {
  // Throws with the schema path of the first violation.
  new Deployment(d as ConstructorParameters<typeof Deployment>[0]).validate();
}

describe('provisioned bucket + access key (the default)', () => {
  let r: Rendered;
  before(async () => {
    r = await render('orders', javaApp);
  });

  test('creates the bucket, its settings, the IAM user, key, Secret and Deployment, all children of the component', () => {
    assert.deepEqual(r.children.map((c) => `${c.type} ${c.name}`).sort(), [
      'aws:iam/accessKey:AccessKey orders-uploader',
      'aws:iam/user:User orders-uploader',
      'aws:iam/userPolicy:UserPolicy orders-uploader',
      'aws:s3/bucket:Bucket orders-dumps',
      'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration orders-dumps-lifecycle',
      'aws:s3/bucketOwnershipControls:BucketOwnershipControls orders-dumps-ownership',
      'aws:s3/bucketPolicy:BucketPolicy orders-dumps-tls-only',
      'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock orders-dumps-public-access',
      'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration orders-dumps-encryption',
      'kubernetes:apps/v1:Deployment orders',
      'kubernetes:core/v1:Secret orders-uploader',
      'kubernetes:rbac.authorization.k8s.io/v1:Role orders-events',
      'kubernetes:rbac.authorization.k8s.io/v1:RoleBinding orders-events',
    ]);
    for (const c of r.children) assert.equal(c.parent, r.app, `${c.name} is parented to the component`);
    assert.ok(!r.registered.some((x) => x.type.includes('BucketV2')), 'no BucketV2');
  });

  test('events: a Role that may only create Events in the namespace, bound to the pod ServiceAccount', () => {
    const role = r.one('kubernetes:rbac.authorization.k8s.io/v1:Role').inputs;
    const binding = r.one('kubernetes:rbac.authorization.k8s.io/v1:RoleBinding').inputs;
    assert.deepEqual(role.rules, [{ apiGroups: [''], resources: ['events'], verbs: ['create'] }]);
    assert.equal((role.metadata as { namespace: string }).namespace, 'shop');
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'default', namespace: 'shop' }]);
    // The Role is auto-named; the binding refers to the name it got.
    assert.equal((binding.roleRef as { kind: string }).kind, 'Role');
    assert.match((binding.roleRef as { name: string }).name, /^orders-events-/);
    new Role(role as ConstructorParameters<typeof Role>[0]).validate();
    new RoleBinding(binding as ConstructorParameters<typeof RoleBinding>[0]).validate();
  });

  test('bucket: AES256, public access blocked four ways, owner enforced, expiry, TLS only', async () => {
    const bucketName = await resolved(r.app.bucketName);
    assert.match(bucketName, /^orders-dumps-/);
    const sse = r.one(
      'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
    ).inputs;
    assert.deepEqual(sse.rules, [
      { applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' }, bucketKeyEnabled: false },
    ]);
    assert.equal(sse.bucket, bucketName);
    const pab = r.one('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock').inputs;
    for (const k of ['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets']) {
      assert.equal(pab[k], true, k);
    }
    assert.deepEqual(r.one('aws:s3/bucketOwnershipControls:BucketOwnershipControls').inputs.rule, {
      objectOwnership: 'BucketOwnerEnforced',
    });
    assert.deepEqual(r.one('aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration').inputs.rules, [
      { id: 'expire-heap-dumps', status: 'Enabled', filter: {}, expiration: { days: 30 } },
      {
        id: 'abort-incomplete-uploads',
        status: 'Enabled',
        filter: {},
        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
      },
    ]);
    const policy = JSON.parse(r.one('aws:s3/bucketPolicy:BucketPolicy').inputs.policy as string);
    assert.deepEqual(policy, denyInsecureTransportPolicy(`arn:aws:s3:::${bucketName}`));
    assert.equal(r.one('aws:s3/bucket:Bucket').inputs.forceDestroy, false);
  });

  test('IAM: the user may only PutObject and AbortMultipartUpload under the prefix', async () => {
    const bucketName = await resolved(r.app.bucketName);
    const policy = JSON.parse(r.one('aws:iam/userPolicy:UserPolicy').inputs.policy as string);
    assert.deepEqual(policy, {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'PutHeapDumps',
          Effect: 'Allow',
          Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
          Resource: `arn:aws:s3:::${bucketName}/heapdumps/*`,
        },
      ],
    });
  });

  test('the Secret holds the access key, both values wrapped as secrets', async () => {
    const secret = r.children.find((c) => c.type === 'kubernetes:core/v1:Secret');
    const data = secret?.props.stringData as Record<string, pulumi.Output<string>>;
    for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
      assert.equal(await pulumi.isSecret(data[key] as pulumi.Output<string>), true, `${key} is a secret`);
    }
    // The engine receives the data as one secret value (Pulumi's secret signature) holding the key.
    const stringData = r.one('kubernetes:core/v1:Secret').inputs.stringData as Record<string, unknown>;
    assert.equal(stringData[SECRET_SIGNATURE], SECRET_SIGNATURE_VALUE);
    const key = r.one('aws:iam/accessKey:AccessKey');
    assert.deepEqual(stringData.value, {
      AWS_ACCESS_KEY_ID: key.id,
      AWS_SECRET_ACCESS_KEY: key.state.secret,
    });
    const registered = r.one('kubernetes:core/v1:Secret');
    assert.equal((registered.inputs.metadata as { namespace: string }).namespace, 'shop');
  });

  test('the Deployment validates against the Kubernetes schema and reads keys from that Secret', async () => {
    validateDeployment(r.deployment);
    const secretName = await resolved(r.app.secretName);
    assert.ok(secretName);
    assert.deepEqual(envOf(r.deployment, 'heapdump-uploader').get('AWS_ACCESS_KEY_ID')?.valueFrom, {
      secretKeyRef: { name: secretName, key: 'AWS_ACCESS_KEY_ID' },
    });
    assert.equal(envOf(r.deployment, 'heapdump-uploader').get('AWS_REGION')?.value, MOCK_REGION);
    assert.equal(envOf(r.deployment, 'app').get('AWS_ACCESS_KEY_ID'), undefined);
  });

  test('outputs: names, prefix and the list command', async () => {
    const bucketName = await resolved(r.app.bucketName);
    assert.equal(await resolved(r.app.deploymentName), 'orders');
    assert.equal(await resolved(r.app.namespace), 'shop');
    assert.equal(await resolved(r.app.keyPrefix), 'heapdumps/');
    assert.equal(await resolved(r.app.serviceAccountName), 'default');
    // Two dumps of 1.2 x the heap the default MaxRAMPercentage (65% of the 2Gi limit) gives.
    assert.equal(await resolved(r.app.dumpVolumeSizeLimit), '3195Mi');
    assert.equal(
      await resolved(r.app.listCommand),
      `heapdump list --bucket ${bucketName} --prefix heapdumps/ --region ${MOCK_REGION} --namespace shop --app orders`,
    );
  });
});

describe('other storage and identities', () => {
  test('KMS: the bucket uses the key, the policy may use it only through S3', async () => {
    const kmsKeyArn = 'arn:aws:kms:eu-west-3:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const r = await render('kms', {
      ...javaApp,
      storage: { provision: { kmsKeyArn, retentionDays: 7, forceDestroy: true } },
    });
    const sse = r.one(
      'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
    ).inputs;
    assert.deepEqual(sse.rules, [
      {
        applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: kmsKeyArn },
        bucketKeyEnabled: true,
      },
    ]);
    const policy = JSON.parse(r.one('aws:iam/userPolicy:UserPolicy').inputs.policy as string);
    const bucketName = await resolved(r.app.bucketName);
    assert.deepEqual(
      policy,
      uploaderPolicy({
        bucketArn: `arn:aws:s3:::${bucketName}`,
        prefix: 'heapdumps/',
        kmsKeyArn,
        region: MOCK_REGION,
      }),
    );
    assert.deepEqual(policy.Statement[1]?.Action, ['kms:GenerateDataKey', 'kms:Decrypt']);
    assert.equal(
      policy.Statement[1]?.Condition?.StringEquals?.['kms:ViaService'],
      `s3.${MOCK_REGION}.amazonaws.com`,
    );
    const lifecycle = r.one('aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration').inputs
      .rules as { expiration?: { days: number } }[];
    assert.equal(lifecycle[0]?.expiration?.days, 7);
    assert.equal(r.one('aws:s3/bucket:Bucket').inputs.forceDestroy, true);
  });

  test('IRSA: a role trusted for exactly this ServiceAccount, the SA annotated, the JVM skipped, no keys', async () => {
    const oidcProviderArn =
      'arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-3.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
    const r = await render('irsa', { ...javaApp, identity: { kind: 'irsa', irsa: { oidcProviderArn } } });
    assert.equal(
      r.of('aws:iam/user:User').length +
        r.of('aws:iam/accessKey:AccessKey').length +
        r.of('kubernetes:core/v1:Secret').length,
      0,
    );
    const role = r.one('aws:iam/role:Role');
    const trust = JSON.parse(role.inputs.assumeRolePolicy as string);
    const issuer = 'oidc.eks.eu-west-3.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
    assert.deepEqual(trust.Statement[0].Principal, { Federated: oidcProviderArn });
    assert.equal(trust.Statement[0].Action, 'sts:AssumeRoleWithWebIdentity');
    assert.deepEqual(trust.Statement[0].Condition.StringEquals, {
      [`${issuer}:sub`]: 'system:serviceaccount:shop:irsa',
      [`${issuer}:aud`]: 'sts.amazonaws.com',
    });
    const sa = r.one('kubernetes:core/v1:ServiceAccount').inputs.metadata as {
      name: string;
      annotations: Record<string, string>;
    };
    assert.equal(sa.name, 'irsa');
    assert.equal(sa.annotations['eks.amazonaws.com/role-arn'], role.state.arn);
    assert.equal(r.deployment.spec.template.spec.serviceAccountName, 'irsa');
    assert.equal(
      r.deployment.spec.template.metadata.annotations?.['eks.amazonaws.com/skip-containers'],
      'app',
    );
    assert.equal(envOf(r.deployment, 'heapdump-uploader').get('AWS_ACCESS_KEY_ID'), undefined);
    assert.equal(await resolved(r.app.secretName), undefined);
    assert.equal(await resolved(r.app.serviceAccountName), 'irsa');
    validateDeployment(r.deployment);
  });

  test('Pod Identity: a role for pods.eks.amazonaws.com and an association for the ServiceAccount', async () => {
    const r = await render('podid', {
      ...javaApp,
      serviceAccountName: 'orders-sa',
      identity: { kind: 'podIdentity', podIdentity: { clusterName: 'prod' } },
    });
    const trust = JSON.parse(r.one('aws:iam/role:Role').inputs.assumeRolePolicy as string);
    assert.deepEqual(trust.Statement[0].Principal, { Service: 'pods.eks.amazonaws.com' });
    const association = r.one('aws:eks/podIdentityAssociation:PodIdentityAssociation').inputs;
    assert.deepEqual(
      { ...association, roleArn: undefined },
      { clusterName: 'prod', namespace: 'shop', serviceAccount: 'orders-sa', roleArn: undefined },
    );
    assert.equal(association.roleArn, r.one('aws:iam/role:Role').state.arn);
    assert.equal(r.deployment.spec.template.spec.serviceAccountName, 'orders-sa');
    validateDeployment(r.deployment);
  });

  test('Huawei OBS with keys you already have: no AWS resources, virtual-hosted endpoint reaches the uploader', async () => {
    const r = await render('obs', {
      ...javaApp,
      storage: {
        existing: {
          bucket: 'team-dumps',
          endpoint: 'https://obs.cn-north-4.myhuaweicloud.com',
          region: 'cn-north-4',
        },
        prefix: 'orders',
      },
      identity: { existingSecret: { name: 'obs-keys', accessKeyIdKey: 'ak', secretAccessKeyKey: 'sk' } },
    });
    assert.deepEqual(
      r.registered.filter((x) => x.type.startsWith('aws:')),
      [],
    );
    assert.deepEqual(
      r.registered.map((x) => x.type),
      [
        'heapdump:index:HeapDumpEnabledApp',
        'kubernetes:rbac.authorization.k8s.io/v1:Role',
        'kubernetes:rbac.authorization.k8s.io/v1:RoleBinding',
        'kubernetes:apps/v1:Deployment',
      ],
    );
    const env = envOf(r.deployment, 'heapdump-uploader');
    assert.equal(env.get('HEAPDUMP_BUCKET')?.value, 'team-dumps');
    assert.equal(env.get('HEAPDUMP_PREFIX')?.value, 'orders/');
    assert.equal(env.get('HEAPDUMP_S3_ENDPOINT')?.value, 'https://obs.cn-north-4.myhuaweicloud.com');
    assert.equal(env.get('HEAPDUMP_S3_FORCE_PATH_STYLE')?.value, 'false');
    assert.equal(env.get('AWS_REGION')?.value, 'cn-north-4');
    assert.deepEqual(env.get('AWS_SECRET_ACCESS_KEY')?.valueFrom, {
      secretKeyRef: { name: 'obs-keys', key: 'sk' },
    });
    assert.equal(await resolved(r.app.secretName), 'obs-keys');
    assert.equal(
      await resolved(r.app.listCommand),
      'heapdump list --bucket team-dumps --prefix orders/ --endpoint https://obs.cn-north-4.myhuaweicloud.com --region cn-north-4 --namespace shop --app obs',
    );
    validateDeployment(r.deployment);
  });

  test('MinIO: path style, and without CRC32 headers the parts carry Content-MD5', async () => {
    const r = await render('minio', {
      ...javaApp,
      storage: {
        existing: {
          bucket: 'dumps',
          endpoint: 'http://minio.minio:9000',
          forcePathStyle: true,
          checksums: false,
        },
      },
      identity: { kind: 'existingSecret', existingSecret: { name: 'minio-keys' } },
    });
    const env = envOf(r.deployment, 'heapdump-uploader');
    assert.equal(env.get('HEAPDUMP_S3_FORCE_PATH_STYLE')?.value, 'true');
    assert.equal(env.get('HEAPDUMP_S3_CHECKSUM')?.value, 'md5');
    assert.equal(env.get('AWS_REGION')?.value, 'us-east-1');
    assert.match(await resolved(r.app.listCommand), / --path-style /);
  });

  test('an existing AWS bucket with the default access key: IAM user scoped to it, no bucket created', async () => {
    const r = await render('aws-existing', {
      ...javaApp,
      storage: { existing: { bucket: 'company-dumps', region: 'us-west-2' } },
    });
    assert.equal(r.of('aws:s3/bucket:Bucket').length, 0);
    const policy = JSON.parse(r.one('aws:iam/userPolicy:UserPolicy').inputs.policy as string);
    assert.equal(policy.Statement[0].Resource, 'arn:aws:s3:::company-dumps/heapdumps/*');
  });
});

describe('arguments that cannot work fail at construction, naming the field', () => {
  const fieldOf = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof FieldError, String(e));
      return e.field;
    }
    assert.fail('no error');
  };
  const make = (args: Args) => () => new HeapDumpEnabledApp('bad', args);

  test('storage and identity combinations', () => {
    assert.equal(
      fieldOf(make({ ...javaApp, storage: { provision: {}, existing: { bucket: 'b' } } })),
      'storage',
    );
    assert.equal(fieldOf(make({ ...javaApp, identity: { kind: 'irsa' } })), 'identity.irsa');
    assert.equal(
      fieldOf(make({ ...javaApp, identity: { kind: 'accessKey', irsa: { oidcProviderArn: 'x' } } })),
      'identity.irsa',
    );
    assert.equal(
      fieldOf(
        make({
          ...javaApp,
          storage: { existing: { bucket: 'b', endpoint: 'http://minio:9000' } },
          identity: { kind: 'accessKey' },
        }),
      ),
      'identity.kind',
    );
    assert.equal(fieldOf(make({ ...javaApp, identity: { kind: 'magic' as 'irsa' } })), 'identity.kind');
  });

  test('values: endpoint, sizes, probes, env', () => {
    const obs = { bucket: 'b', endpoint: 'obs.example.com' };
    assert.equal(
      fieldOf(make({ ...javaApp, storage: { existing: obs }, identity: { existingSecret: { name: 'k' } } })),
      'storage.existing.endpoint',
    );
    assert.equal(
      fieldOf(make({ ...javaApp, storage: { existing: { bucket: 'b' } } })),
      'storage.existing.region',
    );
    assert.equal(fieldOf(make({ ...javaApp, storage: { prefix: '/abs/' } })), 'storage.prefix');
    assert.equal(fieldOf(make({ ...javaApp, heapDumps: { sizeLimit: '100Mi' } })), 'heapDumps.sizeLimit');
    assert.equal(fieldOf(make({ ...javaApp, resources: {} })), 'heapDumps.maxHeap');
    assert.equal(
      fieldOf(make({ ...javaApp, uploader: { compression: 'lz4' as 'gzip' } })),
      'uploader.compression',
    );
    assert.equal(fieldOf(make({ ...javaApp, args: ['-XX:HeapDumpPath=/tmp'] })), 'args');
  });
});

describe('checked before anything is registered; what the user wrote passes through', () => {
  const errorOf = (fn: () => unknown): InstanceType<typeof FieldError> => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof FieldError, String(e));
      return e;
    }
    assert.fail('no error');
  };
  const settle = () => new Promise((resolve) => setTimeout(resolve, 100));
  const java = { name: 'orders', image: 'eclipse-temurin:21-jre', resources: { limits: { memory: '1Gi' } } };
  const envoy = {
    name: 'envoy',
    image: 'envoyproxy/envoy:v1.31.0',
    resources: { limits: { memory: '512Mi' } },
  };
  const withPod = (containers: unknown[], heapDumps: Args['heapDumps'] = {}): Args => ({
    namespace: 'shop',
    podTemplate: { metadata: { labels: { app: 'orders' } }, spec: { containers } } as Args['podTemplate'],
    heapDumps,
  });

  test('retentionDays -5, 0, 1.5 and a container without an image: one error naming the field, nothing registered', async () => {
    const cases: [Args, string][] = [
      ...[-5, 0, 1.5].map((days): [Args, string] => [
        { ...javaApp, storage: { provision: { retentionDays: days } } },
        'storage.provision.retentionDays',
      ]),
      [withPod([{ name: 'orders', resources: java.resources }]), 'podTemplate.spec.containers[0].image'],
    ];
    for (const [args, field] of cases) {
      mocks.reset();
      assert.equal(errorOf(() => new HeapDumpEnabledApp('bad', args)).field, field);
      await settle();
      assert.deepEqual(
        mocks.registered().map((r) => r.type),
        [],
      );
    }
  });

  test('messages name the pod spec without stray pieces', () => {
    const none = errorOf(() => new HeapDumpEnabledApp('bad', withPod([java, envoy])));
    assert.match(
      none.message,
      /^heapDumps\.containers: podTemplate\.spec has 2 containers \(orders, envoy\)/,
    );
    const missing = errorOf(
      () => new HeapDumpEnabledApp('bad', withPod([java, envoy], { containers: ['payment'] })),
    );
    assert.match(
      missing.message,
      /"payment" is not a container of podTemplate\.spec; its containers are orders, envoy/,
    );
  });

  test('a workload label the user sets passes through', async () => {
    const labels = { app: 'orders', 'app.kubernetes.io/part-of': 'shop' };
    const r = await render('labelled', { ...javaApp, workloadMetadata: { name: 'orders', labels } });
    const metadata = r.one('kubernetes:apps/v1:Deployment').inputs.metadata as {
      labels: Record<string, string>;
    };
    assert.deepEqual(metadata.labels, labels);
  });

  test('a dump target that shows no sign of a JVM warns once; the Java container does not', async () => {
    const warned: string[] = [];
    const warn = pulumi.log.warn;
    pulumi.log.warn = async (message: string) => {
      warned.push(message);
    };
    try {
      await render('proxy', withPod([java, envoy], { containers: ['envoy'] }));
      assert.equal(warned.filter((w) => /shows no sign of a JVM/.test(w)).length, 1, warned.join('\n'));
      assert.match(
        warned.join('\n'),
        /podTemplate\.spec\.containers\[1\]\.image: the heap dump target "envoy"/,
      );
      warned.length = 0;
      await render('java', withPod([java, envoy], { containers: ['orders'] }));
      assert.deepEqual(
        warned.filter((w) => /shows no sign of a JVM/.test(w)),
        [],
      );
    } finally {
      pulumi.log.warn = warn;
    }
  });
});

test('the list command quotes what a shell would split', () => {
  const cmd = listCommand(
    { bucket: 'b', prefix: '', region: 'r', forcePathStyle: false, checksums: true },
    'ns',
    "it's",
  );
  assert.equal(cmd, `heapdump list --bucket b --prefix '' --region r --namespace ns --app 'it'\\''s'`);
});
