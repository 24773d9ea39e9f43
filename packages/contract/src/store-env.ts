// Where dumps go, from the variables: what the uploader and the CLI (from its flags or the same variables)
// must agree on.
import { checked, EnvError, parseBoolean, type ValueSource, value } from './env-read.ts';
import { checkBucket, checkEndpoint, checkRegion, DEFAULT_PREFIX, normalizePrefix } from './store.ts';
import { UPLOADER_DEFAULTS, UPLOADER_ENV } from './uploader-variables.ts';

/** Where dumps go: what the uploader and the CLI must agree on. */
export interface StoreSettings {
  bucket: string;
  /** Empty or ending in `/`. */
  prefix: string;
  endpoint: string | undefined;
  region: string;
  forcePathStyle: boolean;
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
