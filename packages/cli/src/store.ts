// Where the dumps are: the same S3 settings as the uploader, from flags or the uploader's environment
// variables; credentials from the AWS SDK's standard chain (the developer's own, read-only is enough).
import { S3Client } from '@aws-sdk/client-s3';
import { UsageError } from './errors.ts';

export interface StoreOptions {
  bucket?: string;
  prefix?: string;
  endpoint?: string;
  region?: string;
  pathStyle?: boolean;
}

export interface Store {
  bucket: string;
  /** Empty or ending in `/`. */
  prefix: string;
  endpoint: string | undefined;
  region: string;
  forcePathStyle: boolean;
  client: S3Client;
}

/** The flags every verb that reads the bucket takes, with the env variable each falls back to. */
export const STORE_FLAGS = [
  ['--bucket <name>', 'bucket the dumps are in (env HEAPDUMP_BUCKET)'],
  ['--prefix <prefix>', 'key prefix (env HEAPDUMP_PREFIX, default heapdumps/)'],
  [
    '--endpoint <url>',
    'S3-compatible endpoint, e.g. https://obs.cn-north-4.myhuaweicloud.com (env HEAPDUMP_S3_ENDPOINT)',
  ],
  ['--region <region>', 'region (env AWS_REGION or AWS_DEFAULT_REGION; us-east-1 with an endpoint)'],
  ['--path-style', 'path-style addressing, usual for MinIO (env HEAPDUMP_S3_FORCE_PATH_STYLE=true)'],
] as const;

export function openStore(options: StoreOptions, env: NodeJS.ProcessEnv = process.env): Store {
  const get = (name: string) => (env[name]?.trim() ? env[name]?.trim() : undefined);
  const bucket = options.bucket ?? get('HEAPDUMP_BUCKET');
  if (!bucket) throw new UsageError('no bucket: pass --bucket or set HEAPDUMP_BUCKET');
  let prefix = options.prefix ?? env.HEAPDUMP_PREFIX ?? 'heapdumps/';
  if (prefix.startsWith('/')) throw new UsageError(`--prefix "${prefix}" must not start with "/"`);
  if (prefix !== '' && !prefix.endsWith('/')) prefix = `${prefix}/`;
  const endpoint = options.endpoint ?? get('HEAPDUMP_S3_ENDPOINT');
  if (endpoint !== undefined && !/^https?:\/\/[^/]+/.test(endpoint)) {
    throw new UsageError(`--endpoint "${endpoint}" is not an http(s) URL`);
  }
  const region =
    options.region ?? get('AWS_REGION') ?? get('AWS_DEFAULT_REGION') ?? (endpoint ? 'us-east-1' : undefined);
  if (!region) throw new UsageError('no region: pass --region or set AWS_REGION');
  const pathStyleEnv = get('HEAPDUMP_S3_FORCE_PATH_STYLE');
  if (pathStyleEnv !== undefined && pathStyleEnv !== 'true' && pathStyleEnv !== 'false') {
    throw new UsageError(`HEAPDUMP_S3_FORCE_PATH_STYLE "${pathStyleEnv}" must be true or false`);
  }
  const forcePathStyle = options.pathStyle ?? pathStyleEnv === 'true';
  const client = new S3Client({ region, endpoint, forcePathStyle, maxAttempts: 3 });
  return { bucket, prefix, endpoint, region, forcePathStyle, client };
}
