// The S3 client and the retry policy around every call: capped exponential backoff with full jitter,
// slow retries for credential errors, and immediate errors for the answers the caller must handle itself.
import { S3Client } from '@aws-sdk/client-s3';
import { CREDENTIAL_ERRORS, s3ErrorCode, type UploaderConfig } from '@kube-heapdump/contract';
import type { Logger } from './log.ts';

export function createS3Client(cfg: UploaderConfig): S3Client {
  return new S3Client({
    region: cfg.region,
    endpoint: cfg.endpoint,
    forcePathStyle: cfg.forcePathStyle,
    maxAttempts: 1, // retries are ours: bodies are streams the SDK cannot replay
    requestChecksumCalculation: cfg.checksums ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED',
    responseChecksumValidation: cfg.checksums ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED',
  });
}

export interface RetryPolicy {
  /** Attempts before giving up; Infinity keeps a dump's upload alive as long as the pod lives. */
  maxAttempts: number;
  baseMs: number;
  capMs: number;
  /** First delay after a credential error (403): waiting longer gives an operator time to fix the Secret. */
  credentialBaseMs: number;
}

export const DAEMON_RETRY: RetryPolicy = {
  maxAttempts: Number.POSITIVE_INFINITY,
  baseMs: 500,
  capMs: 30_000,
  credentialBaseMs: 10_000,
};
export const ONCE_RETRY: RetryPolicy = {
  maxAttempts: 6,
  baseMs: 500,
  capMs: 10_000,
  credentialBaseMs: 2_000,
};

/** Answers that retrying cannot change; the caller decides. */
const FINAL = new Set([
  'NoSuchUpload',
  'PreconditionFailed',
  'InvalidPart',
  'InvalidPartOrder',
  'EntityTooSmall',
  'EntityTooLarge',
  'MalformedXML',
  'InvalidArgument',
  'InvalidBucketName',
  'NotImplemented',
]);

export function isCredentialError(code: string): boolean {
  return CREDENTIAL_ERRORS.has(code);
}

export class GaveUp extends Error {}

/**
 * Calls until success, a final answer, `policy.maxAttempts`, or `stopping` (shutdown: uploads that still make
 * progress finish, failing ones stop retrying; the dump and the saved state stay for the next start).
 */
export async function withRetry<T>(
  what: string,
  call: () => Promise<T>,
  policy: RetryPolicy,
  log: Logger,
  onError?: (code: string) => void,
  stopping?: AbortSignal,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const code = s3ErrorCode(err);
      onError?.(code);
      if (FINAL.has(code)) throw err;
      const credential = isCredentialError(code);
      if (attempt >= policy.maxAttempts || stopping?.aborted) {
        const why = stopping?.aborted ? 'stopping' : `failed ${attempt} times`;
        throw new GaveUp(`${what}: ${why}, last error ${code}: ${(err as Error).message}`);
      }
      const base = credential ? policy.credentialBaseMs : policy.baseMs;
      const delay = Math.random() * Math.min(policy.capMs * (credential ? 2 : 1), base * 2 ** (attempt - 1));
      const fields = { op: what, code, attempt, retryInMs: Math.round(delay), error: (err as Error).message };
      if (credential)
        log.error(fields, `S3 refused our credentials (${code}); the dump is kept, retrying slowly`);
      else log.warn(fields, `S3 call failed (${code}), retrying`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delay);
        function done() {
          clearTimeout(timer);
          stopping?.removeEventListener('abort', done);
          resolve();
        }
        stopping?.addEventListener('abort', done);
      });
    }
  }
}
