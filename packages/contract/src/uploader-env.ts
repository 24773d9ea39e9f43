// The uploader's environment: every variable, its default and its rule, in one place. The component renders
// it (uploaderEnvValues), the uploader reads it (parseUploaderEnv), the CLI reads the store part of it
// (resolveStore) from its flags or the same variables. A test renders the component's env and parses it here.
import { COMPRESSIONS, type Compression, DEFAULT_COMPRESSION } from './compression.ts';
import {
  checkBucket,
  checkEndpoint,
  checkRegion,
  DEFAULT_PREFIX,
  InvalidValue,
  MAX_KEY_BYTES,
  normalizePrefix,
} from './store.ts';

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

/** What Kubernetes sets in every container: where the API server is (the uploader posts Events there). */
export const KUBERNETES_ENV = { host: 'KUBERNETES_SERVICE_HOST', port: 'KUBERNETES_SERVICE_PORT' } as const;

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

/** Where dumps go: what the uploader and the CLI must agree on. */
export interface StoreSettings {
  bucket: string;
  /** Empty or ending in `/`. */
  prefix: string;
  endpoint: string | undefined;
  region: string;
  forcePathStyle: boolean;
}

/** Everything the component decides about the uploader. */
export interface UploaderSettings extends StoreSettings {
  dir: string;
  /** What parts carry for the store to check (CHECKSUM_MODES). */
  checksum: ChecksumMode;
  compression: Compression;
  deleteAfterUpload: boolean;
  /** A dump that stops growing this long without its end record is shipped as incomplete. */
  quietSeconds: number;
  /** Parts in flight at once, across all dumps. */
  concurrency: number;
  /** MiB part bodies in flight may hold, across all dumps. */
  bufferMiB: number;
  /** A connection to the store idle this long is given up and the call retried. */
  timeoutSeconds: number;
  /** After SIGTERM, uploads under way get this long to finish; then they stop, their state kept. */
  shutdownSeconds: number;
  /** Port of /healthz and /metrics; 0 turns them off. */
  metricsPort: number;
  logLevel: LogLevel;
  /** What is redacted before upload (REDACT_MODES); unset renders nothing and means `none`. */
  redact?: RedactMode;
  /** Only regular files owned by this UID are shipped (the app's); unset: any owner. */
  ownerUid?: number;
  /** Bytes of a dump never read past (the dump volume's size limit); unset: ~1 TiB, what 10,000 parts hold. */
  maxDumpBytes?: number;
}

/** The pod the uploader runs in: the key's provenance. */
export interface PodIdentity {
  name: string;
  namespace: string;
  node: string;
  app: string;
}

/** Who hears of each dump stored: a Kubernetes Event on the pod, and a chat webhook. */
export interface NotifySettings {
  /** Post Events (needs the API server's address, a ServiceAccount token and RBAC to create events). */
  events: boolean;
  /** Where the ServiceAccount token, ca.crt and namespace are mounted. */
  serviceAccountDir: string;
  /** `https://host:port` of the API server, from KUBERNETES_SERVICE_HOST/PORT; undefined outside a cluster. */
  apiServer: string | undefined;
  /** Slack-compatible incoming webhook (a secret: never logged). */
  webhookUrl: string | undefined;
  /** The pod's UID (downward API), so `kubectl describe pod` lists the Event. */
  podUid: string | undefined;
}

export interface UploaderConfig extends UploaderSettings {
  pod: PodIdentity;
}

/** A variable (or the flag standing for it) with a value that breaks the contract. */
export class EnvError extends Error {
  readonly variable: UploaderVariable;
  constructor(variable: UploaderVariable, message: string) {
    super(`${variable} ${message}`);
    this.variable = variable;
  }
}

/** Reads a variable's value as given (undefined when unset). */
export type ValueSource = (variable: UploaderVariable) => string | undefined;

/** A value trimmed, undefined when unset or empty (for every variable but the prefix, where "" means none). */
function value(get: ValueSource, variable: UploaderVariable): string | undefined {
  const v = get(variable)?.trim();
  return v === '' ? undefined : v;
}

function checked<T>(variable: UploaderVariable, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof InvalidValue) throw new EnvError(variable, err.message);
    throw err;
  }
}

function parseBoolean(get: ValueSource, variable: UploaderVariable, fallback: boolean): boolean {
  const v = value(get, variable);
  if (v === undefined) return fallback;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new EnvError(variable, `"${v}" must be true or false`);
}

function parseNumber(
  get: ValueSource,
  variable: UploaderVariable,
  fallback: number,
  min: number,
  max: number,
  integer = false,
): number {
  const v = value(get, variable);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new EnvError(
      variable,
      `"${v}" must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`,
    );
  }
  return n;
}

function parseChoice<T extends string>(
  get: ValueSource,
  variable: UploaderVariable,
  choices: readonly T[],
  fallback: T,
): T {
  const v = value(get, variable) ?? fallback;
  if (!(choices as readonly string[]).includes(v)) {
    throw new EnvError(variable, `"${v}" is not one of ${choices.join(', ')}`);
  }
  return v as T;
}

/** An integer setting without a default: `{ [key]: n }` when set, `{}` when not. */
function optionalNumber<K extends string>(
  get: ValueSource,
  variable: UploaderVariable,
  key: K,
  min: number,
  max: number,
): { [k in K]?: number } {
  if (value(get, variable) === undefined) return {};
  return { [key]: parseNumber(get, variable, 0, min, max, true) } as { [k in K]?: number };
}

/** The store settings from the variables (or from flags standing for them). */
export function resolveStore(get: ValueSource): StoreSettings {
  const bucket = value(get, UPLOADER_ENV.bucket);
  if (!bucket) throw new EnvError(UPLOADER_ENV.bucket, 'is required: the bucket dumps are uploaded to');
  checked(UPLOADER_ENV.bucket, () => checkBucket(bucket));
  // An empty prefix is a choice (dumps at the top of the bucket), so it is not read like the others.
  const prefix = checked(UPLOADER_ENV.prefix, () =>
    normalizePrefix(get(UPLOADER_ENV.prefix) ?? DEFAULT_PREFIX),
  );
  const endpointText = value(get, UPLOADER_ENV.endpoint);
  const endpoint =
    endpointText === undefined
      ? undefined
      : checked(UPLOADER_ENV.endpoint, () => checkEndpoint(endpointText));
  const regionVariable =
    value(get, UPLOADER_ENV.region) !== undefined ? UPLOADER_ENV.region : UPLOADER_ENV.defaultRegion;
  const region = value(get, regionVariable);
  if (!region && endpoint === undefined) {
    throw new EnvError(
      UPLOADER_ENV.region,
      `is required when ${UPLOADER_ENV.endpoint} is not set (the bucket's AWS region)`,
    );
  }
  if (region) checked(regionVariable, () => checkRegion(region, endpoint !== undefined));
  return {
    bucket,
    prefix,
    endpoint,
    region: region ?? UPLOADER_DEFAULTS.endpointRegion,
    forcePathStyle: parseBoolean(get, UPLOADER_ENV.forcePathStyle, UPLOADER_DEFAULTS.forcePathStyle),
  };
}

/** A key segment from the environment: letters, digits, `.`, `_`, `-`, not `.` or `..`. */
function segment(variable: UploaderVariable, value: string): string {
  if (!/^[A-Za-z0-9._-]{1,253}$/.test(value) || value === '.' || value === '..') {
    throw new EnvError(
      variable,
      `"${value}" cannot be a key segment (1-253 of A-Z a-z 0-9 . _ -, not "." or "..")`,
    );
  }
  return value;
}

/**
 * A value for object metadata (an HTTP header): a Kubernetes name (a DNS subdomain: letters, digits, `.`,
 * `-`). A newline or a non-ASCII character would make every upload's request invalid, retried forever.
 */
function headerName(variable: UploaderVariable, value: string): string {
  if (!/^[A-Za-z0-9._-]{1,253}$/.test(value)) {
    throw new EnvError(
      variable,
      `"${JSON.stringify(value).slice(1, -1)}" is not a node name (1-253 of A-Z a-z 0-9 . _ -): it goes into every upload's headers`,
    );
  }
  return value;
}

/**
 * The longest dump or summary key this pod can write must fit S3's 1024 bytes: the prefix and the three
 * segments, the time and id, the longest file name kept as it is (200), `.zst`, `.summary.json`.
 */
function checkKeyRoom(prefix: string, pod: { namespace: string; app: string; name: string }): void {
  const fixed = '20261128T000000Z-00000000-'.length + 200 + '.zst'.length + '.summary.json'.length;
  const place = `${pod.namespace}/${pod.app}/${pod.name}/`;
  const bytes = Buffer.byteLength(prefix, 'utf8') + place.length + fixed;
  if (bytes > MAX_KEY_BYTES) {
    throw new EnvError(
      UPLOADER_ENV.prefix,
      `leaves no room in S3's ${MAX_KEY_BYTES}-byte keys: with "${place}" a dump's summary key may take ${bytes} bytes`,
    );
  }
}

/** `https://host:port` of the in-cluster API server (IPv6 hosts bracketed), undefined outside a cluster. */
function apiServer(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const host = env[KUBERNETES_ENV.host]?.trim();
  if (!host) return undefined;
  const port = env[KUBERNETES_ENV.port]?.trim() || '443';
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function webhook(get: ValueSource): string | undefined {
  const v = value(get, UPLOADER_ENV.webhookUrl);
  if (v === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new EnvError(UPLOADER_ENV.webhookUrl, 'is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new EnvError(UPLOADER_ENV.webhookUrl, 'must be an http(s) URL');
  }
  return v;
}

/** The uploader's whole configuration; `hostname` stands in for POD_NAME outside Kubernetes. */
export function parseUploaderEnv(
  env: Readonly<Record<string, string | undefined>>,
  hostname: string,
): UploaderConfig {
  const get: ValueSource = (name) => env[name];
  const E = UPLOADER_ENV;
  const D = UPLOADER_DEFAULTS;
  const podName = segment(E.podName, value(get, E.podName) ?? hostname);
  const store = resolveStore(get);
  const pod = {
    name: podName,
    namespace: segment(E.podNamespace, value(get, E.podNamespace) ?? D.namespace),
    node: headerName(E.nodeName, value(get, E.nodeName) ?? D.node),
    app: segment(E.app, value(get, E.app) ?? podName),
  };
  checkKeyRoom(store.prefix, pod);
  return {
    ...store,
    dir: value(get, E.dir) ?? D.dir,
    checksum: parseChoice(get, E.checksum, CHECKSUM_MODES, D.checksum),
    compression: parseChoice(get, E.compression, COMPRESSIONS, D.compression),
    deleteAfterUpload: parseBoolean(get, E.deleteAfterUpload, D.deleteAfterUpload),
    quietSeconds: parseNumber(get, E.quietSeconds, D.quietSeconds, 1, 86_400),
    concurrency: parseNumber(get, E.concurrency, D.concurrency, 1, 64, true),
    bufferMiB: parseNumber(get, E.bufferMiB, D.bufferMiB, 8, 4096, true),
    timeoutSeconds: parseNumber(get, E.timeoutSeconds, D.timeoutSeconds, 1, 3600),
    shutdownSeconds: parseNumber(get, E.shutdownSeconds, D.shutdownSeconds, 1, 86_400),
    metricsPort: parseNumber(get, E.metricsPort, D.metricsPort, 0, 65_535, true),
    logLevel: parseChoice(get, E.logLevel, LOG_LEVELS, D.logLevel),
    ...(value(get, E.redact) === undefined
      ? {}
      : { redact: parseChoice(get, E.redact, REDACT_MODES, D.redact) }),
    ...optionalNumber(get, E.ownerUid, 'ownerUid', 0, 2 ** 32 - 2),
    ...optionalNumber(get, E.maxDumpBytes, 'maxDumpBytes', 1, Number.MAX_SAFE_INTEGER),
    pod,
  };
}

/** Where the uploader tells of stored dumps (its own variables, apart from the settings the component decides). */
export function parseNotifyEnv(env: Readonly<Record<string, string | undefined>>): NotifySettings {
  const get: ValueSource = (name) => env[name];
  return {
    events: parseBoolean(get, UPLOADER_ENV.events, UPLOADER_DEFAULTS.events),
    serviceAccountDir: value(get, UPLOADER_ENV.serviceAccountDir) ?? UPLOADER_DEFAULTS.serviceAccountDir,
    apiServer: apiServer(env),
    webhookUrl: webhook(get),
    podUid: value(get, UPLOADER_ENV.podUid),
  };
}

/**
 * The literal variables for these settings, in a stable order (the component adds the downward-API and
 * credential variables). Defaults are written out too, so the pod spec shows exactly what the uploader does.
 */
export function uploaderEnvValues(
  s: UploaderSettings & { app: string },
): { name: UploaderVariable; value: string }[] {
  const E = UPLOADER_ENV;
  const env: { name: UploaderVariable; value: string }[] = [
    { name: E.dir, value: s.dir },
    { name: E.bucket, value: s.bucket },
    { name: E.prefix, value: s.prefix },
  ];
  if (s.endpoint !== undefined) env.push({ name: E.endpoint, value: s.endpoint });
  env.push(
    { name: E.forcePathStyle, value: String(s.forcePathStyle) },
    { name: E.checksum, value: s.checksum },
    { name: E.region, value: s.region },
    { name: E.compression, value: s.compression },
    { name: E.deleteAfterUpload, value: String(s.deleteAfterUpload) },
    { name: E.quietSeconds, value: String(s.quietSeconds) },
    { name: E.concurrency, value: String(s.concurrency) },
    { name: E.bufferMiB, value: String(s.bufferMiB) },
    { name: E.timeoutSeconds, value: String(s.timeoutSeconds) },
    { name: E.shutdownSeconds, value: String(s.shutdownSeconds) },
    { name: E.metricsPort, value: String(s.metricsPort) },
    { name: E.logLevel, value: s.logLevel },
    { name: E.app, value: s.app },
  );
  if (s.redact !== undefined) env.push({ name: E.redact, value: s.redact });
  if (s.ownerUid !== undefined) env.push({ name: E.ownerUid, value: String(s.ownerUid) });
  if (s.maxDumpBytes !== undefined) env.push({ name: E.maxDumpBytes, value: String(s.maxDumpBytes) });
  return env;
}

/** The downward-API fields the pod facts come from. */
export const POD_FIELD_ENV: readonly { name: UploaderVariable; fieldPath: string }[] = [
  { name: UPLOADER_ENV.podName, fieldPath: 'metadata.name' },
  { name: UPLOADER_ENV.podNamespace, fieldPath: 'metadata.namespace' },
  { name: UPLOADER_ENV.nodeName, fieldPath: 'spec.nodeName' },
];
