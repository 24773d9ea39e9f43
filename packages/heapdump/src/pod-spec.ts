// The pure core of the component: from plain (resolved) arguments to the Deployment spec, with every rule
// about the pod in one place: JVM flags, the dump volume and its size, the uploader sidecar, its identity and
// security context, the grace period. Throws ArgsError naming the field for arguments that cannot work, and
// returns warnings for those that might not.

import { COMPRESSIONS, POD_FIELD_ENV, UPLOADER_DEFAULTS, uploaderEnvValues } from '@kube-heapdump/contract';
import type * as k8s from '@pulumi/kubernetes';
import type * as pulumi from '@pulumi/pulumi';
import type {
  EnvVarArgs,
  HeapDumpEnabledAppArgs,
  HeapDumpsArgs,
  ProbeArgs,
  ResourcesArgs,
  UploaderArgs,
} from './args.ts';
import { formatMi, maxHeapBytes, parseQuantity, readHeapFlags, splitOptions } from './sizes.ts';

export type DeploymentSpec = pulumi.Unwrap<k8s.types.input.apps.v1.DeploymentSpec>;
type Container = pulumi.Unwrap<k8s.types.input.core.v1.Container>;
type EnvVar = pulumi.Unwrap<k8s.types.input.core.v1.EnvVar>;
type Probe = pulumi.Unwrap<k8s.types.input.core.v1.Probe>;
type Resources = pulumi.Unwrap<k8s.types.input.core.v1.ResourceRequirements>;
type SecurityContext = pulumi.Unwrap<k8s.types.input.core.v1.SecurityContext>;

/** An argument that cannot work, with the argument's path (`heapDumps.sizeLimit`). */
export class ArgsError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'ArgsError';
    this.field = field;
  }
}

/** The plain app arguments the pod is built from (storage and identity are resolved separately). */
export type AppSettings = pulumi.Unwrap<
  Omit<HeapDumpEnabledAppArgs, 'storage' | 'identity' | 'heapDumps' | 'uploader'>
>;

/** Where the uploader puts dumps: the uploader's S3 settings. */
export interface UploadTarget {
  bucket: string;
  prefix: string;
  endpoint?: string | undefined;
  region: string;
  forcePathStyle: boolean;
  checksums: boolean;
}

/** How the uploader authenticates, as the pod sees it. */
export type UploaderCredentials =
  | { kind: 'secret'; secretName: string; accessKeyIdKey: string; secretAccessKeyKey: string }
  | { kind: 'webIdentity' };

export interface PodInputs {
  appName: string;
  app: AppSettings;
  heapDumps: pulumi.Unwrap<HeapDumpsArgs>;
  uploader: pulumi.Unwrap<UploaderArgs>;
  target: UploadTarget;
  credentials: UploaderCredentials;
  serviceAccountName?: string | undefined;
  /** The uploader image when `uploader.image` is not given (registry already applied). */
  defaultUploaderImage: string;
}

export interface Sizing {
  /** The JVM's maximum heap, when known. */
  maxHeapBytes: number | undefined;
  /** The largest dump the volume must hold (1.2 x heap, or the given sizeLimit). */
  maxDumpBytes: number;
  sizeLimit: string;
  terminationGracePeriodSeconds: number;
  /** How long writing a full dump takes at DUMP_WRITE_MBPS. */
  expectedDumpSeconds: number;
}

export interface RenderedDeployment {
  spec: DeploymentSpec;
  sizing: Sizing;
  warnings: string[];
}

export const DUMP_VOLUME = 'heapdumps';
export const UPLOADER_CONTAINER = 'heapdump-uploader';
export const DEFAULT_MOUNT_PATH = UPLOADER_DEFAULTS.dir;
/** HPROF of a heap is about the heap's size; 1.2 x leaves room for identifiers and records (ARCHITECTURE). */
export const DUMP_FACTOR = 1.2;
/** JDK 22+ parallel dumps hold the pieces and the merged file at once. */
export const PARALLEL_DUMP_FACTOR = 2.2;
/**
 * By default the volume holds two dumps: the one still uploading and the next one, written when the restarted
 * JVM runs out of memory again before that upload ends (a crash loop: the pod simulation hit exactly this,
 * and a volume sized for one dump got the pod evicted). A limit, not a reservation: disk is used as written.
 */
export const DEFAULT_VOLUME_FACTOR = DUMP_FACTOR + DUMP_FACTOR;
export const DEFAULT_PARALLEL_VOLUME_FACTOR = DUMP_FACTOR + PARALLEL_DUMP_FACTOR;
/** Upload rate assumed for the grace period when `uploader.uploadRateMBps` is not given. */
export const DEFAULT_UPLOAD_MBPS = 50;
/** A conservative rate for a paused JVM writing its dump to node disk (measured 250-400 MB/s on local SSD). */
export const DUMP_WRITE_MBPS = 100;
/**
 * Rate of the uploader's analysis for the summary (SHA-256 and class histogram, after the object is stored);
 * measured ~480 MB/s on one core here, a quarter of that assumed for a busy node.
 */
export const ANALYSIS_MBPS = 120;
/** Seconds the uploader needs beyond the transfer and the analysis: completing, verifying, the summary PUT. */
const GRACE_BASE_SECONDS = 30;
/** A heap above this share of the memory limit leaves too little for metaspace, threads and buffers. */
const MAX_HEAP_SHARE = 0.8;

/** Keys of the access key in the Secret, ours or an existing one by default. */
export const SECRET_KEY_DEFAULTS = {
  accessKeyIdKey: 'AWS_ACCESS_KEY_ID',
  secretAccessKeyKey: 'AWS_SECRET_ACCESS_KEY',
};

/** The flags the component adds to JAVA_TOOL_OPTIONS. */
export function heapDumpJvmFlags(heapDumps: pulumi.Unwrap<HeapDumpsArgs>): string[] {
  const flags = ['-XX:+HeapDumpOnOutOfMemoryError', `-XX:HeapDumpPath=${mountPathOf(heapDumps)}`];
  if ((heapDumps.onOutOfMemory ?? 'exit') === 'exit') flags.push('-XX:+ExitOnOutOfMemoryError');
  flags.push(...(heapDumps.extraJvmFlags ?? []));
  return flags;
}

function mountPathOf(heapDumps: pulumi.Unwrap<HeapDumpsArgs>): string {
  const path = heapDumps.mountPath ?? DEFAULT_MOUNT_PATH;
  if (!path.startsWith('/') || /\s/.test(path)) {
    throw new ArgsError('heapDumps.mountPath', `"${path}" must be an absolute path without spaces`);
  }
  return path;
}

/**
 * The app container's env with JAVA_TOOL_OPTIONS appended to. A literal user value is extended in place;
 * a value from a Secret, ConfigMap or field is moved to HEAPDUMP_APP_JAVA_TOOL_OPTIONS and referenced as
 * `$(HEAPDUMP_APP_JAVA_TOOL_OPTIONS)`, which the kubelet expands, so it is kept too.
 */
export function appEnv(env: readonly pulumi.Unwrap<EnvVarArgs>[], flags: readonly string[]): EnvVar[] {
  const ours = flags.join(' ');
  const out: EnvVar[] = [];
  let found = false;
  for (const [i, e] of env.entries()) {
    const rendered = envVar(e, `env[${i}]`);
    if (e.name !== 'JAVA_TOOL_OPTIONS') {
      out.push(rendered);
      continue;
    }
    if (found) throw new ArgsError(`env[${i}]`, 'JAVA_TOOL_OPTIONS is given twice');
    found = true;
    if (rendered.valueFrom === undefined) {
      out.push({ name: 'JAVA_TOOL_OPTIONS', value: [e.value, ours].filter((v) => v).join(' ') });
    } else {
      out.push({ ...rendered, name: 'HEAPDUMP_APP_JAVA_TOOL_OPTIONS' });
      out.push({ name: 'JAVA_TOOL_OPTIONS', value: `$(HEAPDUMP_APP_JAVA_TOOL_OPTIONS) ${ours}` });
    }
  }
  if (!found) out.push({ name: 'JAVA_TOOL_OPTIONS', value: ours });
  return out;
}

function envVar(e: pulumi.Unwrap<EnvVarArgs>, field: string): EnvVar {
  const sources = [e.value, e.secretKeyRef, e.configMapKeyRef, e.fieldPath].filter((v) => v !== undefined);
  if (sources.length > 1) {
    throw new ArgsError(
      field,
      `${e.name} has more than one of value, secretKeyRef, configMapKeyRef, fieldPath`,
    );
  }
  if (e.secretKeyRef) return { name: e.name, valueFrom: { secretKeyRef: { ...e.secretKeyRef } } };
  if (e.configMapKeyRef) return { name: e.name, valueFrom: { configMapKeyRef: { ...e.configMapKeyRef } } };
  if (e.fieldPath) return { name: e.name, valueFrom: { fieldRef: { fieldPath: e.fieldPath } } };
  return { name: e.name, value: e.value ?? '' };
}

function probe(p: pulumi.Unwrap<ProbeArgs> | undefined, field: string): Probe | undefined {
  if (p === undefined) return undefined;
  const handlers = [p.httpGetPath !== undefined, p.exec !== undefined].filter(Boolean).length;
  if (handlers > 1) throw new ArgsError(field, 'give httpGetPath or exec, not both');
  if (handlers === 0 && p.port === undefined)
    throw new ArgsError(field, 'give httpGetPath and port, port, or exec');
  if (p.httpGetPath !== undefined && p.port === undefined)
    throw new ArgsError(field, 'httpGetPath needs a port');
  const out: Probe = {};
  if (p.httpGetPath !== undefined) out.httpGet = { path: p.httpGetPath, port: p.port as number };
  else if (p.exec !== undefined) out.exec = { command: p.exec };
  else out.tcpSocket = { port: p.port as number };
  for (const k of [
    'initialDelaySeconds',
    'periodSeconds',
    'timeoutSeconds',
    'failureThreshold',
    'successThreshold',
  ] as const) {
    if (p[k] !== undefined) out[k] = p[k];
  }
  return out;
}

function resources(r: pulumi.Unwrap<ResourcesArgs> | undefined): Resources | undefined {
  if (r === undefined) return undefined;
  const out: Resources = {};
  if (r.requests) out.requests = { ...r.requests };
  if (r.limits) out.limits = { ...r.limits };
  return out;
}

function quantityOf(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  const bytes = parseQuantity(text);
  if (bytes === undefined || bytes <= 0)
    throw new ArgsError(field, `"${text}" is not a size like 512Mi or 2Gi`);
  return bytes;
}

/** Option words in the order the JVM reads them, from what the pod spec shows. */
function jvmOptionWords(app: AppSettings): string[] {
  const literal = (name: string) => app.env?.find((e) => e.name === name)?.value ?? '';
  return [
    ...splitOptions(literal('JAVA_TOOL_OPTIONS')),
    ...splitOptions(literal('JDK_JAVA_OPTIONS')),
    ...(app.command ?? []),
    ...(app.args ?? []),
  ];
}

/** The heap, volume size, grace period and dump time; ArgsError when the volume cannot be sized safely. */
export function computeSizing(
  app: AppSettings,
  heapDumps: pulumi.Unwrap<HeapDumpsArgs>,
  uploader: pulumi.Unwrap<UploaderArgs>,
  warnings: string[],
): Sizing {
  const memoryLimit = quantityOf(app.resources?.limits?.memory, 'resources.limits.memory');
  let flags: ReturnType<typeof readHeapFlags>;
  try {
    flags = readHeapFlags(jvmOptionWords(app));
  } catch (e) {
    throw new ArgsError('env JAVA_TOOL_OPTIONS / command / args', (e as Error).message);
  }
  const given = quantityOf(heapDumps.maxHeap, 'heapDumps.maxHeap');
  const heap = given ?? maxHeapBytes(flags, memoryLimit);

  if (heap !== undefined && memoryLimit !== undefined) {
    if (heap >= memoryLimit) {
      throw new ArgsError(
        'resources.limits.memory',
        `${app.resources?.limits?.memory} leaves no room above the ${formatMi(heap)} heap: the kernel kills the ` +
          'container (exit 137) before the JVM can write a dump; raise the limit or lower -Xmx',
      );
    }
    if (heap > memoryLimit * MAX_HEAP_SHARE) {
      warnings.push(
        `resources.limits.memory: the ${formatMi(heap)} heap is over ${MAX_HEAP_SHARE * 100}% of the ` +
          `${app.resources?.limits?.memory} limit; metaspace, threads and buffers may push the container over it ` +
          'and the kernel kills it without a dump',
      );
    }
  }

  const oneDump = heapDumps.parallelDumps ? PARALLEL_DUMP_FACTOR : DUMP_FACTOR;
  const twoDumps = heapDumps.parallelDumps ? DEFAULT_PARALLEL_VOLUME_FACTOR : DEFAULT_VOLUME_FACTOR;
  const explicit = quantityOf(heapDumps.sizeLimit, 'heapDumps.sizeLimit');
  let sizeLimitBytes: number;
  if (heap === undefined) {
    if (explicit === undefined) {
      throw new ArgsError(
        'heapDumps.maxHeap',
        'cannot size the dump volume: the heap is unknown. Set resources.limits.memory, -Xmx in ' +
          'JAVA_TOOL_OPTIONS or args, heapDumps.maxHeap, or heapDumps.sizeLimit',
      );
    }
    sizeLimitBytes = explicit;
  } else {
    const needed = Math.ceil(heap * oneDump);
    if (explicit !== undefined && explicit < needed) {
      throw new ArgsError(
        'heapDumps.sizeLimit',
        `${heapDumps.sizeLimit} is below ${oneDump} x the ${formatMi(heap)} heap (${formatMi(needed)}): a full dump ` +
          'would overflow it and the kubelet evicts the pod',
      );
    }
    const comfortable = Math.ceil(heap * twoDumps);
    if (explicit !== undefined && explicit < comfortable) {
      warnings.push(
        `heapDumps.sizeLimit: ${heapDumps.sizeLimit} holds one dump but not two (${formatMi(comfortable)}): if the ` +
          'restarted JVM dumps again while the previous dump is still uploading, the kubelet evicts the pod',
      );
    }
    sizeLimitBytes = explicit ?? comfortable;
  }
  const maxDumpBytes = heap === undefined ? sizeLimitBytes : Math.ceil(heap * DUMP_FACTOR);

  const rate = uploader.uploadRateMBps ?? DEFAULT_UPLOAD_MBPS;
  if (!(rate > 0)) throw new ArgsError('uploader.uploadRateMBps', `${rate} must be a positive number`);
  const needGrace =
    GRACE_BASE_SECONDS + Math.ceil(maxDumpBytes / (rate * 1e6) + maxDumpBytes / (ANALYSIS_MBPS * 1e6));
  const userGrace = app.terminationGracePeriodSeconds;
  if (userGrace !== undefined && userGrace < needGrace) {
    warnings.push(
      `terminationGracePeriodSeconds: raised from ${userGrace} to ${needGrace} s so the uploader can finish a ` +
        `${formatMi(maxDumpBytes)} dump at ${rate} MB/s and its summary when the pod stops`,
    );
  }
  return {
    maxHeapBytes: heap,
    maxDumpBytes,
    sizeLimit: formatMi(sizeLimitBytes),
    terminationGracePeriodSeconds: Math.max(userGrace ?? 0, needGrace),
    expectedDumpSeconds: Math.ceil(maxDumpBytes / (DUMP_WRITE_MBPS * 1e6)),
  };
}

/** Warns when the liveness probe gives up sooner than a full dump takes: the kubelet would kill the JVM mid-dump. */
function checkLiveness(p: pulumi.Unwrap<ProbeArgs> | undefined, sizing: Sizing, warnings: string[]): void {
  if (p === undefined) return;
  const window = (p.failureThreshold ?? 3) * (p.periodSeconds ?? 10);
  if (window < sizing.expectedDumpSeconds) {
    warnings.push(
      `livenessProbe: failureThreshold x periodSeconds = ${window} s, but writing a ${formatMi(sizing.maxDumpBytes)} ` +
        `dump takes about ${sizing.expectedDumpSeconds} s (at ${DUMP_WRITE_MBPS} MB/s) while the JVM answers ` +
        `nothing: the kubelet would kill it mid-dump and no dump survives. Allow at least ${sizing.expectedDumpSeconds} s`,
    );
  }
}

/** The JVM's command line must not move the dump elsewhere or turn it off: it wins over JAVA_TOOL_OPTIONS. */
function checkCommandLine(app: AppSettings): void {
  for (const field of ['command', 'args'] as const) {
    for (const word of app[field] ?? []) {
      if (word.startsWith('-XX:HeapDumpPath=') || word === '-XX:-HeapDumpOnOutOfMemoryError') {
        throw new ArgsError(
          field,
          `"${word}" overrides the component's heap dump flags (the command line wins over JAVA_TOOL_OPTIONS); remove it`,
        );
      }
    }
  }
}

/**
 * The uploader's security context. It must read dumps the JVM writes with mode 0600, so it runs with the
 * app's UID. When that UID is not declared (the image's USER decides it), it runs as root with every
 * capability dropped except DAC_READ_SEARCH (read any file, write none it does not own), and says so.
 */
function uploaderSecurityContext(app: AppSettings, warnings: string[]): SecurityContext {
  const base: SecurityContext = {
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    seccompProfile: { type: 'RuntimeDefault' },
  };
  const uid = app.securityContext?.runAsUser ?? app.podSecurityContext?.runAsUser;
  const gid = app.securityContext?.runAsGroup ?? app.podSecurityContext?.runAsGroup;
  if (uid !== undefined) {
    return {
      ...base,
      runAsUser: uid,
      ...(gid !== undefined ? { runAsGroup: gid } : {}),
      runAsNonRoot: uid !== 0,
      capabilities: { drop: ['ALL'] },
    };
  }
  warnings.push(
    'securityContext.runAsUser: the app UID is not declared, so the uploader runs as root with all capabilities ' +
      'dropped but DAC_READ_SEARCH, to read the 0600 dumps the JVM writes. Declare the UID your image runs as ' +
      '(securityContext.runAsUser or podSecurityContext.runAsUser) to run the uploader as that UID instead; ' +
      'namespaces enforcing the "restricted" Pod Security Standard refuse the root uploader',
  );
  return {
    ...base,
    runAsUser: 0,
    runAsNonRoot: false,
    capabilities: { drop: ['ALL'], add: ['DAC_READ_SEARCH'] },
  };
}

/** Seconds the pod's grace period leaves the kubelet after the uploader has stopped on its own. */
const SHUTDOWN_MARGIN_SECONDS = 5;

/** The uploader's environment: the contract's variables for these settings, pod facts, credentials. */
export function uploaderEnv(inputs: PodInputs, mountPath: string, graceSeconds: number): EnvVar[] {
  const { target, uploader, credentials } = inputs;
  const D = UPLOADER_DEFAULTS;
  const { checksums, ...store } = target;
  const env: EnvVar[] = uploaderEnvValues({
    ...store,
    endpoint: target.endpoint,
    // Without CRC32 headers (stores that refuse them) parts still carry Content-MD5, which every store checks.
    checksum: checksums ? D.checksum : 'md5',
    concurrency: D.concurrency,
    bufferMiB: D.bufferMiB,
    timeoutSeconds: D.timeoutSeconds,
    shutdownSeconds: Math.max(1, graceSeconds - SHUTDOWN_MARGIN_SECONDS),
    dir: mountPath,
    compression: uploader.compression ?? D.compression,
    // Always on here: the JVM cannot write java_pid<pid>.hprof again while the old file is there.
    deleteAfterUpload: true,
    quietSeconds: uploader.quietSeconds ?? D.quietSeconds,
    metricsPort: uploader.metricsPort ?? D.metricsPort,
    logLevel: D.logLevel,
    app: inputs.appName,
  });
  for (const { name, fieldPath } of POD_FIELD_ENV) env.push({ name, valueFrom: { fieldRef: { fieldPath } } });
  if (credentials.kind === 'secret') {
    env.push(
      {
        name: 'AWS_ACCESS_KEY_ID',
        valueFrom: { secretKeyRef: { name: credentials.secretName, key: credentials.accessKeyIdKey } },
      },
      {
        name: 'AWS_SECRET_ACCESS_KEY',
        valueFrom: { secretKeyRef: { name: credentials.secretName, key: credentials.secretAccessKeyKey } },
      },
    );
  }
  return env;
}

function checkNumber(value: number | undefined, field: string, min: number, max: number): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= min && value <= max)) {
    throw new ArgsError(field, `${value} must be a whole number from ${min} to ${max}`);
  }
}

/** The Deployment spec of a heap-dump-enabled Java app. */
export function renderDeployment(inputs: PodInputs): RenderedDeployment {
  const { app, heapDumps, uploader, appName } = inputs;
  const warnings: string[] = [];
  if (!app.image) throw new ArgsError('image', 'is required: the Java app image');
  checkNumber(app.replicas, 'replicas', 0, 10_000);
  checkNumber(uploader.metricsPort, 'uploader.metricsPort', 0, 65_535);
  checkNumber(uploader.quietSeconds, 'uploader.quietSeconds', 1, 86_400);
  if (
    uploader.compression !== undefined &&
    !(COMPRESSIONS as readonly string[]).includes(uploader.compression)
  ) {
    throw new ArgsError(
      'uploader.compression',
      `"${uploader.compression}" is not one of ${COMPRESSIONS.join(', ')}`,
    );
  }
  const sidecar = uploader.sidecar ?? 'native';
  if (sidecar !== 'native' && sidecar !== 'classic') {
    throw new ArgsError('uploader.sidecar', `"${sidecar}" is not native or classic`);
  }
  const onOom = heapDumps.onOutOfMemory ?? 'exit';
  if (onOom !== 'exit' && onOom !== 'keepRunning') {
    throw new ArgsError('heapDumps.onOutOfMemory', `"${onOom}" is not exit or keepRunning`);
  }
  checkCommandLine(app);
  const mountPath = mountPathOf(heapDumps);
  const containerName = app.containerName ?? 'app';
  if (containerName === UPLOADER_CONTAINER) {
    throw new ArgsError('containerName', `"${UPLOADER_CONTAINER}" is the uploader's name`);
  }

  const sizing = computeSizing(app, heapDumps, uploader, warnings);
  checkLiveness(app.livenessProbe, sizing, warnings);
  const mount = { name: DUMP_VOLUME, mountPath };

  const appContainer: Container = {
    name: containerName,
    image: app.image,
    env: appEnv(app.env ?? [], heapDumpJvmFlags(heapDumps)),
    volumeMounts: [mount],
  };
  if (app.command) appContainer.command = [...app.command];
  if (app.args) appContainer.args = [...app.args];
  if (app.ports) {
    appContainer.ports = app.ports.map((p) => ({
      containerPort: p.containerPort,
      ...(p.name !== undefined ? { name: p.name } : {}),
      ...(p.protocol !== undefined ? { protocol: p.protocol } : {}),
    }));
  }
  const appResources = resources(app.resources);
  if (appResources) appContainer.resources = appResources;
  for (const k of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
    const p = probe(app[k], k);
    if (p) appContainer[k] = p;
  }
  if (app.securityContext) {
    const { dropCapabilities, ...rest } = app.securityContext;
    appContainer.securityContext = {
      ...rest,
      ...(dropCapabilities ? { capabilities: { drop: [...dropCapabilities] } } : {}),
    };
  }

  const metricsPort = uploader.metricsPort ?? UPLOADER_DEFAULTS.metricsPort;
  const uploaderContainer: Container = {
    name: UPLOADER_CONTAINER,
    image: uploader.image ?? inputs.defaultUploaderImage,
    imagePullPolicy: 'IfNotPresent',
    env: uploaderEnv(inputs, mountPath, sizing.terminationGracePeriodSeconds),
    volumeMounts: [mount],
    resources: resources(uploader.resources) ?? {
      requests: { cpu: '50m', memory: '160Mi' },
      limits: { memory: '256Mi' },
    },
    securityContext: uploaderSecurityContext(app, warnings),
  };
  if (metricsPort !== 0) {
    uploaderContainer.ports = [{ name: 'hd-metrics', containerPort: metricsPort }];
    uploaderContainer.livenessProbe = {
      httpGet: { path: '/healthz', port: metricsPort },
      periodSeconds: 30,
      failureThreshold: 4,
    };
  }

  const labels = { ...(app.labels ?? {}), app: appName };
  const annotations: Record<string, string> = { ...(app.podAnnotations ?? {}) };
  if (inputs.credentials.kind === 'webIdentity') {
    // The EKS identity webhook injects credentials into every container unless told otherwise (a pod
    // annotation, not a ServiceAccount one): the JVM never gets them.
    annotations['eks.amazonaws.com/skip-containers'] = containerName;
  }

  const podSpec: DeploymentSpec['template']['spec'] = {
    containers: sidecar === 'classic' ? [appContainer, uploaderContainer] : [appContainer],
    volumes: [{ name: DUMP_VOLUME, emptyDir: { sizeLimit: sizing.sizeLimit } }],
    terminationGracePeriodSeconds: sizing.terminationGracePeriodSeconds,
  };
  if (sidecar === 'native') podSpec.initContainers = [{ ...uploaderContainer, restartPolicy: 'Always' }];
  if (inputs.serviceAccountName !== undefined) podSpec.serviceAccountName = inputs.serviceAccountName;
  if (app.podSecurityContext) podSpec.securityContext = { ...app.podSecurityContext };
  if (app.imagePullSecrets) podSpec.imagePullSecrets = app.imagePullSecrets.map((name) => ({ name }));

  return {
    spec: {
      replicas: app.replicas ?? 1,
      selector: { matchLabels: { app: appName } },
      template: {
        metadata: { labels, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
        spec: podSpec,
      },
    },
    sizing,
    warnings,
  };
}
