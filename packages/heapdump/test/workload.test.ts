// The rules of the rendered pod, one test each, on the pure builder (workload.ts renderDeployment).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  parseNotifyEnv,
  parseQuantity,
  parseUploaderEnv,
  splitOptions,
  UPLOADER_DEFAULTS,
} from '@kube-heapdump/contract';
import { type EnvVarSpec, resolveEnv } from '../../../test/support/pod-env.ts';
import { FieldError } from '../src/errors.ts';
import { ANALYSIS_MBPS } from '../src/sizing.ts';
import { type PodInputs, type RenderedDeployment, renderDeployment } from '../src/workload.ts';

const Gi = 2 ** 30;

function inputs(over: Partial<PodInputs> = {}, app: Partial<PodInputs['app']> = {}): PodInputs {
  return {
    appName: 'orders',
    app: { image: 'registry.example.com/orders:1.4', resources: { limits: { memory: '2Gi' } }, ...app },
    heapDumps: {},
    uploader: {},
    target: {
      bucket: 'dumps-bucket',
      prefix: 'heapdumps/',
      region: 'eu-west-3',
      forcePathStyle: false,
      checksums: true,
    },
    credentials: {
      kind: 'secret',
      secretName: 'orders-uploader',
      accessKeyIdKey: 'AWS_ACCESS_KEY_ID',
      secretAccessKeyKey: 'AWS_SECRET_ACCESS_KEY',
    },
    defaultUploaderImage: 'ghcr.io/kube-heapdump/kube-heapdump-uploader:0.1.0',
    ...over,
  };
}

const pod = (r: RenderedDeployment) => {
  const spec = r.spec.template.spec;
  assert.ok(spec);
  return spec;
};
const appContainer = (r: RenderedDeployment) => {
  const c = pod(r).containers[0];
  assert.ok(c);
  return c;
};
const uploaderContainer = (r: RenderedDeployment) => {
  const spec = pod(r);
  const c = [...(spec.initContainers ?? []), ...spec.containers].find((c) => c.name === 'heapdump-uploader');
  assert.ok(c, 'no uploader container');
  return c;
};
const envOf = (c: { env?: unknown }) => (c.env ?? []) as EnvVarSpec[];
const javaToolOptions = (r: RenderedDeployment) =>
  resolveEnv(envOf(appContainer(r)), { fields: {}, secrets: { s: { jto: '-Dfrom=secret' } } })
    .JAVA_TOOL_OPTIONS;

function argsError(fn: () => unknown, field: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FieldError, `not a FieldError: ${e}`);
    assert.equal(e.field, field);
    return true;
  });
}

describe('app container: JAVA_TOOL_OPTIONS', () => {
  test('gets the heap dump flags, with exit on OOM by default', () => {
    const words = splitOptions(javaToolOptions(renderDeployment(inputs())) ?? '');
    assert.deepEqual(words, [
      '-XX:+HeapDumpOnOutOfMemoryError',
      '-XX:HeapDumpPath=/dumps',
      '-XX:ErrorFile=/dumps/hs_err_pid%p.log',
      '-XX:+ExitOnOutOfMemoryError',
      '-javaagent:/dumps/.kube-heapdump/agent.jar=threshold=90,rearm=80',
      '-XX:MaxRAMPercentage=65',
    ]);
  });

  test('is appended to, not replaced: the user value comes first, then ours and extra flags', () => {
    const r = renderDeployment(
      inputs(
        { heapDumps: { extraJvmFlags: ['-Xlog:gc'] } },
        {
          env: [
            { name: 'A', value: '1' },
            { name: 'JAVA_TOOL_OPTIONS', value: '-Dlog4j2.formatMsgNoLookups=true' },
          ],
        },
      ),
    );
    assert.deepEqual(splitOptions(javaToolOptions(r) ?? ''), [
      '-Dlog4j2.formatMsgNoLookups=true',
      '-XX:+HeapDumpOnOutOfMemoryError',
      '-XX:HeapDumpPath=/dumps',
      '-XX:ErrorFile=/dumps/hs_err_pid%p.log',
      '-XX:+ExitOnOutOfMemoryError',
      '-javaagent:/dumps/.kube-heapdump/agent.jar=threshold=90,rearm=80',
      '-XX:MaxRAMPercentage=65',
      '-Xlog:gc',
    ]);
    assert.deepEqual(
      envOf(appContainer(r)).map((e) => e.name),
      ['A', 'JAVA_TOOL_OPTIONS'],
      'the user env keeps its order',
    );
  });

  test('a user value from a Secret is kept through a $(reference) the kubelet expands', () => {
    const r = renderDeployment(
      inputs({}, { env: [{ name: 'JAVA_TOOL_OPTIONS', secretKeyRef: { name: 's', key: 'jto' } }] }),
    );
    assert.equal(
      javaToolOptions(r),
      '-Dfrom=secret -XX:+HeapDumpOnOutOfMemoryError -XX:HeapDumpPath=/dumps ' +
        '-XX:ErrorFile=/dumps/hs_err_pid%p.log -XX:+ExitOnOutOfMemoryError ' +
        '-javaagent:/dumps/.kube-heapdump/agent.jar=threshold=90,rearm=80 -XX:MaxRAMPercentage=65',
    );
  });

  test('keepRunning leaves out the exit flag; the mount path is the dump path', () => {
    const r = renderDeployment(
      inputs({ heapDumps: { onOutOfMemory: 'keepRunning', mountPath: '/var/dumps' } }),
    );
    assert.deepEqual(splitOptions(javaToolOptions(r) ?? ''), [
      '-XX:+HeapDumpOnOutOfMemoryError',
      '-XX:HeapDumpPath=/var/dumps',
      '-XX:ErrorFile=/var/dumps/hs_err_pid%p.log',
      '-javaagent:/var/dumps/.kube-heapdump/agent.jar=threshold=90,rearm=80',
      '-XX:MaxRAMPercentage=65',
    ]);
    assert.deepEqual(appContainer(r).volumeMounts, [{ name: 'heapdumps', mountPath: '/var/dumps' }]);
    assert.deepEqual(uploaderContainer(r).volumeMounts?.[0], { name: 'heapdumps', mountPath: '/var/dumps' });
  });

  test('events: the uploader alone mounts its own short-lived API token; off, no token and no Role', () => {
    const on = renderDeployment(inputs());
    const token = {
      name: 'heapdumps-kube-api',
      mountPath: '/var/run/secrets/heapdump/kubernetes',
      readOnly: true,
    };
    assert.deepEqual(uploaderContainer(on).volumeMounts?.[1], token);
    assert.ok(!JSON.stringify(appContainer(on)).includes('heapdumps-kube-api'), 'never in the JVM container');
    const volume = on.spec.template.spec?.volumes?.find((v) => v.name === 'heapdumps-kube-api');
    assert.equal(volume?.projected?.sources?.[0]?.serviceAccountToken?.expirationSeconds, 3600);
    const off = renderDeployment(inputs({ uploader: { events: false } }));
    assert.equal(uploaderContainer(off).volumeMounts?.length, 1);
    assert.ok(!off.spec.template.spec?.volumes?.some((v) => v.name === 'heapdumps-kube-api'));
    assert.ok(envOf(uploaderContainer(off)).some((e) => e.name === 'HEAPDUMP_EVENTS' && e.value === 'false'));
  });

  test('redaction, the volume size cap and the app UID reach the uploader', () => {
    const r = renderDeployment(
      inputs({ heapDumps: { redact: 'strings' } }, { securityContext: { runAsUser: 1000 } }),
    );
    const env = new Map(envOf(uploaderContainer(r)).map((e) => [e.name, e.value]));
    assert.equal(env.get('HEAPDUMP_REDACT'), 'strings');
    assert.equal(env.get('HEAPDUMP_OWNER_UID'), '1000');
    assert.equal(env.get('HEAPDUMP_MAX_DUMP_BYTES'), String(parseQuantity(r.sizing.sizeLimit)));
    assert.throws(
      () => renderDeployment(inputs({ heapDumps: { redact: 'everything' as never } })),
      /heapDumps\.redact: "everything" is not one of none, strings, primitives/,
    );
  });

  test('enum values from untyped programs are checked against the enums, the choices listed', () => {
    assert.throws(
      () => renderDeployment(inputs({ heapDumps: { onOutOfMemory: 'restart' as never } })),
      /heapDumps\.onOutOfMemory: "restart" is not exit or keepRunning/,
    );
    assert.throws(
      () => renderDeployment(inputs({ uploader: { sidecar: 'sidecar' as never } })),
      /uploader\.sidecar: "sidecar" is not native or classic/,
    );
  });

  test('a command line that moves or disables the dump is refused (it wins over JAVA_TOOL_OPTIONS)', () => {
    argsError(
      () => renderDeployment(inputs({}, { args: ['-XX:HeapDumpPath=/tmp', '-jar', 'app.jar'] })),
      'args',
    );
    argsError(
      () => renderDeployment(inputs({}, { command: ['java', '-XX:-HeapDumpOnOutOfMemoryError'] })),
      'command',
    );
  });

  test('JAVA_TOOL_OPTIONS twice, or an env var with two sources, is refused', () => {
    argsError(
      () =>
        renderDeployment(
          inputs(
            {},
            {
              env: [
                { name: 'JAVA_TOOL_OPTIONS', value: 'a' },
                { name: 'JAVA_TOOL_OPTIONS', value: 'b' },
              ],
            },
          ),
        ),
      'env[1]',
    );
    argsError(
      () => renderDeployment(inputs({}, { env: [{ name: 'X', value: 'a', fieldPath: 'metadata.name' }] })),
      'env[0]',
    );
  });
});

describe('dump volume', () => {
  const sizeLimitBytes = (r: RenderedDeployment) => {
    const volume = pod(r).volumes?.find((v) => v.name === 'heapdumps');
    assert.ok(volume?.emptyDir, 'an emptyDir volume');
    assert.equal(volume.emptyDir.medium, undefined, 'never medium: Memory');
    const m = /^(\d+)Mi$/.exec(volume.emptyDir.sizeLimit ?? '');
    assert.ok(m, `sizeLimit ${volume.emptyDir.sizeLimit}`);
    return Number(m[1]) * 2 ** 20;
  };

  test('holds two dumps of the heap from the memory limit and the default MaxRAMPercentage it sets (65%)', () => {
    const bytes = sizeLimitBytes(renderDeployment(inputs({}, { resources: { limits: { memory: '8Gi' } } })));
    // Two dumps of 1.2 x the 5.2 GiB heap (65% of 8 GiB): one still uploading, the next written after a restart.
    const heap = 0.65 * 8 * Gi;
    assert.ok(bytes >= 2 * 1.2 * heap && bytes < 2 * 1.2 * heap + 2 ** 20, `${bytes}`);
  });

  test('follows -XX:MaxRAMPercentage, and -Xmx wins; the command line wins over JAVA_TOOL_OPTIONS', () => {
    const pct = renderDeployment(
      inputs(
        {},
        {
          resources: { limits: { memory: '4Gi' } },
          env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-XX:MaxRAMPercentage=75.0' }],
        },
      ),
    );
    assert.ok(sizeLimitBytes(pct) >= 2 * 1.2 * 3 * Gi);
    const xmx = renderDeployment(
      inputs(
        {},
        {
          resources: { limits: { memory: '4Gi' } },
          env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-Xmx1g' }],
          args: ['-Xmx2g', '-jar', 'a.jar'],
        },
      ),
    );
    assert.equal(xmx.sizing.maxHeapBytes, 2 * Gi);
    assert.ok(sizeLimitBytes(xmx) >= 2 * 1.2 * 2 * Gi && sizeLimitBytes(xmx) < 2 * 1.2 * 3 * Gi);
  });

  test('flightRecorder: the recording flags, and room for the repository and the recording (2 x 64 MiB)', () => {
    const off = renderDeployment(inputs({}, { args: ['-Xmx1g'] }));
    const on = renderDeployment(inputs({ heapDumps: { flightRecorder: true } }, { args: ['-Xmx1g'] }));
    const words = splitOptions(javaToolOptions(on) ?? '');
    assert.deepEqual(
      words.filter((w) => /FlightRecord|ErrorFile/.test(w)),
      [
        '-XX:ErrorFile=/dumps/hs_err_pid%p.log',
        '-XX:FlightRecorderOptions=repository=/dumps/.jfr-repository',
        '-XX:StartFlightRecording=disk=true,maxsize=64m,dumponexit=true,filename=/dumps/flight-recording.jfr',
      ],
    );
    assert.ok(!(javaToolOptions(off) ?? '').includes('FlightRecord'), 'off by default');
    assert.equal(sizeLimitBytes(on) - sizeLimitBytes(off), 128 * 2 ** 20);
    // The grace period and the liveness check count a whole recording, even beside a small heap.
    const small = renderDeployment(inputs({ heapDumps: { flightRecorder: true } }, { args: ['-Xmx32m'] }));
    assert.equal(small.sizing.maxDumpBytes, 128 * 2 ** 20);
  });

  test('holds a JDK 22+ parallel dump (2.2 x the heap) beside the previous dump (1.2 x)', () => {
    const r = renderDeployment(inputs({ heapDumps: { parallelDumps: true } }, { args: ['-Xmx1g'] }));
    assert.ok(sizeLimitBytes(r) >= (2.2 + 1.2) * Gi);
  });

  test('a sizeLimit below one dump (1.2 x the heap) is refused, below two warns; it is kept as given', () => {
    argsError(
      () => renderDeployment(inputs({ heapDumps: { sizeLimit: '1Gi' } }, { args: ['-Xmx1g'] })),
      'heapDumps.sizeLimit',
    );
    const one = renderDeployment(inputs({ heapDumps: { sizeLimit: '1300Mi' } }, { args: ['-Xmx1g'] }));
    assert.equal(sizeLimitBytes(one), 1300 * 2 ** 20);
    assert.ok(one.warnings.some((w) => w.startsWith('heapDumps.sizeLimit:')));
    const roomy = renderDeployment(inputs({ heapDumps: { sizeLimit: '10Gi' } }, { args: ['-Xmx1g'] }));
    assert.equal(sizeLimitBytes(roomy), 10 * Gi);
    assert.deepEqual(
      roomy.warnings.filter((w) => w.startsWith('heapDumps')),
      [],
    );
  });

  test('an unknown heap and no sizeLimit is refused, naming what to set', () => {
    argsError(() => renderDeployment(inputs({}, { resources: {} })), 'heapDumps.maxHeap');
    const r = renderDeployment(inputs({ heapDumps: { maxHeap: '3Gi' } }, { resources: {} }));
    assert.ok(sizeLimitBytes(r) >= 2 * 1.2 * 3 * Gi);
  });

  test('a memory limit at or below -Xmx is refused; one barely above it warns', () => {
    argsError(() => renderDeployment(inputs({}, { args: ['-Xmx2g'] })), 'resources.limits.memory');
    const r = renderDeployment(inputs({}, { args: ['-Xmx1900m'] }));
    assert.ok(
      r.warnings.some((w) => w.startsWith('resources.limits.memory:')),
      r.warnings.join('\n'),
    );
    assert.deepEqual(
      renderDeployment(inputs({}, { args: ['-Xmx1g'] })).warnings.filter((w) => w.startsWith('resources')),
      [],
    );
  });

  test('malformed sizes name the field', () => {
    argsError(
      () => renderDeployment(inputs({}, { resources: { limits: { memory: 'two gigs' } } })),
      'resources.limits.memory',
    );
    argsError(
      () => renderDeployment(inputs({}, { args: ['-Xmx2q'] })),
      'env JAVA_TOOL_OPTIONS / command / args',
    );
  });
});

describe('uploader sidecar', () => {
  test('is a native sidecar by default: an init container with restartPolicy Always', () => {
    const spec = pod(renderDeployment(inputs()));
    assert.deepEqual(
      spec.containers.map((c) => c.name),
      ['app'],
    );
    assert.deepEqual(
      spec.initContainers?.map((c) => [c.name, c.restartPolicy]),
      [['heapdump-uploader', 'Always']],
    );
  });

  test('is a second container in classic mode', () => {
    const spec = pod(renderDeployment(inputs({ uploader: { sidecar: 'classic' } })));
    assert.deepEqual(
      spec.containers.map((c) => c.name),
      ['app', 'heapdump-uploader'],
    );
    assert.equal(spec.initContainers, undefined);
    assert.equal(spec.containers[1]?.restartPolicy, undefined);
  });

  test('its env is what the uploader itself parses to exactly the target, and nothing it does not read', () => {
    const r = renderDeployment(
      inputs({
        target: {
          bucket: 'obs-bucket',
          prefix: 'team/',
          endpoint: 'https://obs.cn-north-4.myhuaweicloud.com',
          region: 'cn-north-4',
          forcePathStyle: false,
          checksums: false,
        },
        uploader: { compression: 'zstd', quietSeconds: 30, metricsPort: 9100 },
      }),
    );
    const env = resolveEnv(envOf(uploaderContainer(r)), {
      fields: {
        'metadata.name': 'orders-7d9f-abcde',
        'metadata.namespace': 'shop',
        'spec.nodeName': 'node-1',
        'metadata.uid': 'pod-uid-1',
      },
      secrets: { 'orders-uploader': { AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK' } },
    });
    const read = new Set<string>();
    // Kubernetes sets the API server's address in every container.
    const inCluster: Record<string, string | undefined> = { ...env, KUBERNETES_SERVICE_HOST: '10.0.0.1' };
    const reading = new Proxy(inCluster, {
      get: (t, k: string) => {
        read.add(k);
        return t[k];
      },
    });
    const config = parseUploaderEnv(reading, 'unused-hostname');
    const notify = parseNotifyEnv(reading);
    assert.deepEqual(notify, {
      events: true,
      serviceAccountDir: '/var/run/secrets/heapdump/kubernetes',
      apiServer: 'https://10.0.0.1:443',
      webhookUrl: undefined,
      podUid: 'pod-uid-1',
    });
    assert.deepEqual(config, {
      dir: '/dumps',
      bucket: 'obs-bucket',
      prefix: 'team/',
      endpoint: 'https://obs.cn-north-4.myhuaweicloud.com',
      forcePathStyle: false,
      region: 'cn-north-4',
      compression: 'zstd',
      deleteAfterUpload: true,
      quietSeconds: 30,
      concurrency: UPLOADER_DEFAULTS.concurrency,
      bufferMiB: UPLOADER_DEFAULTS.bufferMiB,
      timeoutSeconds: UPLOADER_DEFAULTS.timeoutSeconds,
      shutdownSeconds: r.sizing.terminationGracePeriodSeconds - 5,
      metricsPort: 9100,
      checksum: 'md5',
      logLevel: 'info',
      // Nothing in the volume can be larger than the volume.
      maxDumpBytes: parseQuantity(r.sizing.sizeLimit),
      pod: { name: 'orders-7d9f-abcde', namespace: 'shop', node: 'node-1', app: 'orders' },
    });
    // The AWS SDK reads the credential variables; every other name must be one the uploader reads.
    const unread = Object.keys(env).filter((k) => !read.has(k) && !k.startsWith('AWS_'));
    assert.deepEqual(unread, []);
    assert.equal(env.AWS_ACCESS_KEY_ID, 'AK');
    assert.equal(env.AWS_SECRET_ACCESS_KEY, 'SK');
  });

  test('pod facts come from the downward API; credentials reach the uploader only, from the Secret', () => {
    const r = renderDeployment(inputs());
    const byName = new Map(envOf(uploaderContainer(r)).map((e) => [e.name, e]));
    assert.deepEqual(byName.get('POD_NAME')?.valueFrom, { fieldRef: { fieldPath: 'metadata.name' } });
    assert.deepEqual(byName.get('POD_NAMESPACE')?.valueFrom, {
      fieldRef: { fieldPath: 'metadata.namespace' },
    });
    assert.deepEqual(byName.get('NODE_NAME')?.valueFrom, { fieldRef: { fieldPath: 'spec.nodeName' } });
    assert.deepEqual(byName.get('AWS_SECRET_ACCESS_KEY')?.valueFrom, {
      secretKeyRef: { name: 'orders-uploader', key: 'AWS_SECRET_ACCESS_KEY' },
    });
    const appEnv = envOf(appContainer(r));
    assert.deepEqual(
      appEnv.filter((e) => e.name.startsWith('AWS_') || e.valueFrom?.secretKeyRef),
      [],
    );
  });

  test('with a web identity (IRSA / Pod Identity) no keys are rendered and the JVM container is skipped', () => {
    const r = renderDeployment(
      inputs({ credentials: { kind: 'webIdentity' }, serviceAccountName: 'orders' }),
    );
    assert.deepEqual(
      envOf(uploaderContainer(r)).filter(
        (e) => e.name.startsWith('AWS_ACCESS') || e.name.startsWith('AWS_SECRET'),
      ),
      [],
    );
    assert.equal(r.spec.template.metadata?.annotations?.['eks.amazonaws.com/skip-containers'], 'app');
    assert.equal(pod(r).serviceAccountName, 'orders');
  });

  test('runs as the app UID, locked down', () => {
    const r = renderDeployment(inputs({}, { securityContext: { runAsUser: 1001, runAsGroup: 1001 } }));
    assert.deepEqual(uploaderContainer(r).securityContext, {
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      seccompProfile: { type: 'RuntimeDefault' },
      runAsUser: 1001,
      runAsGroup: 1001,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    assert.deepEqual(
      r.warnings.filter((w) => w.startsWith('securityContext')),
      [],
    );
    const fromPod = renderDeployment(inputs({}, { podSecurityContext: { runAsUser: 2000 } }));
    assert.equal(uploaderContainer(fromPod).securityContext?.runAsUser, 2000);
  });

  test('without a declared UID runs as root with only DAC_READ_SEARCH, and warns', () => {
    const r = renderDeployment(inputs());
    const sc = uploaderContainer(r).securityContext;
    assert.equal(sc?.runAsUser, 0);
    assert.deepEqual(sc?.capabilities, { drop: ['ALL'], add: ['DAC_READ_SEARCH'] });
    assert.equal(sc?.readOnlyRootFilesystem, true);
    assert.equal(sc?.allowPrivilegeEscalation, false);
    assert.ok(r.warnings.some((w) => w.startsWith('securityContext.runAsUser:')));
  });

  test('asks for little: requests and a memory limit above the measured peak', () => {
    const resources = uploaderContainer(renderDeployment(inputs())).resources;
    assert.deepEqual(resources, { requests: { cpu: '50m', memory: '160Mi' }, limits: { memory: '256Mi' } });
  });

  test('image: default from the package version, a mirror registry, or an explicit image', () => {
    assert.equal(
      uploaderContainer(renderDeployment(inputs())).image,
      'ghcr.io/kube-heapdump/kube-heapdump-uploader:0.1.0',
    );
    assert.equal(
      uploaderContainer(renderDeployment(inputs({ uploader: { image: 'mirror/u:1' } }))).image,
      'mirror/u:1',
    );
  });
});

describe('grace period and probes', () => {
  test('terminationGracePeriodSeconds covers uploading a full dump at the stated rate, and its analysis', () => {
    for (const rate of [10, 50, 200]) {
      const r = renderDeployment(inputs({ uploader: { uploadRateMBps: rate } }, { args: ['-Xmx1536m'] }));
      const grace = pod(r).terminationGracePeriodSeconds ?? 30;
      const dumpBytes = 1.2 * 1536 * 2 ** 20;
      const need = dumpBytes / (rate * 1e6) + dumpBytes / (ANALYSIS_MBPS * 1e6);
      assert.ok(grace >= need, `${grace} s at ${rate} MB/s, ${need} s needed`);
    }
  });

  test('a longer user grace period is kept; a shorter one is raised with a warning', () => {
    assert.equal(
      pod(renderDeployment(inputs({}, { terminationGracePeriodSeconds: 600 }))).terminationGracePeriodSeconds,
      600,
    );
    const r = renderDeployment(inputs({}, { terminationGracePeriodSeconds: 5 }));
    assert.ok((pod(r).terminationGracePeriodSeconds ?? 0) > 5);
    assert.ok(r.warnings.some((w) => w.startsWith('terminationGracePeriodSeconds:')));
  });

  test('a liveness probe that gives up before a dump is written warns; a patient one does not', () => {
    const big = { resources: { limits: { memory: '24Gi' } }, args: ['-Xmx16g'] };
    const hasty = renderDeployment(
      inputs(
        {},
        {
          ...big,
          livenessProbe: { httpGetPath: '/health', port: 8080, periodSeconds: 10, failureThreshold: 3 },
        },
      ),
    );
    assert.ok(
      hasty.warnings.some((w) => w.startsWith('livenessProbe:')),
      hasty.warnings.join('\n'),
    );
    const patient = renderDeployment(
      inputs(
        {},
        {
          ...big,
          livenessProbe: { httpGetPath: '/health', port: 8080, periodSeconds: 30, failureThreshold: 10 },
        },
      ),
    );
    assert.deepEqual(
      patient.warnings.filter((w) => w.startsWith('livenessProbe')),
      [],
    );
    assert.deepEqual(appContainer(patient).livenessProbe, {
      httpGet: { path: '/health', port: 8080 },
      periodSeconds: 30,
      failureThreshold: 10,
    });
  });

  test('a probe without a handler is refused', () => {
    argsError(() => renderDeployment(inputs({}, { readinessProbe: { periodSeconds: 5 } })), 'readinessProbe');
  });
});
