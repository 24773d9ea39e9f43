// Errors the user sees: one line each, no stack trace. UsageError exits 2 (bad arguments), StoreError and
// DataError 1.
import { NETWORK_ERRORS, redactUrl, s3ErrorCode, s3HttpStatus } from '@kube-heapdump/contract';

/** A problem with what the user asked for: printed as one line, exit status 2. */
export class UsageError extends Error {}

/** The store refused or could not be reached: printed as one line, exit status 1. */
export class StoreError extends Error {}

/** The data is not what the verb needs (not a dump, truncated): printed as one line, exit status 1. */
export class DataError extends Error {}

/** The endpoint answers HTTP, but not as S3 does (a web page, a JSON API, a proxy's error page). */
export function notS3Endpoint(endpoint: string | undefined, status: number | undefined): StoreError {
  const where = endpoint === undefined ? 'AWS S3' : redactUrl(endpoint);
  return new StoreError(
    `${where} answers${status === undefined ? '' : ` (HTTP ${status})`} but is not an S3 endpoint; ` +
      'check --endpoint / HEAPDUMP_S3_ENDPOINT',
  );
}

/**
 * An error from a call whose answer has a body (all but HEAD): an S3 store always says its error code in an
 * XML body, so an answer without one, or one that is not XML, came from something else.
 */
export function isForeignAnswer(err: unknown): boolean {
  const e = err as { Code?: string; message?: string };
  if (s3HttpStatus(err) === undefined) return false;
  return e.Code === undefined || /XML parse error|Deserialization error/i.test(e.message ?? '');
}

/** One line saying what went wrong talking to the store, for `what` (like `s3://bucket/key`). */
export function describeStoreError(err: unknown, what: string, endpoint: string | undefined): StoreError {
  const e = err as { name?: string; message?: string };
  const code = s3ErrorCode(err);
  const status = s3HttpStatus(err);
  const where = endpoint === undefined ? 'AWS S3' : redactUrl(endpoint);
  if (/XML parse error|Deserialization error/i.test(e.message ?? '')) return notS3Endpoint(endpoint, status);
  if (e.name === 'CredentialsProviderError' || /Could not load credentials/i.test(e.message ?? '')) {
    return new StoreError(
      'no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or log in (aws sso login)',
    );
  }
  if (code === 'NoSuchBucket') return new StoreError(`${what}: the bucket does not exist at ${where}`);
  if (code === 'NoSuchKey' || code === 'NotFound') return new StoreError(`${what}: no such object`);
  if (code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch') {
    return new StoreError(`${what}: the store rejected your credentials (${code})`);
  }
  if (code === 'AccessDenied' || code === 'Forbidden' || status === 403) {
    return new StoreError(
      `${what}: access denied; your credentials need read access to the bucket (s3:GetObject, s3:ListBucket)`,
    );
  }
  if (NETWORK_ERRORS.has(code)) return new StoreError(`cannot reach ${where} (${code})`);
  return new StoreError(`${what}: ${code}${e.message && e.message !== code ? `: ${e.message}` : ''}`);
}
