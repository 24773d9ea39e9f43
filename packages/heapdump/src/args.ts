// The component's arguments. Kept to what Pulumi's component analyzer can turn into a schema, so Python, Go,
// C# and YAML programs get the same component: no unions (only `T | undefined`), no intersections, no
// functions, string enums as `as const` objects. That is also why the app is described with our own small
// interfaces instead of @pulumi/kubernetes input types (their `number | string` ports are unions), and why
// the full pod template is untyped here: TypeScript users get it typed through `TypedHeapDumpEnabledAppArgs`.
import type { Compression as ContractCompression, RedactMode } from '@kube-heapdump/contract';
import type * as pulumi from '@pulumi/pulumi';
import type { AnalysisArgs } from './analysis-args.ts';

/** How the uploader gets its S3 credentials. */
export const IdentityKind = {
  /** An IAM user limited to PutObject on the prefix; its access key lives in a Kubernetes Secret. */
  AccessKey: 'accessKey',
  /** IAM Roles for Service Accounts (EKS): a role trusted by the cluster's OIDC provider for this ServiceAccount. */
  Irsa: 'irsa',
  /** EKS Pod Identity: a role trusted by pods.eks.amazonaws.com and a PodIdentityAssociation. */
  PodIdentity: 'podIdentity',
  /** A Secret you manage (Huawei OBS, MinIO, or keys issued elsewhere); no AWS resources. */
  ExistingSecret: 'existingSecret',
} as const;
export type IdentityKind = (typeof IdentityKind)[keyof typeof IdentityKind];

/** How the uploader runs beside the JVM. */
export const SidecarMode = {
  /** A native sidecar (an init container with `restartPolicy: Always`, Kubernetes 1.29+): started first, stopped last. */
  Native: 'native',
  /** A second regular container, for clusters older than 1.29. */
  Classic: 'classic',
} as const;
export type SidecarMode = (typeof SidecarMode)[keyof typeof SidecarMode];

/** What the JVM does after writing the dump of its first OutOfMemoryError. */
export const OnOutOfMemory = {
  /** `-XX:+ExitOnOutOfMemoryError`: the JVM exits (status 3) and the kubelet restarts it clean. */
  Exit: 'exit',
  /** No exit flag: the JVM keeps running in whatever state the error left it. */
  KeepRunning: 'keepRunning',
} as const;
export type OnOutOfMemory = (typeof OnOutOfMemory)[keyof typeof OnOutOfMemory];

/** What the uploader blanks in each dump before a byte leaves the pod (HEAPDUMP_REDACT). */
export const Redaction = {
  /** Dumps are stored as the JVM wrote them. */
  None: 'none',
  /** Every byte[] and char[] becomes `*` (String contents: passwords, tokens, personal data). */
  Strings: 'strings',
  /** Every primitive array element and primitive field value is zeroed; references and classes kept. */
  Primitives: 'primitives',
} as const;
export type Redaction = (typeof Redaction)[keyof typeof Redaction];
// The contract's redact modes, as an enum the schema can carry: this fails to compile if the two sets differ.
const _sameAsRedactModes: [Redaction, RedactMode] extends [RedactMode, Redaction] ? true : never = true;

/** The kind of workload the component creates around the pod. */
export const WorkloadKind = {
  /** apps/v1 Deployment (the default). */
  Deployment: 'Deployment',
  /** apps/v1 StatefulSet (give `workloadSpec.serviceName`; `volumeClaimTemplates` pass through). */
  StatefulSet: 'StatefulSet',
  /** apps/v1 DaemonSet: one pod per node. */
  DaemonSet: 'DaemonSet',
  /** batch/v1 Job: the uploader is a native sidecar, so the Job completes when the JVM exits. */
  Job: 'Job',
  /** batch/v1 CronJob (give `workloadSpec.schedule`): a Job per schedule. */
  CronJob: 'CronJob',
} as const;
export type WorkloadKind = (typeof WorkloadKind)[keyof typeof WorkloadKind];

/**
 * A Kubernetes object given as is (a pod template, a workload spec, object metadata): untyped in the schema,
 * because Pulumi's analyzer cannot express @pulumi/kubernetes types; TypeScript sees the real types.
 */
// biome-ignore lint/suspicious/noExplicitAny: the schema's "Any"; TypedHeapDumpEnabledAppArgs types it for TypeScript
export type KubernetesObject = { [key: string]: any };

/**
 * How the uploader compresses dumps on the way to the bucket: the contract's compressions, as an enum the
 * schema can carry (`as const` only: the analyzer reads no other form; a check below fails to compile if the
 * two sets ever differ).
 */
export const Compression = {
  /** zstd frames (the default): faster and smaller; `heapdump get`, the `zstd` tool and Node >= 24.22 read every frame. */
  Zstd: 'zstd',
  /** Independent gzip members: every gunzip reads them. */
  Gzip: 'gzip',
  /** Stored as written. */
  None: 'none',
} as const;
export type Compression = (typeof Compression)[keyof typeof Compression];
const _sameAsContract: [Compression, ContractCompression] extends [ContractCompression, Compression]
  ? true
  : never = true;

export interface ContainerPortArgs {
  /** Port number in the container. */
  containerPort: pulumi.Input<number>;
  /** Port name (IANA_SVC_NAME), used by Services and probes. */
  name?: pulumi.Input<string>;
  /** `TCP` (default), `UDP` or `SCTP`. */
  protocol?: pulumi.Input<string>;
}

export interface KeyRefArgs {
  /** Name of the Secret or ConfigMap. */
  name: pulumi.Input<string>;
  /** Key in it. */
  key: pulumi.Input<string>;
}

export interface EnvVarArgs {
  /** Variable name. `JAVA_TOOL_OPTIONS` is appended to, never replaced. */
  name: pulumi.Input<string>;
  /** Literal value. */
  value?: pulumi.Input<string>;
  /** Take the value from a Secret key. */
  secretKeyRef?: pulumi.Input<KeyRefArgs>;
  /** Take the value from a ConfigMap key. */
  configMapKeyRef?: pulumi.Input<KeyRefArgs>;
  /** Take the value from a pod field (downward API), like `metadata.name`. */
  fieldPath?: pulumi.Input<string>;
}

export interface ResourcesArgs {
  /** Requests, like `{ cpu: "500m", memory: "1Gi" }`. */
  requests?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
  /** Limits, like `{ memory: "1Gi" }`. The memory limit sizes the heap when no `-Xmx` is given. */
  limits?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
}

export interface ProbeArgs {
  /** HTTP GET this path (with `port`). */
  httpGetPath?: pulumi.Input<string>;
  /** Port number for `httpGetPath` or a TCP check. */
  port?: pulumi.Input<number>;
  /** Run this command in the container. */
  exec?: pulumi.Input<pulumi.Input<string>[]>;
  /** Seconds before the first probe. */
  initialDelaySeconds?: pulumi.Input<number>;
  /** Seconds between probes (Kubernetes default 10). */
  periodSeconds?: pulumi.Input<number>;
  /** Seconds a probe may take (Kubernetes default 1). */
  timeoutSeconds?: pulumi.Input<number>;
  /** Failures in a row that count as failed (Kubernetes default 3). */
  failureThreshold?: pulumi.Input<number>;
  /** Successes in a row that count as recovered (Kubernetes default 1). */
  successThreshold?: pulumi.Input<number>;
}

export interface ContainerSecurityContextArgs {
  /** UID the JVM runs as. The uploader runs with the same UID, because the JVM writes dumps with mode 0600. */
  runAsUser?: pulumi.Input<number>;
  /** GID the JVM runs as. */
  runAsGroup?: pulumi.Input<number>;
  /** Refuse to start the container as root. */
  runAsNonRoot?: pulumi.Input<boolean>;
  /** Mount the container's root filesystem read-only (the dump volume stays writable). */
  readOnlyRootFilesystem?: pulumi.Input<boolean>;
  /** Allow setuid binaries to gain privileges; false is safer. */
  allowPrivilegeEscalation?: pulumi.Input<boolean>;
  /** Capabilities to drop, like `["ALL"]`. */
  dropCapabilities?: pulumi.Input<pulumi.Input<string>[]>;
}

export interface PodSecurityContextArgs {
  /** Default UID for every container of the pod. */
  runAsUser?: pulumi.Input<number>;
  /** Default GID for every container of the pod. */
  runAsGroup?: pulumi.Input<number>;
  /** Refuse to start any container as root. */
  runAsNonRoot?: pulumi.Input<boolean>;
  /** Group that owns the pod's volumes. */
  fsGroup?: pulumi.Input<number>;
}

export interface HeapDumpsArgs {
  /**
   * Names of the Java containers that write heap dumps (each gets the dump mount and the JVM flags).
   * Default: the pod's only container; a pod with several containers must name them.
   */
  containers?: pulumi.Input<pulumi.Input<string>[]>;
  /** Directory of the shared dump volume in both containers (the JVM's `-XX:HeapDumpPath`). Default `/dumps`. */
  mountPath?: pulumi.Input<string>;
  /**
   * The dump volume's `sizeLimit`, like `"6Gi"`. Default: 1.2 x the maximum heap (2.2 x with `parallelDumps`).
   * Exceeding it makes the kubelet evict the whole pod, so a smaller value than that is refused.
   */
  sizeLimit?: pulumi.Input<string>;
  /**
   * The JVM's maximum heap, like `"2Gi"`, when it cannot be derived: by default it is read from `-Xmx` /
   * `-XX:MaxHeapSize` (command, args, `JAVA_TOOL_OPTIONS`, `JDK_JAVA_OPTIONS`) or computed from the memory limit
   * and `-XX:MaxRAMPercentage` (JVM default 25%).
   */
  maxHeap?: pulumi.Input<string>;
  /** The JVM is JDK 22+ and may dump in parallel pieces (`*.p0..pN`, merged afterwards): size the volume 2.2 x. */
  parallelDumps?: pulumi.Input<boolean>;
  /** `exit` (default): `-XX:+ExitOnOutOfMemoryError`, the kubelet restarts a clean JVM. `keepRunning`: no exit flag. */
  onOutOfMemory?: pulumi.Input<OnOutOfMemory>;
  /** More JVM flags appended to `JAVA_TOOL_OPTIONS` after ours. */
  extraJvmFlags?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * The memory watchdog: at this percentage of the container's memory limit (usage less page cache, which
   * the kernel reclaims before it kills, plus the native memory the JVM needs to dump every thread's stack) a
   * JVM agent dumps the heap once, with a thread dump and the memory figures beside it, before the kernel's OOM
   * kill can leave no dump; sooner, from 10 points below, when memory grows fast enough to reach it within a
   * second; re-armed below 10 points less. Default 90; 0 turns threshold dumps
   * off (the agent still serves `heapdump trigger`). Needs the native sidecar and `uploader.metricsPort` (its
   * startup probe puts the agent in the volume before the JVM starts); otherwise a warning and no agent. With no
   * `-Xmx` / `-XX:MaxRAMPercentage` given, the heap defaults to `MaxRAMPercentage` = threshold - max(25, 128 MiB
   * as % of the limit), at least 25 (65% of a limit of 512 MiB or more at the default threshold).
   */
  memoryThreshold?: pulumi.Input<number>;
  /**
   * `-XX:NativeMemoryTracking=summary`, so the watchdog's evidence holds the JVM's native memory summary. Costs
   * the JVM about 5-10% more CPU and some memory. Default false.
   */
  nativeMemoryTracking?: pulumi.Input<boolean>;
  /**
   * A continuous Flight Recorder recording (`-XX:StartFlightRecording`, at most 64 MiB on disk, its repository
   * in the dump volume) dumped into the volume as `flight-recording.jfr` when the JVM exits; the uploader ships
   * it like a dump (kind `jfr`). The volume is sized for twice the cap per JVM (repository and recording).
   * Default false. (Crash logs, `hs_err_pid<N>.log`, always go to the volume through `-XX:ErrorFile`.)
   */
  flightRecorder?: pulumi.Input<boolean>;
  /**
   * Redaction while streaming: `none` (default), `strings` or `primitives`. The stored dump keeps its size,
   * structure and class histogram; what was redacted is recorded in its summary.
   */
  redact?: pulumi.Input<Redaction>;
}

export interface ProvisionedBucketArgs {
  /** Exact bucket name. Default: auto-named from the component name (`<name>-dumps-<random>`). */
  name?: pulumi.Input<string>;
  /** Days after which dumps expire. Default 30. */
  retentionDays?: pulumi.Input<number>;
  /** KMS key ARN for SSE-KMS. Default: SSE-S3 (AES256). */
  kmsKeyArn?: pulumi.Input<string>;
  /** Delete the bucket with its dumps on `pulumi destroy`. Default false: a bucket holding dumps is kept. */
  forceDestroy?: pulumi.Input<boolean>;
}

export interface ExistingBucketArgs {
  /** Bucket name. */
  bucket: pulumi.Input<string>;
  /** S3-compatible endpoint URL, like `https://obs.cn-north-4.myhuaweicloud.com` or `http://minio.minio:9000`. Default: AWS S3. */
  endpoint?: pulumi.Input<string>;
  /** Region the requests are signed for. Required on AWS; default `us-east-1` with an endpoint. */
  region?: pulumi.Input<string>;
  /** Path-style addressing (`<endpoint>/<bucket>/<key>`), usual for MinIO. Default false: virtual-hosted (AWS, OBS). */
  forcePathStyle?: pulumi.Input<boolean>;
  /**
   * Send CRC32 checksums on parts and the whole object (and Content-MD5 until the store shows it checks
   * CRC32). Default true; false sends Content-MD5 alone, for stores that reject CRC32 headers.
   */
  checksums?: pulumi.Input<boolean>;
}

export interface StorageArgs {
  /** Provision a hardened bucket (the default when `existing` is not given). */
  provision?: ProvisionedBucketArgs;
  /** Use a bucket you already have, on AWS or any S3-compatible store. */
  existing?: ExistingBucketArgs;
  /** Key prefix under which dumps are stored, ending in `/`. Default `heapdumps/`. */
  prefix?: pulumi.Input<string>;
}

export interface ExistingSecretArgs {
  /** Name of the Secret, in the app's namespace. */
  name: pulumi.Input<string>;
  /** Key holding the access key id. Default `AWS_ACCESS_KEY_ID`. */
  accessKeyIdKey?: pulumi.Input<string>;
  /** Key holding the secret access key. Default `AWS_SECRET_ACCESS_KEY`. */
  secretAccessKeyKey?: pulumi.Input<string>;
}

export interface IrsaArgs {
  /** ARN of the cluster's IAM OIDC provider, like `arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC`. */
  oidcProviderArn: pulumi.Input<string>;
}

export interface PodIdentityArgs {
  /** Name of the EKS cluster (its Pod Identity Agent add-on must be installed). */
  clusterName: pulumi.Input<string>;
}

export interface IdentityArgs {
  /**
   * Which identity: `accessKey` (default with a provisioned bucket), `irsa`, `podIdentity`, `existingSecret`.
   * A plain value, not an Input: it decides which resources exist, and a preview must show them.
   */
  kind?: IdentityKind;
  /** Settings for `existingSecret`. */
  existingSecret?: ExistingSecretArgs;
  /** Settings for `irsa`. */
  irsa?: IrsaArgs;
  /** Settings for `podIdentity`. */
  podIdentity?: PodIdentityArgs;
}

export interface UploaderArgs {
  /** Image of the uploader. Default `ghcr.io/kube-heapdump/kube-heapdump-uploader:<this package's version>`. */
  image?: pulumi.Input<string>;
  /** Registry for the default image name (an internal mirror), like `registry.example.com/mirror`. */
  registry?: pulumi.Input<string>;
  /**
   * `zstd` (default: 1.6x faster and 2.6x smaller than gzip, measured; blocks the link takes faster than they
   * compress are stored uncompressed in the same stream), `gzip` or `none`.
   */
  compression?: pulumi.Input<Compression>;
  /** Resources of the uploader. Default requests 50m CPU / 160Mi, limit 256Mi memory. */
  resources?: pulumi.Input<ResourcesArgs>;
  /** `native` (default, Kubernetes 1.29+) or `classic`. */
  sidecar?: pulumi.Input<SidecarMode>;
  /**
   * Upload rate you can count on from the node to the bucket, in MB/s: sizes `terminationGracePeriodSeconds` so an
   * upload of a full dump finishes when the pod stops. Default 50.
   */
  uploadRateMBps?: pulumi.Input<number>;
  /** Port of the uploader's `/healthz` and `/metrics`. Default 9779. */
  metricsPort?: pulumi.Input<number>;
  /** Seconds a dump may stop growing without its end record before it is shipped as incomplete. Default 60. */
  quietSeconds?: pulumi.Input<number>;
  /**
   * Post a Kubernetes Event on the pod when a dump is stored (`HeapDumpStored`) or shipped incomplete
   * (`HeapDumpIncomplete`). Default true: a Role allowing only `create` on `events` in the namespace, bound to
   * the pod's ServiceAccount, and a projected API token mounted in the uploader alone. A plain value, not an
   * Input: it decides whether the Role exists.
   */
  events?: boolean;
  /** A Secret holding a Slack-compatible webhook URL to post to for each dump. Default: no webhook. */
  webhookSecret?: pulumi.Input<WebhookSecretArgs>;
}

export interface WebhookSecretArgs {
  /** Name of the Secret, in the pod's namespace. */
  name: pulumi.Input<string>;
  /** Key of the URL in the Secret. Default `url`. */
  key?: pulumi.Input<string>;
}

export interface HeapDumpEnabledAppArgs {
  /**
   * Kind of the workload: `Deployment` (default), `StatefulSet`, `DaemonSet`, `Job` or `CronJob`. A plain value,
   * not an Input: it decides which resource exists.
   */
  kind?: WorkloadKind;
  /**
   * The pod as you would write it for the workload (a core/v1 PodTemplateSpec: every field passes through
   * unchanged; heap dumps are added). Replaces the shorthand pod arguments (`image`, `env`, `ports`, ...), which
   * are refused beside it. Default: the pod the shorthand arguments describe.
   */
  podTemplate?: pulumi.Input<KubernetesObject>;
  /**
   * The workload's spec without its pod template: `strategy`, `minReadySeconds`, `selector`, `replicas` for a
   * Deployment; `serviceName`, `volumeClaimTemplates`, `podManagementPolicy` for a StatefulSet; `backoffLimit`,
   * `ttlSecondsAfterFinished` for a Job; `schedule`, `concurrencyPolicy` and `jobTemplate` (without its pod
   * template) for a CronJob. Passed through unchanged. Default selector: `app: <appName>` (added to the pod's
   * labels).
   */
  workloadSpec?: pulumi.Input<KubernetesObject>;
  /** The workload's metadata (name, labels, annotations), passed through. Default name: `appName`. */
  workloadMetadata?: pulumi.Input<KubernetesObject>;
  /** Namespace of the workload, Secret and ServiceAccount. Default: `workloadMetadata.namespace`, else `default`. */
  namespace?: pulumi.Input<string>;
  /** App name: the `<app>` part of dump keys, and the workload's name and `app` label by default. Default: the component name. */
  appName?: pulumi.Input<string>;
  /** Image of the Java app (shorthand; required unless `podTemplate` is given). */
  image?: pulumi.Input<string>;
  /** Container entrypoint; the image's by default. The heap dump flags reach the JVM whatever the entrypoint. */
  command?: pulumi.Input<pulumi.Input<string>[]>;
  /** Container arguments. */
  args?: pulumi.Input<pulumi.Input<string>[]>;
  /** Replicas. Default 1. */
  replicas?: pulumi.Input<number>;
  /** Extra labels for the pods (the component sets `app`). */
  labels?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
  /** Extra annotations for the pods. */
  podAnnotations?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
  /** Ports the app listens on. */
  ports?: pulumi.Input<pulumi.Input<ContainerPortArgs>[]>;
  /** Environment of the app container. */
  env?: pulumi.Input<pulumi.Input<EnvVarArgs>[]>;
  /** Resources of the app container. Set a memory limit: it sizes the heap and the dump volume. */
  resources?: pulumi.Input<ResourcesArgs>;
  /** Liveness probe. Warned about when it could kill the JVM while it writes a dump. */
  livenessProbe?: pulumi.Input<ProbeArgs>;
  /** Readiness probe. */
  readinessProbe?: pulumi.Input<ProbeArgs>;
  /** Startup probe. */
  startupProbe?: pulumi.Input<ProbeArgs>;
  /** Security context of the app container. */
  securityContext?: pulumi.Input<ContainerSecurityContextArgs>;
  /** Security context of the pod. */
  podSecurityContext?: pulumi.Input<PodSecurityContextArgs>;
  /** ServiceAccount of the pod. With `irsa` or `podIdentity` the component creates it (default name: the app name). */
  serviceAccountName?: pulumi.Input<string>;
  /** Name of the app container. Default `app`. */
  containerName?: pulumi.Input<string>;
  /** Image pull secrets (names) for both containers. */
  imagePullSecrets?: pulumi.Input<pulumi.Input<string>[]>;
  /** Seconds the pod gets to stop. Raised when needed so the uploader can finish a full dump. */
  terminationGracePeriodSeconds?: pulumi.Input<number>;
  /** Where and how the JVM writes its dumps. */
  heapDumps?: pulumi.Input<HeapDumpsArgs>;
  /** Where dumps are stored. Default: a provisioned, hardened bucket. */
  storage?: StorageArgs;
  /** How the uploader authenticates. Default: an access key in a Secret. */
  identity?: IdentityArgs;
  /** The uploader sidecar. */
  uploader?: pulumi.Input<UploaderArgs>;
  /** Analyse every stored dump of the app in the cluster, one Job per dump. Default off. */
  analysis?: AnalysisArgs;
}
