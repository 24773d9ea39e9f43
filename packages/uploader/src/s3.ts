// The S3 client and the retry policy around every call. The client sends only the checksums we computed
// (never aws-chunked bodies, which some stores refuse), keeps its connections alive (no Expect: 100-continue,
// which makes the SDK open a new connection per request), times out idle connections, and logs through ours.
// Every failure is classified: retried with capped exponential backoff and full jitter, retried slowly
// (credentials or configuration an operator can fix), or final (retrying cannot change the answer).
import { Stream } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import { CREDENTIAL_ERRORS, NETWORK_ERRORS, s3ErrorCode, s3HttpStatus } from '@kube-heapdump/contract';
import { FileChanged } from './dump-file.ts';
import type { Logger } from './log.ts';

export interface ClientOptions {
  region: string;
  endpoint: string | undefined;
  forcePathStyle: boolean;
  /** Connections the client may hold open at once. */
  maxSockets: number;
  /** A connection idle this long (no byte sent or received) is given up; the call is retried. */
  idleTimeoutMs: number;
}

export function createS3Client(o: ClientOptions, log: Logger): S3Client {
  const agent = { keepAlive: true, maxSockets: o.maxSockets, maxFreeSockets: o.maxSockets };
  // The SDK's own lines become our JSON lines instead of plain text on stderr; its errors are also
  // ours to report (with the retry that follows), so they are debug lines here.
  const logger = {
    debug: () => {},
    info: () => {},
    warn: (...args: unknown[]) => {
      const sdk = sdkText(args);
      // Said by the SDK for every failed part (its body is a stream): our retry line says which and why.
      if (sdk === STREAMING_FAILURE) log.debug({ sdk }, 'AWS SDK warning');
      else log.warn({ sdk }, 'AWS SDK warning');
    },
    error: (...args: unknown[]) => log.debug({ sdk: sdkText(args) }, 'AWS SDK error'),
  };
  return new S3Client({
    region: o.region,
    endpoint: o.endpoint,
    forcePathStyle: o.forcePathStyle,
    maxAttempts: 1, // retries are ours: bodies are streams the SDK cannot replay
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    expectContinueHeader: false,
    requestHandler: {
      httpAgent: agent,
      httpsAgent: agent,
      connectionTimeout: 10_000,
      requestTimeout: o.idleTimeoutMs,
      throwOnRequestTimeout: true,
      // Its own warnings (socket capacity) would go to console.warn without it: the client's is not passed on.
      logger,
    },
    logger,
  });
}

const STREAMING_FAILURE = 'An error was encountered in a non-retryable streaming request.';

/**
 * The SDK logger's arguments as text. It is called inside the SDK's error path: if it threw, its exception
 * would replace the store's answer (NoSuchUpload, InvalidAccessKeyId... would all become a TypeError). Its
 * error record holds the command's input, whose streaming body, while still piped, leads to the request and
 * its socket (a cycle): only the command and the error are described, and nothing else is serialized whole.
 */
export function sdkText(args: readonly unknown[]): string {
  return args.map(describeSdkArg).join(' ');
}

function describeSdkArg(a: unknown): string {
  if (a instanceof Error) return `${a.name}: ${a.message}`;
  if (typeof a !== 'object' || a === null) return String(a);
  const record = a as { commandName?: unknown; error?: unknown };
  if (record.error !== undefined) {
    const command = typeof record.commandName === 'string' ? `${record.commandName} ` : '';
    return `${command}${describeSdkArg(record.error)}`;
  }
  try {
    return JSON.stringify(a, flatValues());
  } catch {
    return Object.prototype.toString.call(a);
  }
}

/** A JSON replacer that writes streams, buffers and objects met before as a word instead of following them. */
function flatValues(): (key: string, value: unknown) => unknown {
  const seen = new WeakSet<object>();
  return (_key, value) => {
    if (typeof value !== 'object' || value === null) return value;
    if (value instanceof Stream) return '[stream]';
    if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
    if (seen.has(value)) return '[circular]';
    seen.add(value);
    return value;
  };
}

export interface RetryPolicy {
  /** Attempts before giving up; Infinity keeps a dump's upload alive as long as the pod lives. */
  maxAttempts: number;
  baseMs: number;
  capMs: number;
  /** First delay after a credential or configuration error: waiting longer gives an operator time. */
  slowBaseMs: number;
}

export const DAEMON_RETRY: RetryPolicy = {
  maxAttempts: Number.POSITIVE_INFINITY,
  baseMs: 500,
  capMs: 30_000,
  slowBaseMs: 10_000,
};
export const ONCE_RETRY: RetryPolicy = { maxAttempts: 6, baseMs: 500, capMs: 10_000, slowBaseMs: 2_000 };

/** Answers the caller handles itself (restart the upload, adopt the object): never retried here. */
const HANDLED = new Set(['NoSuchUpload', 'PreconditionFailed', 'InvalidPart', 'InvalidPartOrder']);

/** A body damaged on the way, or a store briefly unable to answer: sending again can succeed. */
const RETRYABLE = new Set([
  'BadDigest',
  'InvalidDigest',
  'XAmzContentSHA256Mismatch',
  'RequestTimeout',
  'RequestTimeTooSkewed',
  'SlowDown',
  'InternalError',
  'ServiceUnavailable',
  'OperationAborted',
  'IncompleteBody',
]);

/** Settings an operator can fix while the pod runs (a Secret, a bucket): retried slowly. */
const FIXABLE = new Set([
  ...CREDENTIAL_ERRORS,
  'NoSuchBucket',
  'PermanentRedirect',
  'AuthorizationHeaderMalformed',
]);

export type FailureKind = 'handled' | 'retry' | 'slow' | 'final';

/**
 * How to treat a failed call: `final` for answers no retry can change (any other 4xx: 400 InvalidArgument,
 * 405, 411 MissingContentLength, 413, 501...), `slow` for what an operator fixes, `retry` for the rest
 * (5xx, timeouts, network errors, bodies damaged in flight).
 */
export function classify(err: unknown): FailureKind {
  const code = s3ErrorCode(err);
  const status = s3HttpStatus(err);
  if (HANDLED.has(code)) return 'handled';
  if (FIXABLE.has(code) || status === 403) return 'slow';
  if (RETRYABLE.has(code) || NETWORK_ERRORS.has(code)) return 'retry';
  if (status !== undefined && status >= 400 && status < 500) return 'final';
  return 'retry';
}

export function isCredentialError(code: string): boolean {
  return CREDENTIAL_ERRORS.has(code);
}

/** A call that will not succeed: gave up after its attempts, stopped by shutdown, or refused for good. */
export class GaveUp extends Error {
  readonly code: string;
  readonly final: boolean;
  constructor(message: string, code: string, final: boolean) {
    super(message);
    this.code = code;
    this.final = final;
  }
}

export interface RetryContext {
  policy: RetryPolicy;
  log: Logger;
  onError?: (code: string) => void;
  /** Aborted at shutdown: waiting between attempts ends, the call gives up. */
  stopping?: AbortSignal;
  /** Codes this caller handles itself: thrown at once, neither retried nor logged. */
  handles?: (code: string) => boolean;
}

/**
 * Calls until success, a handled or final answer, `policy.maxAttempts`, or shutdown (uploads that still make
 * progress finish, failing ones stop retrying; the dump and the saved state stay for the next start).
 */
export async function withRetry<T>(what: string, call: () => Promise<T>, ctx: RetryContext): Promise<T> {
  const { policy, log, stopping } = ctx;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (err instanceof FileChanged) throw err; // our file, not the store: sending again cannot help
      const code = s3ErrorCode(err);
      ctx.onError?.(code);
      const kind = ctx.handles?.(code) ? 'handled' : classify(err);
      if (kind === 'handled') throw err;
      const message = (err as Error).message;
      if (kind === 'final') {
        throw new GaveUp(`${what}: the store refused it for good (${code}: ${message})`, code, true);
      }
      if (attempt >= policy.maxAttempts || stopping?.aborted) {
        const why = stopping?.aborted ? 'stopping' : `failed ${attempt} times`;
        throw new GaveUp(`${what}: ${why}, last error ${code}: ${message}`, code, false);
      }
      const slow = kind === 'slow';
      const base = slow ? policy.slowBaseMs : policy.baseMs;
      const delay = Math.random() * Math.min(policy.capMs * (slow ? 2 : 1), base * 2 ** (attempt - 1));
      const fields = { op: what, code, attempt, retryInMs: Math.round(delay), error: message };
      if (isCredentialError(code))
        log.error(fields, `S3 refused our credentials (${code}); the dump is kept, retrying slowly`);
      else if (slow) log.error(fields, `S3 refused the request (${code}); the dump is kept, retrying slowly`);
      else log.warn(fields, `S3 call failed (${code}), retrying`);
      await sleep(delay, stopping);
    }
  }
}

function sleep(ms: number, stopping?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      stopping?.removeEventListener('abort', done);
      resolve();
    }
    stopping?.addEventListener('abort', done);
  });
}
