// The strict S3 server's types: its options and what it answers with (public, re-exported by server.ts), a
// request as the handlers see it, and the state they share.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ChunkSigning } from './aws-chunked.ts';
import type { ChecksumAlgorithm } from './checksums.ts';
import type { PolicyDocument } from './policy.ts';
import type { RateLimit } from './rate-limit.ts';
import type { BucketStore } from './store.ts';

export interface S3Credential {
  accessKeyId: string;
  secretAccessKey: string;
  /** IAM-style policy limiting this credential; full access when absent. */
  policy?: PolicyDocument;
}

export interface S3ServerOptions {
  /** Where buckets live. Reusing a directory keeps its buckets, objects and pending uploads (a restart). */
  dir: string;
  port?: number;
  host?: string;
  region?: string;
  credentials?: S3Credential[];
  /** Buckets created at start when missing. */
  buckets?: string[];
  /** Shared byte-rate limit for request and response bodies, bytes per second. */
  rateBytesPerSecond?: number;
  /** Keep records but throw bytes away (benchmarks); GetObject is then refused. */
  discard?: boolean;
  /**
   * With `discard`: a light sink for benchmarks, so the server is not what limits a client: bodies are not
   * digested; the digests a request claims are taken as computed (ETag from Content-MD5, checksums echoed).
   */
  trustPayload?: boolean;
  /** Each request body at most this many bytes per second (a single S3 connection is capped like this). */
  requestBytesPerSecond?: number;
  /** Milliseconds added before each request is handled (a link's round trip). */
  latencyMs?: number;
  /** `bucket.<suffix>` Host headers select the bucket (virtual-hosted style). */
  virtualHostSuffix?: string;
  /**
   * Answer an error at once, before the request body is read (S3 and RGW do so for a refused credential or a
   * missing upload): the client sees the answer while its body is still streaming.
   */
  errorsBeforeBody?: boolean;
}

export interface RequestLogEntry {
  operation: string;
  bucket?: string;
  key?: string;
  status: number;
  code?: string;
  accessKeyId?: string;
  addressing: 'path' | 'virtual-host';
  payload?: string;
}

export interface S3Server {
  endpoint: string;
  port: number;
  region: string;
  /** Every request answered, in order (operation, status, error code, credential, addressing style). */
  requests: RequestLogEntry[];
  stop(): Promise<void>;
}

export interface Route {
  operation: string;
  action: string;
}

export interface Context {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  rawPath: string;
  rawQuery: string;
  query: URLSearchParams;
  headers: Map<string, string[]>;
  bucket?: string;
  key?: string;
  addressing: 'path' | 'virtual-host';
  credential?: S3Credential;
  payloadHash?: string;
  signing?: ChunkSigning;
  route?: Route;
}

export interface Received {
  size: number;
  md5: Buffer;
  checksums: Map<ChecksumAlgorithm, string>;
}

/** What the handlers share: the server's options and its store. */
export interface S3State {
  options: S3ServerOptions;
  region: string;
  credentials: Map<string, S3Credential>;
  store: BucketStore;
  /** Shared byte-rate limit for bodies (`rateBytesPerSecond`). */
  rate: RateLimit | undefined;
  /** `trustPayload`: no payload digests checked. */
  trust: boolean;
}
