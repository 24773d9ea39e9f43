// The pure core: heap dumps added to a plain core/v1 PodSpec. Adds the dump volume, its mount in the target
// Java containers, JAVA_TOOL_OPTIONS appended to what they have, the uploader sidecar, the identity's pod
// annotations and the grace period; every other field is returned as given. Refuses, naming the field and
// the fix, what would lose dumps or collide with the additions.

import { formatMi, parseQuantity } from '@kube-heapdump/contract';
import type * as pulumi from '@pulumi/pulumi';
import type { HeapDumpsArgs, WorkloadKind } from './args.ts';
import { FieldError, fieldPath, podPlace } from './errors.ts';
import {
  checkJvmCommandLine,
  errorFileOverriddenWarning,
  heapDumpJvmFlags,
  mountPathOf,
  notJvmWarning,
  withJavaToolOptions,
} from './jvm.ts';
import type { Container, PodSpec, PodTemplateSpec, Probe } from './k8s-types.ts';
import { DUMP_VOLUME, KUBE_API_VOLUME, SKIP_CONTAINERS_ANNOTATION, UPLOADER_CONTAINER } from './names.ts';
import { computeSizing, DUMP_WRITE_MBPS, type JvmContainer, type Sizing } from './sizing.ts';
import {
  AWS_TOKEN_VOLUME,
  awsTokenVolume,
  checkRedact,
  checkUploader,
  eventsWanted,
  kubeApiVolume,
  type UploaderPod,
  type UploaderSetup,
  uploaderContainer,
  uploaderSecurityContext,
} from './uploader-container.ts';
import { defaultHeapFlags, memoryThresholdOf, watchdogJvmFlags } from './watchdog.ts';

export interface HeapDumpOptions extends UploaderSetup {
  heapDumps: pulumi.Unwrap<HeapDumpsArgs>;
  /** The kind of workload the pod belongs to: Jobs and CronJobs need the native sidecar. Default Deployment. */
  kind?: WorkloadKind | undefined;
  /** Path of the pod spec in the user's arguments (`podTemplate.spec`); default none. */
  field?: string | undefined;
  /** Path of the template's pod spec, for addHeapDumpsToTemplate; default `<field>.spec`. */
  specField?: string | undefined;
  /** Path of one container in the user's arguments; default `<field>.containers[<i>]`. */
  containerField?: ((index: number) => string) | undefined;
}

/** The uploader's store settings: the one part of the pod that waits for the bucket and the identity. */
export type StoreWiring = Pick<UploaderSetup, 'appName' | 'target' | 'credentials'>;

/** HeapDumpOptions but the store settings. */
export type PodOptions = Omit<HeapDumpOptions, keyof StoreWiring>;

/**
 * A pod's heap dumps decided, checked and sized once; `wire` adds what depends on the store settings (the
 * uploader's environment and credentials, the token volume, the identity's annotations) and the
 * ServiceAccount (set when the pod names none).
 */
export interface PreparedPod {
  sizing: Sizing;
  warnings: string[];
  wire(
    store: StoreWiring,
    serviceAccountName?: string,
  ): { spec: PodSpec; annotations: Record<string, string> };
}

export interface HeapDumpsAdded {
  spec: PodSpec;
  /** Pod annotations the identity needs (to merge into the template's metadata). */
  annotations: Record<string, string>;
  sizing: Sizing;
  warnings: string[];
}

/** `podSpec` with heap dumps; see addHeapDumpsToPodSpec for the annotations, sizing and warnings. */
export function addHeapDumps(podSpec: PodSpec, options: HeapDumpOptions): PodSpec {
  return addHeapDumpsToPodSpec(podSpec, options).spec;
}

/** The template's pod spec; a template without one is refused, naming `<field>.spec`. */
export function templateSpec(template: PodTemplateSpec, field: string): PodSpec {
  if (!template.spec)
    throw new FieldError(fieldPath(field, 'spec'), 'is required: the pod template has no spec');
  return template.spec;
}

/** A pod template with heap dumps: the spec as addHeapDumps makes it, the identity's annotations merged in. */
export function addHeapDumpsToTemplate(
  template: PodTemplateSpec,
  options: HeapDumpOptions,
): { template: PodTemplateSpec } & Omit<HeapDumpsAdded, 'spec'> {
  const prepared = prepareTemplate(template, options);
  return { ...prepared.wire(options), sizing: prepared.sizing, warnings: prepared.warnings };
}

/** A template's heap dumps prepared (see PreparedPod); `wire` may also give the pods the `app` label. */
export function prepareTemplate(
  template: PodTemplateSpec,
  options: PodOptions,
): {
  sizing: Sizing;
  warnings: string[];
  wire(
    store: StoreWiring,
    pod?: { serviceAccountName?: string | undefined; appLabel?: string | undefined },
  ): { template: PodTemplateSpec; annotations: Record<string, string> };
} {
  const field = options.field ?? '';
  const prepared = preparePodSpec(templateSpec(template, field), {
    ...options,
    field: options.specField ?? fieldPath(field, 'spec'),
  });
  return {
    sizing: prepared.sizing,
    warnings: prepared.warnings,
    wire(store, pod = {}) {
      const { spec, annotations } = prepared.wire(store, pod.serviceAccountName);
      const metadata = { ...(template.metadata ?? {}) };
      if (pod.appLabel !== undefined) metadata.labels = { ...(metadata.labels ?? {}), app: pod.appLabel };
      if (Object.keys(annotations).length > 0) {
        metadata.annotations = { ...(metadata.annotations ?? {}), ...annotations };
      }
      return {
        template: { ...template, ...(Object.keys(metadata).length > 0 ? { metadata } : {}), spec },
        annotations,
      };
    },
  };
}

/** The Java containers heap dumps are for: `heapDumps.containers`, or the only container. */
function targetIndexes(spec: PodSpec, wanted: readonly string[] | undefined, field: string): number[] {
  const names = spec.containers.map((c) => c.name);
  if (wanted === undefined || wanted.length === 0) {
    if (names.length === 1) return [0];
    throw new FieldError(
      'heapDumps.containers',
      `${podPlace(field)} has ${names.length} containers (${names.join(', ')}) and none is named: list the Java ` +
        'container(s) that should write heap dumps',
    );
  }
  return wanted.map((name) => {
    const i = names.indexOf(name);
    if (i < 0) {
      throw new FieldError(
        'heapDumps.containers',
        `"${name}" is not a container of ${podPlace(field)}; its containers are ${names.join(', ')}`,
      );
    }
    return i;
  });
}

/** Every container needs an image (the API server refuses the workload without one, after our resources exist). */
function checkImages(spec: PodSpec, field: string, containerField: (i: number) => string): void {
  for (const [key, list] of [
    ['containers', spec.containers],
    ['initContainers', spec.initContainers ?? []],
  ] as const) {
    for (const [i, c] of list.entries()) {
      if (!c.image) {
        const path = key === 'containers' ? containerField(i) : fieldPath(field, `${key}[${i}]`);
        throw new FieldError(fieldPath(path, 'image'), `is required: container "${c.name}" has no image`);
      }
    }
  }
}

/** Refuses user objects that collide with ours or would keep dumps from the volume. */
function checkConflicts(
  spec: PodSpec,
  targets: readonly JvmContainer[],
  mountPath: string,
  field: string,
): void {
  for (const [key, list] of [
    ['containers', spec.containers],
    ['initContainers', spec.initContainers ?? []],
  ] as const) {
    for (const [i, c] of list.entries()) {
      if (c.name === UPLOADER_CONTAINER) {
        throw new FieldError(
          fieldPath(field, `${key}[${i}]`, 'name'),
          `"${UPLOADER_CONTAINER}" is the uploader's name; rename your container`,
        );
      }
    }
  }
  for (const [i, v] of (spec.volumes ?? []).entries()) {
    if (v.name === DUMP_VOLUME || v.name === AWS_TOKEN_VOLUME || v.name === KUBE_API_VOLUME) {
      throw new FieldError(
        fieldPath(field, `volumes[${i}]`, 'name'),
        `"${v.name}" is the name of a volume heap dumps add; rename your volume`,
      );
    }
  }
  const under = (path: string) =>
    path === mountPath || path.startsWith(`${mountPath}/`) || mountPath.startsWith(`${path}/`);
  for (const { container, field: cf } of targets) {
    for (const [j, m] of (container.volumeMounts ?? []).entries()) {
      if (!under(m.mountPath.replace(/\/+$/, ''))) continue;
      const volume = spec.volumes?.find((v) => v.name === m.name);
      if (volume?.emptyDir?.medium === 'Memory') {
        throw new FieldError(
          fieldPath(cf, `volumeMounts[${j}]`),
          `${m.name} is an emptyDir with medium: Memory at the dump path ${mountPath}: a dump there counts ` +
            'against the memory limit and the pod is killed before it is stored; remove the mount or set ' +
            'heapDumps.mountPath elsewhere',
        );
      }
      throw new FieldError(
        fieldPath(cf, `volumeMounts[${j}]`),
        `${m.name} is mounted at ${m.mountPath}, over the dump path ${mountPath}; remove the mount or set ` +
          'heapDumps.mountPath elsewhere',
      );
    }
  }
}

/** Warns when the liveness probe gives up sooner than a full dump takes: the kubelet would kill the JVM mid-dump. */
function checkLiveness(p: Probe | undefined, field: string, sizing: Sizing, warnings: string[]): void {
  if (p === undefined) return;
  const window = (p.failureThreshold ?? 3) * (p.periodSeconds ?? 10);
  if (window < sizing.expectedDumpSeconds) {
    warnings.push(
      `${fieldPath(field, 'livenessProbe')}: failureThreshold x periodSeconds = ${window} s, but writing a ${formatMi(sizing.maxDumpBytes)} ` +
        `dump takes about ${sizing.expectedDumpSeconds} s (at ${DUMP_WRITE_MBPS} MB/s) while the JVM answers ` +
        `nothing: the kubelet would kill it mid-dump and no dump survives. Allow at least ${sizing.expectedDumpSeconds} s`,
    );
  }
}

/** The UID and GID the target JVMs run as, when all of them declare the same. */
function jvmIds(
  spec: PodSpec,
  targets: readonly JvmContainer[],
): { uid: number | undefined; gid: number | undefined } {
  const uids = new Set(
    targets.map((t) => t.container.securityContext?.runAsUser ?? spec.securityContext?.runAsUser),
  );
  const gids = new Set(
    targets.map((t) => t.container.securityContext?.runAsGroup ?? spec.securityContext?.runAsGroup),
  );
  const [uid] = uids;
  const [gid] = gids;
  return {
    uid: uids.size === 1 ? uid : undefined,
    gid: uids.size === 1 && gids.size === 1 ? gid : undefined,
  };
}

/** `podSpec` with heap dumps, the pod annotations the identity needs, the sizing and the warnings. */
export function addHeapDumpsToPodSpec(podSpec: PodSpec, options: HeapDumpOptions): HeapDumpsAdded {
  const prepared = preparePodSpec(podSpec, options);
  return { ...prepared.wire(options), sizing: prepared.sizing, warnings: prepared.warnings };
}

/** `podSpec`'s heap dumps decided, checked and sized; see PreparedPod. */
export function preparePodSpec(podSpec: PodSpec, options: PodOptions): PreparedPod {
  const field = options.field ?? '';
  const containerField = options.containerField ?? ((i: number) => fieldPath(field, `containers[${i}]`));
  const warnings: string[] = [];
  if (!Array.isArray(podSpec.containers) || podSpec.containers.length === 0) {
    throw new FieldError(fieldPath(field, 'containers'), 'the pod has no containers');
  }
  const sidecar = checkUploader(options.uploader);
  const kind = options.kind ?? 'Deployment';
  if (sidecar === 'classic' && (kind === 'Job' || kind === 'CronJob')) {
    throw new FieldError(
      'uploader.sidecar',
      `a classic sidecar never exits, so a ${kind}'s pod would never complete; use the native sidecar ` +
        '(Kubernetes 1.29+), which the kubelet stops once the JVM has exited',
    );
  }
  const mountPath = mountPathOf(options.heapDumps);
  const threshold = memoryThresholdOf(options.heapDumps);
  const extra = options.heapDumps.extraJvmFlags ?? [];
  const flags = [
    ...heapDumpJvmFlags({ ...options.heapDumps, extraJvmFlags: [] }),
    ...watchdogJvmFlags(options.heapDumps, options.uploader, mountPath, warnings),
  ];
  const indexes = targetIndexes(podSpec, options.heapDumps.containers, field);
  // Per container: ours, a default heap size that leaves room (sizing sees it, as the JVM will), the user's
  // extra flags last (they win).
  const flagsOf = new Map(
    indexes.map((i) => {
      const c = podSpec.containers[i] as Container;
      const limit = parseQuantity((c.resources?.limits?.memory as string | undefined) ?? '');
      return [i, [...flags, ...defaultHeapFlags(c, extra, limit, threshold), ...extra]];
    }),
  );
  const targets: JvmContainer[] = indexes.map((i) => {
    const c = podSpec.containers[i] as Container;
    const env = withJavaToolOptions(
      c.env ?? [],
      flagsOf.get(i) ?? flags,
      fieldPath(containerField(i), 'env'),
    );
    return { container: { ...c, env }, field: containerField(i) };
  });
  checkImages(podSpec, field, containerField);
  checkConflicts(podSpec, targets, mountPath, field);
  for (const [n, t] of targets.entries()) {
    checkJvmCommandLine(t.container, t.field, mountPath);
    const original = podSpec.containers[indexes[n] as number] as Container;
    const errorFile = errorFileOverriddenWarning(original, t.field, mountPath);
    if (errorFile !== undefined) warnings.push(errorFile);
    // Only where a container was chosen among several: a one-container pod has no other to name. Judged on
    // the user's container, before our JAVA_TOOL_OPTIONS.
    const notJvm = podSpec.containers.length > 1 ? notJvmWarning(original, t.field) : undefined;
    if (notJvm !== undefined) warnings.push(notJvm);
  }

  const sizing = computeSizing(
    targets,
    podSpec.terminationGracePeriodSeconds,
    options.heapDumps,
    options.uploader,
    warnings,
    fieldPath(field, 'terminationGracePeriodSeconds'),
  );
  for (const t of targets) checkLiveness(t.container.livenessProbe, t.field, sizing, warnings);

  const mount = { name: DUMP_VOLUME, mountPath };
  const containers = podSpec.containers.map((c, i) =>
    indexes.includes(i)
      ? {
          ...c,
          env: withJavaToolOptions(c.env ?? [], flagsOf.get(i) ?? flags, fieldPath(containerField(i), 'env')),
          volumeMounts: [...(c.volumeMounts ?? []), mount],
        }
      : c,
  );
  const ids = jvmIds(podSpec, targets);
  const pod: UploaderPod = {
    mountPath,
    graceSeconds: sizing.terminationGracePeriodSeconds,
    maxDumpBytes: parseQuantity(sizing.sizeLimit) ?? sizing.maxDumpBytes,
    ownerUid: ids.uid,
    redact: checkRedact(options.heapDumps.redact),
  };
  const securityContext = uploaderSecurityContext(ids, warnings);

  const wire: PreparedPod['wire'] = (store, serviceAccountName) => {
    const credentials = store.credentials;
    const uploader = uploaderContainer({ ...options, ...store }, pod, securityContext);
    const base =
      serviceAccountName !== undefined && podSpec.serviceAccountName === undefined
        ? { ...podSpec, serviceAccountName }
        : podSpec;
    const spec: PodSpec = {
      ...base,
      containers: sidecar === 'classic' ? [...containers, uploader] : containers,
      volumes: [
        ...(podSpec.volumes ?? []),
        { name: DUMP_VOLUME, emptyDir: { sizeLimit: sizing.sizeLimit } },
        ...(credentials.kind === 'webIdentity' && credentials.roleArn !== undefined
          ? [awsTokenVolume()]
          : []),
        ...(eventsWanted(options.uploader) ? [kubeApiVolume()] : []),
      ],
      terminationGracePeriodSeconds: sizing.terminationGracePeriodSeconds,
    };
    // The native sidecar goes first among init containers: it is up before the user's init containers run.
    if (sidecar === 'native')
      spec.initContainers = [{ ...uploader, restartPolicy: 'Always' }, ...(podSpec.initContainers ?? [])];

    const annotations: Record<string, string> = {};
    if (credentials.kind === 'webIdentity') {
      // The EKS identity webhook injects credentials into every container unless told otherwise (a pod
      // annotation, not a ServiceAccount one): only the uploader gets them.
      const others = [...(podSpec.initContainers ?? []), ...podSpec.containers].map((c) => c.name);
      annotations[SKIP_CONTAINERS_ANNOTATION] = others.join(',');
    }
    return { spec, annotations };
  };
  return { sizing, warnings, wire };
}
