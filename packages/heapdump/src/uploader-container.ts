// The uploader sidecar: its container, its environment (the contract's variables, pod facts, credentials)
// and its security context. Pure.
import {
  COMPRESSIONS,
  isRedactMode,
  POD_FIELD_ENV,
  REDACT_MODES,
  type RedactMode,
  UPLOADER_DEFAULTS,
  UPLOADER_ENV,
  uploaderEnvValues,
} from '@kube-heapdump/contract';
import type * as pulumi from '@pulumi/pulumi';
import { SidecarMode, type UploaderArgs } from './args.ts';
import { FieldError } from './errors.ts';
import type { Container, EnvVar, ResourceRequirements, SecurityContext, Volume } from './k8s-types.ts';
import { DUMP_VOLUME, KUBE_API_VOLUME, METRICS_PORT_NAME, UPLOADER_CONTAINER } from './names.ts';

type Uploader = pulumi.Unwrap<UploaderArgs>;

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
  | {
      kind: 'webIdentity';
      /**
       * A role only the uploader assumes, with its own projected ServiceAccount token (what the EKS webhook would
       * inject, for the uploader alone). Without it, the webhook injects the ServiceAccount's role.
       */
      roleArn?: string | undefined;
    };

/** The uploader's projected token for a role of its own. */
export const AWS_TOKEN_VOLUME = 'heapdumps-aws-token';
const AWS_TOKEN_DIR = '/var/run/secrets/eks.amazonaws.com/serviceaccount';

/** The projected ServiceAccount token volume an uploader with its own role reads. */
export function awsTokenVolume(): Volume {
  return {
    name: AWS_TOKEN_VOLUME,
    projected: {
      sources: [
        { serviceAccountToken: { audience: 'sts.amazonaws.com', expirationSeconds: 86_400, path: 'token' } },
      ],
    },
  };
}

/** Where the uploader alone finds the API token it posts Events with (not the default path: the app's). */
const KUBE_API_DIR = '/var/run/secrets/heapdump/kubernetes';

/**
 * The uploader's own API token for posting Events: projected, short-lived, rotated by the kubelet, mounted in
 * the uploader only, whether or not the pod automounts the ServiceAccount token for the app.
 */
export function kubeApiVolume(): Volume {
  return {
    name: KUBE_API_VOLUME,
    projected: {
      sources: [
        { serviceAccountToken: { expirationSeconds: 3600, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

/** Whether the uploader posts Events (the Role and the token volume exist): `uploader.events`, default true. */
export function eventsWanted(uploader: { events?: unknown } | undefined): boolean {
  return uploader?.events !== false;
}

/** Keys of the access key in the Secret, ours or an existing one by default. */
export const SECRET_KEY_DEFAULTS = {
  accessKeyIdKey: 'AWS_ACCESS_KEY_ID',
  secretAccessKeyKey: 'AWS_SECRET_ACCESS_KEY',
};

/** What the uploader needs besides the pod: the app it stores dumps for, where, and how it signs in. */
export interface UploaderSetup {
  /** The `<app>` part of dump keys. */
  appName: string;
  uploader: Uploader;
  target: UploadTarget;
  credentials: UploaderCredentials;
  /** The uploader image when `uploader.image` is not given (registry already applied). */
  defaultUploaderImage: string;
}

/** Seconds the pod's grace period leaves the kubelet after the uploader has stopped on its own. */
const SHUTDOWN_MARGIN_SECONDS = 5;

const DEFAULT_RESOURCES: ResourceRequirements = {
  requests: { cpu: '50m', memory: '160Mi' },
  limits: { memory: '256Mi' },
};

/** What the pod decides about the uploader: where dumps are, how long it may take, what it may read. */
export interface UploaderPod {
  mountPath: string;
  graceSeconds: number;
  /** The dump volume's size limit: no file in it can be larger, so none is read past it. */
  maxDumpBytes: number;
  /** The JVMs' UID when declared: only their files are shipped. */
  ownerUid: number | undefined;
  /** heapDumps.redact. */
  redact: string | undefined;
}

/** heapDumps.redact, checked. */
export function checkRedact(value: string | undefined): RedactMode | undefined {
  if (value === undefined) return undefined;
  if (!isRedactMode(value)) {
    throw new FieldError('heapDumps.redact', `"${value}" is not one of ${REDACT_MODES.join(', ')}`);
  }
  return value;
}

/** The uploader's environment: the contract's variables for these settings, pod facts, credentials. */
export function uploaderEnv(settings: UploaderSetup, pod: UploaderPod): EnvVar[] {
  const { target, uploader, credentials } = settings;
  const { mountPath, graceSeconds } = pod;
  const redact = checkRedact(pod.redact);
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
    app: settings.appName,
    ...(redact !== undefined ? { redact } : {}),
    ...(pod.ownerUid !== undefined ? { ownerUid: pod.ownerUid } : {}),
    maxDumpBytes: pod.maxDumpBytes,
  });
  for (const { name, fieldPath } of POD_FIELD_ENV) env.push({ name, valueFrom: { fieldRef: { fieldPath } } });
  if (eventsWanted(uploader)) {
    env.push(
      { name: UPLOADER_ENV.events, value: 'true' },
      { name: UPLOADER_ENV.serviceAccountDir, value: KUBE_API_DIR },
      // The Event names the pod by uid too, so `kubectl describe pod` lists it.
      { name: UPLOADER_ENV.podUid, valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
    );
  } else {
    env.push({ name: UPLOADER_ENV.events, value: 'false' });
  }
  if (uploader.webhookSecret !== undefined) {
    env.push({
      name: UPLOADER_ENV.webhookUrl,
      valueFrom: {
        secretKeyRef: { name: uploader.webhookSecret.name, key: uploader.webhookSecret.key ?? 'url' },
      },
    });
  }
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
  if (credentials.kind === 'webIdentity' && credentials.roleArn !== undefined) {
    env.push(
      { name: 'AWS_ROLE_ARN', value: credentials.roleArn },
      { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: `${AWS_TOKEN_DIR}/token` },
    );
  }
  return env;
}

/**
 * The uploader's security context. It must read dumps the JVM writes with mode 0600, so it runs with the
 * JVM's UID. When that UID is not declared (the image's USER decides it) or the target JVMs differ, it runs
 * as root with every capability dropped except DAC_READ_SEARCH (read any file, write none it does not own),
 * and says so.
 */
export function uploaderSecurityContext(
  ids: { uid: number | undefined; gid: number | undefined },
  warnings: string[],
): SecurityContext {
  const base: SecurityContext = {
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    seccompProfile: { type: 'RuntimeDefault' },
  };
  if (ids.uid !== undefined) {
    return {
      ...base,
      runAsUser: ids.uid,
      ...(ids.gid !== undefined ? { runAsGroup: ids.gid } : {}),
      runAsNonRoot: ids.uid !== 0,
      capabilities: { drop: ['ALL'] },
    };
  }
  warnings.push(
    'securityContext.runAsUser: the app UID is not declared, so the uploader runs as root with all capabilities ' +
      'dropped but DAC_READ_SEARCH, to read the 0600 dumps the JVM writes. Declare the UID your image runs as ' +
      "(the Java container's or the pod's securityContext.runAsUser) to run the uploader as that UID instead; " +
      'namespaces enforcing the "restricted" Pod Security Standard refuse the root uploader',
  );
  return {
    ...base,
    runAsUser: 0,
    runAsNonRoot: false,
    capabilities: { drop: ['ALL'], add: ['DAC_READ_SEARCH'] },
  };
}

function checkNumber(value: number | undefined, field: string, min: number, max: number): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= min && value <= max)) {
    throw new FieldError(field, `${value} must be a whole number from ${min} to ${max}`);
  }
}

/** Refuses uploader settings that cannot work, naming the field. */
export function checkUploader(uploader: Uploader): SidecarMode {
  checkNumber(uploader.metricsPort, 'uploader.metricsPort', 0, 65_535);
  checkNumber(uploader.quietSeconds, 'uploader.quietSeconds', 1, 86_400);
  if (
    uploader.compression !== undefined &&
    !(COMPRESSIONS as readonly string[]).includes(uploader.compression)
  ) {
    throw new FieldError(
      'uploader.compression',
      `"${uploader.compression}" is not one of ${COMPRESSIONS.join(', ')}`,
    );
  }
  const sidecar = uploader.sidecar ?? 'native';
  const modes: readonly string[] = Object.values(SidecarMode);
  if (!modes.includes(sidecar)) {
    throw new FieldError('uploader.sidecar', `"${sidecar}" is not ${modes.join(' or ')}`);
  }
  return sidecar;
}

/** The uploader container (as a regular container; a native sidecar adds `restartPolicy: Always`). */
export function uploaderContainer(
  settings: UploaderSetup,
  pod: UploaderPod,
  securityContext: SecurityContext,
): Container {
  const { uploader } = settings;
  const { mountPath } = pod;
  const metricsPort = uploader.metricsPort ?? UPLOADER_DEFAULTS.metricsPort;
  const container: Container = {
    name: UPLOADER_CONTAINER,
    image: uploader.image ?? settings.defaultUploaderImage,
    imagePullPolicy: 'IfNotPresent',
    env: uploaderEnv(settings, pod),
    volumeMounts: [
      { name: DUMP_VOLUME, mountPath },
      ...(eventsWanted(uploader) ? [{ name: KUBE_API_VOLUME, mountPath: KUBE_API_DIR, readOnly: true }] : []),
      ...(settings.credentials.kind === 'webIdentity' && settings.credentials.roleArn !== undefined
        ? [{ name: AWS_TOKEN_VOLUME, mountPath: AWS_TOKEN_DIR, readOnly: true }]
        : []),
    ],
    resources: uploader.resources
      ? {
          ...(uploader.resources.requests ? { requests: { ...uploader.resources.requests } } : {}),
          ...(uploader.resources.limits ? { limits: { ...uploader.resources.limits } } : {}),
        }
      : structuredClone(DEFAULT_RESOURCES),
    securityContext,
  };
  if (metricsPort !== 0) {
    container.ports = [{ name: METRICS_PORT_NAME, containerPort: metricsPort }];
    container.livenessProbe = {
      httpGet: { path: '/healthz', port: metricsPort },
      periodSeconds: 30,
      failureThreshold: 4,
    };
    // A native sidecar's startup probe holds the JVM back until the uploader is up: a JVM that runs out of
    // memory at once (a Job, a bad release) would otherwise exit before the uploader can take its dump, and
    // the kubelet would stop the uploader mid-start, losing the dump with the pod.
    container.startupProbe = {
      httpGet: { path: '/healthz', port: metricsPort },
      periodSeconds: 1,
      failureThreshold: 60,
    };
  }
  return container;
}
