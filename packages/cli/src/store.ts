// Where the dumps are: the same store settings as the uploader (the contract's resolveStore), from flags or
// the uploader's environment variables; credentials from the AWS SDK's standard chain (the developer's own,
// read-only is enough). The S3 client is loaded only by verbs that talk to the store.
import type { S3Client } from '@aws-sdk/client-s3';
import {
  EnvError,
  resolveStore,
  type StoreSettings,
  UPLOADER_ENV,
  type UploaderVariable,
} from '@kube-heapdump/contract';
import { UsageError } from './errors.ts';

export interface StoreOptions {
  bucket?: string;
  prefix?: string;
  endpoint?: string;
  region?: string;
  pathStyle?: boolean;
}

export interface Store extends StoreSettings {
  client: S3Client;
}

/** The flags every verb that reads the bucket takes, with the variable each falls back to. */
const FLAG_OF: Partial<Record<UploaderVariable, { flag: string; option: keyof StoreOptions }>> = {
  [UPLOADER_ENV.bucket]: { flag: '--bucket', option: 'bucket' },
  [UPLOADER_ENV.prefix]: { flag: '--prefix', option: 'prefix' },
  [UPLOADER_ENV.endpoint]: { flag: '--endpoint', option: 'endpoint' },
  [UPLOADER_ENV.region]: { flag: '--region', option: 'region' },
  [UPLOADER_ENV.forcePathStyle]: { flag: '--path-style', option: 'pathStyle' },
};

export const STORE_FLAGS = [
  ['--bucket <name>', `bucket the dumps are in (env ${UPLOADER_ENV.bucket})`],
  ['--prefix <prefix>', `key prefix (env ${UPLOADER_ENV.prefix}, default heapdumps/)`],
  [
    '--endpoint <url>',
    `S3-compatible endpoint, e.g. https://obs.cn-north-4.myhuaweicloud.com (env ${UPLOADER_ENV.endpoint})`,
  ],
  [
    '--region <region>',
    `region (env ${UPLOADER_ENV.region} or ${UPLOADER_ENV.defaultRegion}; us-east-1 with an endpoint)`,
  ],
  ['--path-style', `path-style addressing, usual for MinIO (env ${UPLOADER_ENV.forcePathStyle}=true)`],
] as const;

/** The store settings from the flags, else the environment; a bad value names the flag and the variable. */
export function storeSettings(options: StoreOptions, env: NodeJS.ProcessEnv = process.env): StoreSettings {
  try {
    return resolveStore((variable) => {
      const option = FLAG_OF[variable]?.option;
      const given = option === undefined ? undefined : options[option];
      if (given !== undefined) return String(given);
      return env[variable];
    });
  } catch (err) {
    if (!(err instanceof EnvError)) throw err;
    const flag = FLAG_OF[err.variable]?.flag;
    if (err.variable === UPLOADER_ENV.bucket && err.message.includes('is required'))
      throw new UsageError(`no bucket: pass --bucket or set ${UPLOADER_ENV.bucket}`);
    if (err.variable === UPLOADER_ENV.region && err.message.includes('is required'))
      throw new UsageError(`no region: pass --region or set ${UPLOADER_ENV.region}`);
    throw new UsageError(flag ? `${flag} / ${err.message}` : err.message);
  }
}

/** The settings and an S3 client for them (the SDK is loaded here, not at start-up). */
export async function openStore(options: StoreOptions, env: NodeJS.ProcessEnv = process.env): Promise<Store> {
  const settings = storeSettings(options, env);
  const { S3Client } = await import('@aws-sdk/client-s3');
  const client = new S3Client({
    region: settings.region,
    endpoint: settings.endpoint,
    forcePathStyle: settings.forcePathStyle,
    maxAttempts: 3,
  });
  return { ...settings, client };
}
