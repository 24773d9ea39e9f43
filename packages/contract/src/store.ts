// How the parts name and reach the store: bucket, key prefix and endpoint rules, and reading an S3 error's
// code. Pure: each check throws InvalidValue saying what is wrong with the value; callers name their field.

/** A value that breaks a rule of the contract; the caller adds the name of the field or variable. */
export class InvalidValue extends Error {}

/** S3 bucket naming rules (3-63 characters, lower case, digits, dots, hyphens); OBS and MinIO follow them. */
const BUCKET = /^(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function checkBucket(bucket: string): string {
  if (!BUCKET.test(bucket))
    throw new InvalidValue(`"${bucket}" is not a valid bucket name (3-63 of a-z 0-9 . -)`);
  return bucket;
}

export const DEFAULT_PREFIX = 'heapdumps/';

/** What S3 allows in a key: 1024 bytes of UTF-8 (S3 and RGW refuse longer ones, whatever the characters). */
export const MAX_KEY_BYTES = 1024;
/** Bytes of the key a prefix may take: dumps and their summaries need the rest. */
export const MAX_PREFIX_BYTES = 512;

/** Key prefix: empty or ending in `/` (one is added), never starting with one, at most 512 bytes of UTF-8. */
export function normalizePrefix(prefix: string): string {
  if (prefix.startsWith('/')) throw new InvalidValue(`"${prefix}" must not start with "/"`);
  const bytes = Buffer.byteLength(prefix, 'utf8');
  if (bytes > MAX_PREFIX_BYTES) {
    throw new InvalidValue(
      `is ${bytes} bytes in UTF-8, more than ${MAX_PREFIX_BYTES} (S3 keys hold ${MAX_KEY_BYTES} bytes, the dump's name and place need the rest)`,
    );
  }
  return prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
}

/**
 * An S3 region: a host label (letters, digits, `-`) for AWS, whose host names carry it; with an endpoint only
 * SigV4's scope does, so `_` and `.` (RGW zonegroups) pass too, never `/` or spaces, which break the scope.
 */
export function checkRegion(region: string, withEndpoint: boolean): string {
  const ok = withEndpoint ? /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/ : /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
  if (!ok.test(region)) {
    throw new InvalidValue(
      withEndpoint
        ? `"${region}" is not a region (1-63 of A-Z a-z 0-9 . _ -, like us-east-1)`
        : `"${region}" is not an AWS region (lower-case letters, digits and -, like eu-west-3)`,
    );
  }
  return region;
}

/**
 * An S3-compatible endpoint: an http(s) URL of a host, with nothing after it but an optional path. Credentials
 * in the URL are refused: S3 does not read them there, and they would end up in logs.
 */
export function checkEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new InvalidValue(
      `"${redactUrl(endpoint)}" is not a URL (like https://obs.cn-north-4.myhuaweicloud.com)`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidValue(`"${redactUrl(endpoint)}" must be an http:// or https:// URL`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new InvalidValue(
      `"${redactUrl(endpoint)}" holds credentials; give them as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY instead`,
    );
  }
  if (url.search !== '' || url.hash !== '') {
    throw new InvalidValue(`"${redactUrl(endpoint)}" must not have a query or fragment`);
  }
  return endpoint;
}

/** A URL fit for a log line or a message: user, password and query values replaced by `***`. */
export function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Not a URL: still hide anything that looks like `scheme://user:secret@`.
    return text.replace(/\/\/[^/@\s]*@/, '//***@');
  }
  if (url.username === '' && url.password === '' && url.search === '') return text;
  if (url.username !== '') url.username = '***';
  if (url.password !== '') url.password = '***';
  for (const name of [...url.searchParams.keys()]) url.searchParams.set(name, '***');
  return url.toString();
}

/**
 * The S3 error code of an AWS SDK error (`NoSuchKey`, `AccessDenied`...), or for answers without a body
 * (HEAD) a name from the HTTP status, or the network error's code (`ECONNREFUSED`).
 */
export function s3ErrorCode(err: unknown): string {
  const e = err as { Code?: string; name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const named =
    e.Code ?? (e.name && !['Error', 'Unknown', 'UnknownError'].includes(e.name) ? e.name : undefined);
  if (named) return named;
  const status = e.$metadata?.httpStatusCode;
  if (status === 403) return 'Forbidden';
  if (status === 404) return 'NotFound';
  if (status === 412) return 'PreconditionFailed';
  return status ? `HTTP ${status}` : (e.code ?? 'UnknownError');
}

/** The HTTP status of an AWS SDK error, when it got an answer. */
export function s3HttpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** Codes that mean the credential was refused or lacks a permission. */
export const CREDENTIAL_ERRORS: ReadonlySet<string> = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'Forbidden',
]);

/** Network failures: the store was not reached (or stopped answering). */
export const NETWORK_ERRORS: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'TimeoutError',
  'RequestTimeout',
]);
