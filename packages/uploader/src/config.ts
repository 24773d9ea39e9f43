// The uploader's contract with the component: environment variables, parsed and checked in one place.
// Every problem names the variable; secrets are never echoed.

export type Compression = 'none' | 'gzip' | 'zstd';

export interface PodFacts {
  name: string;
  namespace: string;
  node: string;
  app: string;
}

export interface UploaderConfig {
  dir: string;
  bucket: string;
  /** Key prefix, empty or ending in '/'. */
  prefix: string;
  endpoint: string | undefined;
  forcePathStyle: boolean;
  region: string;
  compression: Compression;
  deleteAfterUpload: boolean;
  /** A dump that stops growing this long without its end record is shipped as truncated. */
  quietSeconds: number;
  /** Port for /healthz and /metrics; 0 turns the endpoint off. */
  metricsPort: number;
  /** Send and verify CRC32 checksums (parts and whole object); off for stores that reject them. */
  checksums: boolean;
  pod: PodFacts;
}

export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable} ${message}`);
    this.variable = variable;
  }
}

export const DEFAULTS = {
  dir: '/dumps',
  prefix: 'heapdumps/',
  compression: 'zstd' as Compression,
  quietSeconds: 60,
  metricsPort: 9779,
  region: 'us-east-1',
};

/** S3 bucket naming rules (3-63 chars, lower case, digits, dots, hyphens); OBS and MinIO follow them too. */
const BUCKET = /^(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function parseConfig(
  env: Readonly<Record<string, string | undefined>>,
  hostname: string,
): UploaderConfig {
  const get = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === '' ? undefined : v;
  };

  const bucket = get('HEAPDUMP_BUCKET');
  if (!bucket) throw new ConfigError('HEAPDUMP_BUCKET', 'is required: the bucket dumps are uploaded to');
  if (!BUCKET.test(bucket)) {
    throw new ConfigError('HEAPDUMP_BUCKET', `"${bucket}" is not a valid bucket name (3-63 of a-z 0-9 . -)`);
  }

  let prefix = env.HEAPDUMP_PREFIX ?? DEFAULTS.prefix;
  if (prefix.startsWith('/')) throw new ConfigError('HEAPDUMP_PREFIX', `"${prefix}" must not start with "/"`);
  if (prefix !== '' && !prefix.endsWith('/')) prefix = `${prefix}/`;

  const endpoint = get('HEAPDUMP_S3_ENDPOINT');
  if (endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new ConfigError(
        'HEAPDUMP_S3_ENDPOINT',
        `"${endpoint}" is not a URL (like https://obs.cn-north-4.myhuaweicloud.com)`,
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ConfigError('HEAPDUMP_S3_ENDPOINT', `"${endpoint}" must be an http:// or https:// URL`);
    }
  }

  const region = get('AWS_REGION') ?? get('AWS_DEFAULT_REGION');
  if (!region && endpoint === undefined) {
    throw new ConfigError(
      'AWS_REGION',
      "is required when HEAPDUMP_S3_ENDPOINT is not set (the bucket's AWS region)",
    );
  }

  const compression = get('HEAPDUMP_COMPRESSION') ?? DEFAULTS.compression;
  if (compression !== 'none' && compression !== 'gzip' && compression !== 'zstd') {
    throw new ConfigError('HEAPDUMP_COMPRESSION', `"${compression}" is not one of none, gzip, zstd`);
  }

  const checksum = get('HEAPDUMP_S3_CHECKSUM') ?? 'crc32';
  if (checksum !== 'crc32' && checksum !== 'off') {
    throw new ConfigError('HEAPDUMP_S3_CHECKSUM', `"${checksum}" is not one of crc32, off`);
  }

  const pod: PodFacts = {
    name: get('POD_NAME') ?? hostname,
    namespace: get('POD_NAMESPACE') ?? 'default',
    node: get('NODE_NAME') ?? 'unknown',
    app: get('HEAPDUMP_APP') ?? get('POD_NAME') ?? hostname,
  };
  for (const [variable, value] of [
    ['POD_NAME', pod.name],
    ['POD_NAMESPACE', pod.namespace],
    ['HEAPDUMP_APP', pod.app],
  ] as const) {
    if (value.includes('/') || value === '.' || value === '..') {
      throw new ConfigError(variable, `"${value}" cannot be a key segment (no "/", not "." or "..")`);
    }
  }

  return {
    dir: get('HEAPDUMP_DIR') ?? DEFAULTS.dir,
    bucket,
    prefix,
    endpoint,
    forcePathStyle: parseBoolean(get('HEAPDUMP_S3_FORCE_PATH_STYLE'), false, 'HEAPDUMP_S3_FORCE_PATH_STYLE'),
    region: region ?? DEFAULTS.region,
    compression,
    deleteAfterUpload: parseBoolean(
      get('HEAPDUMP_DELETE_AFTER_UPLOAD'),
      true,
      'HEAPDUMP_DELETE_AFTER_UPLOAD',
    ),
    quietSeconds: parseNumber(
      get('HEAPDUMP_QUIET_SECONDS'),
      DEFAULTS.quietSeconds,
      'HEAPDUMP_QUIET_SECONDS',
      1,
      86_400,
    ),
    metricsPort: parseNumber(
      get('HEAPDUMP_METRICS_PORT'),
      DEFAULTS.metricsPort,
      'HEAPDUMP_METRICS_PORT',
      0,
      65_535,
      true,
    ),
    checksums: checksum === 'crc32',
    pod,
  };
}

function parseBoolean(value: string | undefined, fallback: boolean, name: string): boolean {
  if (value === undefined) return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new ConfigError(name, `"${value}" must be true or false`);
}

function parseNumber(
  value: string | undefined,
  fallback: number,
  name: string,
  min: number,
  max: number,
  integer = false,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new ConfigError(
      name,
      `"${value}" must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`,
    );
  }
  return n;
}
