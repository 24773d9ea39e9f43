// Errors the user sees: one line each, no stack trace. UsageError exits 2 (bad arguments), StoreError 1.

/** A problem with what the user asked for: printed as one line, exit status 2. */
export class UsageError extends Error {}

/** The store refused or could not be reached: printed as one line, exit status 1. */
export class StoreError extends Error {}

interface SdkError {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** One line saying what went wrong talking to the store, for `what` (like `s3://bucket/key`). */
export function describeStoreError(err: unknown, what: string, endpoint: string | undefined): StoreError {
  const e = err as SdkError;
  const code = e.Code ?? e.code ?? e.name ?? '';
  const status = e.$metadata?.httpStatusCode;
  const where = endpoint ?? 'AWS S3';
  if (e.name === 'CredentialsProviderError' || /Could not load credentials/i.test(e.message ?? '')) {
    return new StoreError(
      'no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or log in (aws sso login)',
    );
  }
  if (code === 'NoSuchBucket') return new StoreError(`${what}: the bucket does not exist at ${where}`);
  if (code === 'NoSuchKey' || (status === 404 && code !== 'NoSuchBucket'))
    return new StoreError(`${what}: no such object`);
  if (['InvalidAccessKeyId', 'SignatureDoesNotMatch'].includes(code)) {
    return new StoreError(`${what}: the store rejected your credentials (${code})`);
  }
  if (code === 'AccessDenied' || code === 'Forbidden' || status === 403) {
    return new StoreError(
      `${what}: access denied; your credentials need read access to the bucket (s3:GetObject, s3:ListBucket)`,
    );
  }
  if (
    [
      'ECONNREFUSED',
      'ENOTFOUND',
      'EAI_AGAIN',
      'ETIMEDOUT',
      'ECONNRESET',
      'EHOSTUNREACH',
      'ENETUNREACH',
    ].includes(code)
  ) {
    return new StoreError(`cannot reach ${where} (${code})`);
  }
  return new StoreError(
    `${what}: ${code || 'error'}${e.message && e.message !== code ? `: ${e.message}` : ''}`,
  );
}
