// The uploader's variables: each name, its default and its choices, in one table. The readers are
// uploader-env.ts (the settings the component decides, and the pod), store-env.ts (the store, which the CLI
// reads too) and notify-env.ts (who is told of each dump stored).
import { DEFAULT_COMPRESSION } from './compression.ts';
import { DEFAULT_PREFIX } from './store.ts';

export const UPLOADER_ENV = {
  dir: 'HEAPDUMP_DIR',
  bucket: 'HEAPDUMP_BUCKET',
  prefix: 'HEAPDUMP_PREFIX',
  endpoint: 'HEAPDUMP_S3_ENDPOINT',
  forcePathStyle: 'HEAPDUMP_S3_FORCE_PATH_STYLE',
  checksum: 'HEAPDUMP_S3_CHECKSUM',
  region: 'AWS_REGION',
  defaultRegion: 'AWS_DEFAULT_REGION',
  compression: 'HEAPDUMP_COMPRESSION',
  deleteAfterUpload: 'HEAPDUMP_DELETE_AFTER_UPLOAD',
  quietSeconds: 'HEAPDUMP_QUIET_SECONDS',
  concurrency: 'HEAPDUMP_S3_CONCURRENCY',
  bufferMiB: 'HEAPDUMP_BUFFER_MIB',
  timeoutSeconds: 'HEAPDUMP_S3_TIMEOUT_SECONDS',
  shutdownSeconds: 'HEAPDUMP_SHUTDOWN_SECONDS',
  metricsPort: 'HEAPDUMP_METRICS_PORT',
  logLevel: 'HEAPDUMP_LOG_LEVEL',
  podName: 'POD_NAME',
  podNamespace: 'POD_NAMESPACE',
  nodeName: 'NODE_NAME',
  podUid: 'POD_UID',
  app: 'HEAPDUMP_APP',
  redact: 'HEAPDUMP_REDACT',
  ownerUid: 'HEAPDUMP_OWNER_UID',
  maxDumpBytes: 'HEAPDUMP_MAX_DUMP_BYTES',
  events: 'HEAPDUMP_EVENTS',
  serviceAccountDir: 'HEAPDUMP_SERVICE_ACCOUNT_DIR',
  webhookUrl: 'HEAPDUMP_WEBHOOK_URL',
} as const;

export type UploaderVariable = (typeof UPLOADER_ENV)[keyof typeof UPLOADER_ENV];

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * What parts carry so the store can check them: `auto` CRC32, plus Content-MD5 until the store shows it checks
 * CRC32 itself (it answers ours back); `crc32` alone (AWS S3); `md5` alone (stores that refuse CRC32 headers);
 * `off` nothing (not advised: nothing then checks the bytes on the way).
 */
export const CHECKSUM_MODES = ['auto', 'crc32', 'md5', 'off'] as const;
export type ChecksumMode = (typeof CHECKSUM_MODES)[number];

/**
 * What the uploader overwrites before a byte leaves the pod (same size and layout): `none`; `strings` (every
 * byte[] and char[] becomes '*', java.lang.String's coder and hash consistent with that); `primitives` (every
 * primitive array element, instance, static and constant field value zeroed).
 */
export const REDACT_MODES = ['none', 'strings', 'primitives'] as const;
export type RedactMode = (typeof REDACT_MODES)[number];

export function isRedactMode(value: unknown): value is RedactMode {
  return typeof value === 'string' && (REDACT_MODES as readonly string[]).includes(value);
}

export const UPLOADER_DEFAULTS = {
  dir: '/dumps',
  prefix: DEFAULT_PREFIX,
  compression: DEFAULT_COMPRESSION,
  forcePathStyle: false,
  checksum: 'auto' as ChecksumMode,
  deleteAfterUpload: true,
  quietSeconds: 60,
  /** Parts in flight across all dumps: enough connections to fill an S3-like link (docs/benchmarks.md). */
  concurrency: 16,
  /**
   * MiB that part bodies in flight may hold, across all dumps: 16 uncompressed parts (each streams from the
   * file through 1 MiB), or three of ~5.5 MiB compressed ones (each ~88 MiB of a dump with zstd).
   */
  bufferMiB: 16,
  timeoutSeconds: 30,
  shutdownSeconds: 25,
  metricsPort: 9779,
  logLevel: 'info' as LogLevel,
  redact: 'none' as RedactMode,
  /** Unset: files of any owner are shipped. */
  ownerUid: 'unset',
  /** Unset: up to what 10,000 parts hold (~1 TiB). */
  maxDumpBytes: 'unset',
  /** The region requests are signed for when an endpoint is given and no region is. */
  endpointRegion: 'us-east-1',
  namespace: 'default',
  node: 'unknown',
  /** Post a Kubernetes Event on the pod for each dump stored, when the API server and a token are there. */
  events: true,
  serviceAccountDir: '/var/run/secrets/kubernetes.io/serviceaccount',
} as const;

/** The downward-API fields the pod facts come from. */
export const POD_FIELD_ENV: readonly { name: UploaderVariable; fieldPath: string }[] = [
  { name: UPLOADER_ENV.podName, fieldPath: 'metadata.name' },
  { name: UPLOADER_ENV.podNamespace, fieldPath: 'metadata.namespace' },
  { name: UPLOADER_ENV.nodeName, fieldPath: 'spec.nodeName' },
];
