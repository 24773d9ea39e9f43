// The uploader's environment: every variable, its default and its rule (uploader-variables.ts). The component
// renders it (uploaderEnvValues), the uploader reads it (parseUploaderEnv, and parseNotifyEnv in notify-env.ts),
// the CLI reads the store part of it (resolveStore in store-env.ts) from its flags or the same variables. A test
// renders the component's env and parses it here. Importers take every name from this module.
import { COMPRESSIONS, type Compression } from './compression.ts';
import {
  EnvError,
  optionalNumber,
  parseBoolean,
  parseChoice,
  parseNumber,
  type ValueSource,
  value,
} from './env-read.ts';
import { MAX_KEY_BYTES } from './store.ts';
import { resolveStore, type StoreSettings } from './store-env.ts';
import {
  CHECKSUM_MODES,
  type ChecksumMode,
  LOG_LEVELS,
  type LogLevel,
  REDACT_MODES,
  type RedactMode,
  UPLOADER_DEFAULTS,
  UPLOADER_ENV,
  type UploaderVariable,
} from './uploader-variables.ts';

export { EnvError, type ValueSource } from './env-read.ts';
export { KUBERNETES_ENV, type NotifySettings, parseNotifyEnv } from './notify-env.ts';
export { resolveStore, type StoreSettings } from './store-env.ts';
export * from './uploader-variables.ts';

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

export interface UploaderConfig extends UploaderSettings {
  pod: PodIdentity;
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
