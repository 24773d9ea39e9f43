// addHeapDumps over realistic pods of every workload kind: what the user wrote comes back unchanged, only the
// heap-dump additions differ, and the result validates against the Kubernetes OpenAPI schema. Then the
// conflicts it refuses, each naming the field.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { preparePodSpec } from '../src/add-heap-dumps.ts';
import {
  addHeapDumps,
  addHeapDumpsToPodSpec,
  FieldError,
  type HeapDumpOptions,
  type PodSpec,
  type PodTemplateSpec,
  type WorkloadKind,
} from '../src/index.ts';
import { heapDumpJvmFlags } from '../src/jvm.ts';
import { watchdogJvmFlags } from '../src/watchdog.ts';
import { renderWorkload } from '../src/workload.ts';
import { removeAdditions, removeTemplateAdditions } from './additions.ts';
import { springBootPodTemplate, springBootWorkloadSpec } from './fixtures/spring-boot.ts';

const options = (over: Partial<HeapDumpOptions> = {}): HeapDumpOptions => ({
  appName: 'orders',
  heapDumps: {},
  uploader: {},
  target: {
    bucket: 'dumps',
    prefix: 'heapdumps/',
    region: 'eu-west-3',
    forcePathStyle: false,
    checksums: true,
  },
  credentials: {
    kind: 'secret',
    secretName: 'uploader-keys',
    accessKeyIdKey: 'AWS_ACCESS_KEY_ID',
    secretAccessKeyKey: 'AWS_SECRET_ACCESS_KEY',
  },
  defaultUploaderImage: 'ghcr.io/kube-heapdump/kube-heapdump-uploader:0.1.0',
  ...over,
});
const flags = [...heapDumpJvmFlags({}), ...watchdogJvmFlags({}, {}, '/dumps', [])].join(' ');
const plain = <T>(v: unknown) => v as T;

const statefulSet = {
  spec: {
    serviceName: 'cassandra',
    podManagementPolicy: 'Parallel',
    updateStrategy: { type: 'RollingUpdate' },
    selector: { matchLabels: { app: 'cassandra' } },
    volumeClaimTemplates: [
      {
        metadata: { name: 'data' },
        spec: {
          accessModes: ['ReadWriteOnce'],
          storageClassName: 'gp3',
          resources: { requests: { storage: '100Gi' } },
        },
      },
    ],
  },
  template: {
    metadata: { labels: { app: 'cassandra' } },
    spec: {
      terminationGracePeriodSeconds: 1800,
      containers: [
        {
          name: 'cassandra',
          image: 'cassandra:4.1.5',
          env: [
            { name: 'MAX_HEAP_SIZE', value: '4G' },
            { name: 'JVM_OPTS', value: '-Xmx4g -Xms4g' },
            {
              name: 'JAVA_TOOL_OPTIONS',
              valueFrom: { configMapKeyRef: { name: 'cassandra-jvm', key: 'options' } },
            },
          ],
          args: ['-Xmx4g'],
          resources: { limits: { memory: '8Gi' }, requests: { cpu: '2', memory: '8Gi' } },
          ports: [
            { name: 'cql', containerPort: 9042 },
            { name: 'intra-node', containerPort: 7000 },
          ],
          volumeMounts: [{ name: 'data', mountPath: '/var/lib/cassandra' }],
          readinessProbe: { exec: { command: ['/bin/sh', '-c', 'nodetool status'] }, periodSeconds: 15 },
        },
      ],
    },
  },
};

const cronJob = {
  spec: {
    schedule: '15 2 * * *',
    timeZone: 'Europe/Paris',
    concurrencyPolicy: 'Forbid',
    successfulJobsHistoryLimit: 3,
    jobTemplate: {
      metadata: { labels: { job: 'nightly-settlement' } },
      spec: { backoffLimit: 2, ttlSecondsAfterFinished: 86400 },
    },
  },
  template: {
    metadata: { labels: { job: 'nightly-settlement' } },
    spec: {
      restartPolicy: 'OnFailure',
      containers: [
        {
          name: 'settlement',
          image: 'registry.example.com/finance/settlement-batch:7.0.0',
          command: ['java', '-XX:MaxRAMPercentage=50', '-jar', '/app/batch.jar'],
          args: ['--spring.batch.job.name=settle'],
          resources: { limits: { memory: '3Gi' } },
          securityContext: { runAsUser: 2000, runAsNonRoot: true },
        },
      ],
    },
  },
};

const daemonSet = {
  spec: {
    selector: { matchLabels: { app: 'node-agent' } },
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } },
  },
  template: {
    metadata: { labels: { app: 'node-agent' } },
    spec: {
      hostNetwork: true,
      dnsPolicy: 'ClusterFirstWithHostNet',
      tolerations: [{ operator: 'Exists' }],
      containers: [
        {
          name: 'agent',
          image: 'registry.example.com/ops/node-agent:2.4.0',
          env: [
            { name: 'JAVA_TOOL_OPTIONS', value: '-Xmx256m' },
            { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          ],
          resources: { limits: { memory: '512Mi' } },
          volumeMounts: [{ name: 'proc', mountPath: '/host/proc', readOnly: true }],
        },
      ],
      volumes: [{ name: 'proc', hostPath: { path: '/proc' } }],
    },
  },
};

const cases: {
  what: string;
  kind: WorkloadKind;
  template: PodTemplateSpec;
  workloadSpec: Record<string, unknown>;
  targets: string[];
  validate: (o: Record<string, unknown>) => void;
}[] = [
  {
    what: 'a Spring Boot Deployment (ConfigMap and Secret volumes, envFrom, affinity, two sidecars, HTTPS probes)',
    kind: 'Deployment',
    template: plain(springBootPodTemplate()),
    workloadSpec: springBootWorkloadSpec,
    targets: ['orders'],
    validate: (o) => new Deployment(o as never).validate(),
  },
  {
    what: 'a StatefulSet with volumeClaimTemplates and JAVA_TOOL_OPTIONS from a ConfigMap',
    kind: 'StatefulSet',
    template: plain(statefulSet.template),
    workloadSpec: statefulSet.spec,
    targets: ['cassandra'],
    validate: (o) => new StatefulSet(o as never).validate(),
  },
  {
    what: 'a CronJob running a Spring Batch job',
    kind: 'CronJob',
    template: plain(cronJob.template),
    workloadSpec: cronJob.spec,
    targets: ['settlement'],
    validate: (o) => new CronJob(o as never).validate(),
  },
  {
    what: 'a DaemonSet on the host network',
    kind: 'DaemonSet',
    template: plain(daemonSet.template),
    workloadSpec: daemonSet.spec,
    targets: ['agent'],
    validate: (o) => new DaemonSet(o as never).validate(),
  },
];

describe('every field the user wrote passes through; only heap dumps are added', () => {
  for (const c of cases) {
    test(c.what, () => {
      const before = structuredClone(c.template);
      const r = renderWorkload({
        ...options({ heapDumps: { containers: c.targets } }),
        kind: c.kind,
        heapDumps: { containers: c.targets },
        podTemplate: c.template,
        workloadSpec: c.workloadSpec,
        field: 'podTemplate.',
      });
      assert.deepEqual(c.template, before, 'the input is not modified');
      const spec = r.spec as {
        template?: PodTemplateSpec;
        jobTemplate?: { spec: { template: PodTemplateSpec } };
      };
      const template = c.kind === 'CronJob' ? spec.jobTemplate?.spec.template : spec.template;
      assert.ok(template?.spec);
      assert.deepEqual(removeTemplateAdditions(template, c.template, c.targets, flags), c.template);
      const { template: _t, jobTemplate, ...workloadFields } = spec as Record<string, unknown>;
      if (c.kind === 'CronJob') {
        const { jobTemplate: givenJob, ...rest } = c.workloadSpec as { jobTemplate: { spec: object } };
        assert.deepEqual(workloadFields, rest);
        const { template: _jt, ...jobSpec } = (jobTemplate as { spec: Record<string, unknown> }).spec;
        assert.deepEqual(jobSpec, givenJob.spec);
      } else assert.deepEqual(workloadFields, c.workloadSpec);
      // Native sidecar: first init container, restartPolicy Always; the JVM sees our flags after its own.
      assert.equal(template.spec.initContainers?.[0]?.name, 'heapdump-uploader');
      assert.equal(template.spec.initContainers?.[0]?.restartPolicy, 'Always');
      const apiVersion = c.kind === 'CronJob' ? 'batch/v1' : 'apps/v1';
      c.validate({ apiVersion, kind: c.kind, metadata: { name: 'x', namespace: 'shop' }, spec: r.spec });
    });
  }

  test('a value from a ConfigMap is kept through $(HEAPDUMP_APP_JAVA_TOOL_OPTIONS)', () => {
    const spec = addHeapDumps(plain<PodSpec>(statefulSet.template.spec), options());
    const env = spec.containers[0]?.env ?? [];
    assert.deepEqual(env.slice(2), [
      {
        name: 'HEAPDUMP_APP_JAVA_TOOL_OPTIONS',
        valueFrom: { configMapKeyRef: { name: 'cassandra-jvm', key: 'options' } },
      },
      { name: 'JAVA_TOOL_OPTIONS', value: `$(HEAPDUMP_APP_JAVA_TOOL_OPTIONS) ${flags}` },
    ]);
  });

  test('a heap in _JAVA_OPTIONS wins over the command line (the JVM reads it last): it sizes the volume, no default heap', () => {
    const spec: PodSpec = {
      containers: [
        {
          name: 'app',
          image: 'java:21',
          args: ['-Xmx200m', '-jar', 'a.jar'],
          env: [{ name: '_JAVA_OPTIONS', value: '-Xmx300m' }],
          resources: { limits: { memory: '1Gi' } },
        },
      ],
    };
    const r = addHeapDumpsToPodSpec(spec, options());
    assert.equal(r.sizing.maxHeapBytes, 300 * 2 ** 20);
    const jto = r.spec.containers[0]?.env?.find((e) => e.name === 'JAVA_TOOL_OPTIONS');
    assert.doesNotMatch(jto?.value ?? '', /MaxRAMPercentage/);
  });

  test('the JVM flags follow a $(VAR) reference; the heap it names sizes the volume', () => {
    const pod = structuredClone(plain<PodSpec>(springBootPodTemplate().spec));
    const r = addHeapDumpsToPodSpec(pod, options({ heapDumps: { containers: ['orders'] } }));
    const jto = r.spec.containers[0]?.env?.find((e) => e.name === 'JAVA_TOOL_OPTIONS');
    assert.equal(jto?.value, `-XX:MaxRAMPercentage=60 $(EXTRA_JAVA_OPTS) ${flags}`);
    // 60% of the 1Gi limit.
    assert.equal(r.sizing.maxHeapBytes, Math.floor(2 ** 30 * 0.6));
    // The pod declares UID 1001: the uploader runs as that user, no root.
    assert.equal(r.spec.initContainers?.[0]?.securityContext?.runAsUser, 1001);
    assert.deepEqual(r.warnings, []);
  });

  test('a web identity skips every container but the uploader; a role of its own gets a projected token', () => {
    const pod = plain<PodSpec>(springBootPodTemplate().spec);
    const r = addHeapDumpsToPodSpec(
      pod,
      options({ heapDumps: { containers: ['orders'] }, credentials: { kind: 'webIdentity' } }),
    );
    assert.deepEqual(r.annotations, {
      'eks.amazonaws.com/skip-containers': 'wait-for-db,orders,envoy,log-shipper',
    });
    const roleArn = 'arn:aws:iam::123456789012:role/orders-uploader';
    const own = addHeapDumpsToPodSpec(
      pod,
      options({ heapDumps: { containers: ['orders'] }, credentials: { kind: 'webIdentity', roleArn } }),
    );
    const uploader = own.spec.initContainers?.[0];
    assert.equal(uploader?.env?.find((e) => e.name === 'AWS_ROLE_ARN')?.value, roleArn);
    assert.ok(own.spec.volumes?.some((v) => v.name === 'heapdumps-aws-token' && v.projected));
    assert.ok(
      own.spec.containers.every((c) => !c.volumeMounts?.some((m) => m.name === 'heapdumps-aws-token')),
    );
    assert.deepEqual(removeAdditions(own.spec, pod, ['orders'], flags), pod);
  });
});

describe('conflicts are refused, naming the field and the fix', () => {
  const fieldOf = (fn: () => unknown): { field: string; message: string } => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof FieldError, String(e));
      return { field: e.field, message: e.message };
    }
    assert.fail('no error');
  };
  const pod = (over: Partial<PodSpec> = {}, container: Record<string, unknown> = {}): PodSpec => ({
    containers: [{ name: 'app', image: 'java:21', resources: { limits: { memory: '1Gi' } }, ...container }],
    ...over,
  });
  const wrap =
    (spec: PodSpec, over: Partial<HeapDumpOptions> = {}) =>
    () =>
      addHeapDumpsToPodSpec(spec, { ...options(over), field: 'podTemplate.spec.' });

  const table: [string, () => unknown, string, RegExp][] = [
    [
      'a volume of ours already there',
      wrap(pod({ volumes: [{ name: 'heapdumps', emptyDir: {} }] })),
      'podTemplate.spec.volumes[0].name',
      /rename your volume/,
    ],
    [
      'a user mount at the dump path',
      wrap(
        pod(
          { volumes: [{ name: 'scratch', emptyDir: {} }] },
          { volumeMounts: [{ name: 'scratch', mountPath: '/dumps' }] },
        ),
      ),
      'podTemplate.spec.containers[0].volumeMounts[0]',
      /over the dump path \/dumps; remove the mount or set heapDumps.mountPath/,
    ],
    [
      'an emptyDir with medium Memory at the dump path',
      wrap(
        pod(
          { volumes: [{ name: 'ram', emptyDir: { medium: 'Memory' } }] },
          { volumeMounts: [{ name: 'ram', mountPath: '/dumps/' }] },
        ),
      ),
      'podTemplate.spec.containers[0].volumeMounts[0]',
      /medium: Memory/,
    ],
    [
      'a container named like the uploader',
      wrap(pod({ initContainers: [{ name: 'heapdump-uploader', image: 'x' }] })),
      'podTemplate.spec.initContainers[0].name',
      /rename your container/,
    ],
    [
      '-XX:HeapDumpPath on the command line',
      wrap(pod({}, { args: ['-XX:HeapDumpPath=/tmp', '-jar', 'a.jar'] })),
      'podTemplate.spec.containers[0].args',
      /command line wins/,
    ],
    [
      '-XX:-HeapDumpOnOutOfMemoryError in JDK_JAVA_OPTIONS',
      wrap(pod({}, { env: [{ name: 'JDK_JAVA_OPTIONS', value: '-XX:-HeapDumpOnOutOfMemoryError' }] })),
      'podTemplate.spec.containers[0].env[0]',
      /JDK_JAVA_OPTIONS/,
    ],
    [
      '-XX:ErrorFile outside the volume on the command line',
      wrap(pod({}, { args: ['-XX:ErrorFile=/tmp/hs_err_%p.log', '-jar', 'a.jar'] })),
      'podTemplate.spec.containers[0].args',
      /"-XX:ErrorFile=\/tmp\/hs_err_%p\.log" moves the JVM's crash log away from the component's -XX:ErrorFile=\/dumps\/hs_err_pid%p\.log, where the uploader would not ship it \(the command line wins/,
    ],
    [
      '-XX:ErrorFile in the volume under another name, in JDK_JAVA_OPTIONS',
      wrap(pod({}, { env: [{ name: 'JDK_JAVA_OPTIONS', value: '-Xss1m -XX:ErrorFile=/dumps/crash.log' }] })),
      'podTemplate.spec.containers[0].env[0]',
      /"-XX:ErrorFile=\/dumps\/crash\.log" in JDK_JAVA_OPTIONS moves the JVM's crash log/,
    ],
    [
      '-XX:HeapDumpPath in _JAVA_OPTIONS (read last, it wins over ours)',
      wrap(
        pod(
          {},
          {
            env: [
              { name: 'A', value: '1' },
              { name: '_JAVA_OPTIONS', value: '-XX:HeapDumpPath=/tmp' },
            ],
          },
        ),
      ),
      'podTemplate.spec.containers[0].env[1]',
      /"-XX:HeapDumpPath=\/tmp" in _JAVA_OPTIONS overrides the component's heap dump flags \(the JVM reads it last/,
    ],
    [
      '-XX:ErrorFile outside the volume in _JAVA_OPTIONS',
      wrap(pod({}, { env: [{ name: '_JAVA_OPTIONS', value: '-XX:ErrorFile=/tmp/e.log' }] })),
      'podTemplate.spec.containers[0].env[0]',
      /"-XX:ErrorFile=\/tmp\/e\.log" in _JAVA_OPTIONS moves the JVM's crash log/,
    ],
    [
      'a classic sidecar in a Job',
      wrap(pod({ restartPolicy: 'Never' }), { kind: 'Job', uploader: { sidecar: 'classic' } }),
      'uploader.sidecar',
      /never complete/,
    ],
    [
      'several containers and none named',
      wrap({ ...pod(), containers: [...pod().containers, { name: 'envoy', image: 'envoy' }] }),
      'heapDumps.containers',
      /2 containers \(app, envoy\) and none is named/,
    ],
    [
      'a named container that is not there',
      wrap(pod(), { heapDumps: { containers: ['orders'] } }),
      'heapDumps.containers',
      /its containers are app/,
    ],
  ];
  for (const [what, fn, field, message] of table) {
    test(what, () => {
      const e = fieldOf(fn);
      assert.equal(e.field, field);
      assert.match(e.message, message);
    });
  }

  test("the component's own -XX:ErrorFile on the command line is accepted", () => {
    const r = wrap(pod({}, { args: ['-XX:ErrorFile=/dumps/hs_err_pid%p.log', '-jar', 'a.jar'] }))();
    assert.deepEqual(
      r.warnings.filter((w) => w.includes('ErrorFile')),
      [],
    );
  });

  test('-XX:ErrorFile in the literal JAVA_TOOL_OPTIONS: overridden by ours (after it), one warning naming the field', () => {
    const env = [{ name: 'JAVA_TOOL_OPTIONS', value: '-Xss1m -XX:ErrorFile=/var/log/hs_err.log' }];
    const r = wrap(pod({}, { env }))();
    const jto = r.spec.containers[0]?.env?.find((e) => e.name === 'JAVA_TOOL_OPTIONS')?.value ?? '';
    assert.ok(
      jto.lastIndexOf('-XX:ErrorFile=/dumps/hs_err_pid%p.log') > jto.indexOf('/var/log/hs_err.log'),
      jto,
    );
    assert.deepEqual(
      r.warnings.filter((w) => w.includes('ErrorFile')),
      [
        'podTemplate.spec.containers[0].env[0]: "-XX:ErrorFile=/var/log/hs_err.log" in JAVA_TOOL_OPTIONS is ' +
          "overridden by the component's -XX:ErrorFile=/dumps/hs_err_pid%p.log, added after it, so that crash logs " +
          'are shipped from the dump volume; remove it',
      ],
    );
  });

  test('a Job pod without restartPolicy Never or OnFailure', () => {
    const e = fieldOf(() =>
      renderWorkload({
        ...options(),
        kind: 'Job',
        podTemplate: { spec: pod() },
        workloadSpec: {},
        field: 'podTemplate.',
      }),
    );
    assert.equal(e.field, 'podTemplate.spec.restartPolicy');
  });

  test('a selector that does not match the pod labels', () => {
    const e = fieldOf(() =>
      renderWorkload({
        ...options(),
        kind: 'Deployment',
        podTemplate: { metadata: { labels: { app: 'a' } }, spec: pod() },
        workloadSpec: { selector: { matchLabels: { app: 'b' } } },
        field: 'podTemplate.',
      }),
    );
    assert.equal(e.field, 'workloadSpec.selector');
  });
});

describe('rendered once, the store wired in later', () => {
  const pod = (): PodSpec => ({
    containers: [{ name: 'orders', image: 'orders:1', resources: { limits: { memory: '1Gi' } } }],
  });
  test('one prepared pod wired to two stores: only the uploader, the token volume and the annotations differ', () => {
    const prepared = preparePodSpec(pod(), options());
    const secret = prepared.wire(options());
    const role = prepared.wire({
      ...options(),
      appName: 'billing',
      target: { ...options().target, bucket: 'other' },
      credentials: { kind: 'webIdentity', roleArn: 'arn:aws:iam::1:role/uploader' },
    });
    const env = (s: PodSpec) => s.initContainers?.find((c) => c.name === 'heapdump-uploader')?.env ?? [];
    const value = (s: PodSpec, name: string) => env(s).find((e) => e.name === name)?.value;
    assert.deepEqual(
      [value(secret.spec, 'HEAPDUMP_BUCKET'), value(role.spec, 'HEAPDUMP_BUCKET')],
      ['dumps', 'other'],
    );
    assert.deepEqual(
      [value(secret.spec, 'HEAPDUMP_APP'), value(role.spec, 'HEAPDUMP_APP')],
      ['orders', 'billing'],
    );
    assert.equal(value(role.spec, 'AWS_ROLE_ARN'), 'arn:aws:iam::1:role/uploader');
    assert.deepEqual(secret.annotations, {});
    assert.ok(Object.keys(role.annotations).length === 1);
    assert.deepEqual(role.spec.containers, secret.spec.containers, 'the JVM containers are the same');
    const [dumps, ...rest] = (secret.spec.volumes ?? []).map((v) => v.name);
    assert.deepEqual(
      role.spec.volumes?.map((v) => v.name),
      [dumps, 'heapdumps-aws-token', ...rest],
    );
    // The same as adding heap dumps in one go.
    assert.deepEqual(
      { ...secret, sizing: prepared.sizing, warnings: prepared.warnings },
      addHeapDumpsToPodSpec(pod(), options()),
    );
  });

  test("a ServiceAccount is set where the pod names none, and never over the pod's own", () => {
    const prepared = preparePodSpec(pod(), options());
    assert.equal(prepared.wire(options(), 'created-sa').spec.serviceAccountName, 'created-sa');
    const own = preparePodSpec({ ...pod(), serviceAccountName: 'mine' }, options());
    assert.equal(own.wire(options(), 'created-sa').spec.serviceAccountName, 'mine');
  });
});
