// Errors the user sees: one line each, no stack trace. UsageError exits 2 (bad arguments), StoreError 1.
import { NETWORK_ERRORS, redactUrl, s3ErrorCode, s3HttpStatus } from '@kube-heapdump/contract';

/** A problem with what the user asked for: printed as one line, exit status 2. */
export class UsageError extends Error {}

/** The store refused or could not be reached: printed as one line, exit status 1. */
export class StoreError extends Error {}

/** One line saying what went wrong talking to the store, for `what` (like `s3://bucket/key`). */
export function describeStoreError(err: unknown, what: string, endpoint: string | undefined): StoreError {
  const e = err as { name?: string; message?: string };
  const code = s3ErrorCode(err);
  const status = s3HttpStatus(err);
  const where = endpoint === undefined ? 'AWS S3' : redactUrl(endpoint);
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
