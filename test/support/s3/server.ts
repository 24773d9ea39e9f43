// A strict S3-compatible HTTP server for tests and the local demo: it accepts what our code sends to S3
// and refuses what S3 refuses (bad signatures, bad digests, small parts, parts out of order, ...).
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { XMLParser } from 'fast-xml-parser';
import { AwsChunkedDecoder, type ChunkSigning } from './aws-chunked.ts';
import {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  createDigest,
  type Digest,
  isChecksumAlgorithm,
} from './checksums.ts';
import { errors, S3Error } from './errors.ts';
import { isAllowed, type PolicyDocument, validatePolicy } from './policy.ts';
import { RateLimit } from './rate-limit.ts';
import * as sigv4 from './sigv4.ts';
import { BucketStore, type ChecksumType, newId, type ObjectRecord } from './store.ts';
import { type XmlNode, xmlDocument } from './xml.ts';

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

export const DEFAULT_CREDENTIAL: S3Credential = {
  accessKeyId: 'AKIAKUBEHEAPDUMPTEST',
  secretAccessKey: 'kube-heapdump-test-secret-key',
};

const MiB = 1024 * 1024;
const MIN_PART = 5 * MiB;
const MAX_SINGLE_UPLOAD = 5 * 1024 * MiB;
const MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_METADATA_BYTES = 2048;

interface Route {
  operation: string;
  action: string;
}

interface Context {
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

interface Received {
  size: number;
  md5: Buffer;
  checksums: Map<ChecksumAlgorithm, string>;
}

const xmlParser = new XMLParser({ isArray: (name) => name === 'Part', parseTagValue: false });

/** The limit of one request's body (`requestBytesPerSecond`): its own, shared with no other request. */
export function requestLimit(
  options: Pick<S3ServerOptions, 'requestBytesPerSecond'>,
  clock?: () => number,
): RateLimit | undefined {
  return options.requestBytesPerSecond ? new RateLimit(options.requestBytesPerSecond, clock) : undefined;
}

export async function startS3Server(options: S3ServerOptions): Promise<S3Server> {
  const region = options.region ?? 'us-east-1';
  const credentials = new Map((options.credentials ?? [DEFAULT_CREDENTIAL]).map((c) => [c.accessKeyId, c]));
  for (const c of credentials.values()) if (c.policy) validatePolicy(c.policy);
  const store = new BucketStore(options.dir, options.discard ?? false);
  await store.load();
  for (const b of options.buckets ?? []) if (!store.hasBucket(b)) await store.createBucket(b);
  const rate = options.rateBytesPerSecond ? new RateLimit(options.rateBytesPerSecond) : undefined;
  if (options.trustPayload && !options.discard) throw new Error('trustPayload needs discard');
  const trust = options.trustPayload ?? false;
  const requests: RequestLogEntry[] = [];

  const server = createServer({ requestTimeout: 0, keepAliveTimeout: 10_000 }, (req, res) => {
    const ctx = newContext(req, res, options.virtualHostSuffix);
    handle(ctx)
      .catch((err: unknown) => sendError(ctx, err))
      .finally(() => {
        requests.push({
          operation: ctx.route?.operation ?? 'Unknown',
          bucket: ctx.bucket,
          key: ctx.key,
          status: res.statusCode,
          code: res.getHeader('x-amz-error-code') as string | undefined,
          accessKeyId: ctx.credential?.accessKeyId,
          addressing: ctx.addressing,
          payload: ctx.payloadHash,
        });
        if (requests.length > 100_000) requests.splice(0, 50_000);
      });
  });

  async function handle(ctx: Context): Promise<void> {
    if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs));
    authenticate(ctx);
    ctx.route = route(ctx);
    authorize(ctx);
    await dispatch(ctx);
  }

  function authenticate(ctx: Context): void {
    const auth = ctx.req.headers.authorization;
    if (auth) authenticateHeader(ctx, auth);
    else if (ctx.query.has('X-Amz-Algorithm')) authenticateQuery(ctx);
    else throw errors.accessDenied('Anonymous access is not allowed');
  }

  function checkScope(credential: sigv4.Credential, amzDate: string): S3Credential {
    const known = credentials.get(credential.accessKeyId);
    if (!known) throw errors.invalidAccessKeyId();
    if (
      credential.service !== 's3' ||
      credential.region !== region ||
      credential.date !== amzDate.slice(0, 8)
    ) {
      throw new S3Error(
        400,
        'AuthorizationHeaderMalformed',
        `The authorization header is malformed; the region '${credential.region}' is wrong; expecting '${region}' (service s3, date ${amzDate.slice(0, 8)})`,
      );
    }
    return known;
  }

  function verify(
    ctx: Context,
    credential: sigv4.Credential,
    known: S3Credential,
    amzDate: string,
    signedHeaders: string[],
    signature: string,
    payloadHash: string,
    excludeQuery?: ReadonlySet<string>,
  ): Buffer {
    if (!signedHeaders.includes('host')) throw errors.accessDenied('The host header must be signed');
    const canonical = sigv4.canonicalRequest({
      method: ctx.req.method ?? 'GET',
      path: ctx.rawPath,
      rawQuery: ctx.rawQuery,
      headers: ctx.headers,
      signedHeaders,
      payloadHash,
      excludeQuery,
    });
    const key = sigv4.signingKey(known.secretAccessKey, credential);
    const expected = sigv4.sign(key, sigv4.stringToSign(amzDate, credential, canonical));
    if (!sigv4.signaturesEqual(expected, signature)) throw errors.signatureDoesNotMatch();
    ctx.credential = known;
    return key;
  }

  function authenticateHeader(ctx: Context, header: string): void {
    let parsed: sigv4.ParsedAuthorization;
    try {
      parsed = sigv4.parseAuthorization(header);
    } catch (err) {
      throw new S3Error(400, 'AuthorizationHeaderMalformed', (err as Error).message);
    }
    const amzDate = first(ctx, 'x-amz-date') ?? '';
    const when = sigv4.parseAmzDate(amzDate);
    if (Number.isNaN(when))
      throw errors.accessDenied('AWS authentication requires a valid x-amz-date header');
    if (Math.abs(Date.now() - when) > MAX_SKEW_MS) throw errors.timeSkewed();
    const payloadHash = first(ctx, 'x-amz-content-sha256');
    if (!payloadHash)
      throw errors.invalidRequest('Missing required header for this request: x-amz-content-sha256');
    const unsigned = [...ctx.headers.keys()].filter(
      (h) => h.startsWith('x-amz-') && !parsed.signedHeaders.includes(h),
    );
    if (unsigned.length > 0) {
      throw errors.accessDenied(
        `There were headers present in the request which were not signed: ${unsigned.join(', ')}`,
      );
    }
    const known = checkScope(parsed.credential, amzDate);
    const key = verify(
      ctx,
      parsed.credential,
      known,
      amzDate,
      parsed.signedHeaders,
      parsed.signature,
      payloadHash,
    );
    ctx.payloadHash = payloadHash;
    if (payloadHash.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD')) {
      ctx.signing = { key, amzDate, credential: parsed.credential, seedSignature: parsed.signature };
    }
  }

  function authenticateQuery(ctx: Context): void {
    const q = ctx.query;
    if (q.get('X-Amz-Algorithm') !== sigv4.ALGORITHM) {
      throw new S3Error(
        400,
        'AuthorizationQueryParametersError',
        `X-Amz-Algorithm only supports "${sigv4.ALGORITHM}"`,
      );
    }
    const need = [
      'X-Amz-Credential',
      'X-Amz-Date',
      'X-Amz-Expires',
      'X-Amz-SignedHeaders',
      'X-Amz-Signature',
    ];
    const missing = need.filter((n) => !q.get(n));
    if (missing.length > 0) {
      throw new S3Error(
        400,
        'AuthorizationQueryParametersError',
        `Query-string authentication requires ${missing.join(', ')}`,
      );
    }
    let credential: sigv4.Credential;
    try {
      credential = sigv4.parseCredential(q.get('X-Amz-Credential')!);
    } catch (err) {
      throw new S3Error(400, 'AuthorizationQueryParametersError', (err as Error).message);
    }
    const amzDate = q.get('X-Amz-Date')!;
    const when = sigv4.parseAmzDate(amzDate);
    const expires = Number(q.get('X-Amz-Expires'));
    if (Number.isNaN(when) || !Number.isInteger(expires) || expires < 1 || expires > 604800) {
      throw new S3Error(
        400,
        'AuthorizationQueryParametersError',
        'X-Amz-Date must be yyyymmddThhmmssZ and X-Amz-Expires between 1 and 604800 seconds',
      );
    }
    if (when - Date.now() > MAX_SKEW_MS) throw errors.accessDenied('Request is not valid yet');
    if (Date.now() > when + expires * 1000) throw errors.accessDenied('Request has expired');
    const known = checkScope(credential, amzDate);
    const payloadHash = q.get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD';
    verify(
      ctx,
      credential,
      known,
      amzDate,
      q.get('X-Amz-SignedHeaders')!.split(';'),
      q.get('X-Amz-Signature')!,
      payloadHash,
      new Set(['X-Amz-Signature']),
    );
    ctx.payloadHash = payloadHash;
  }

  function authorize(ctx: Context): void {
    const policy = ctx.credential?.policy;
    if (!policy || !ctx.route) return;
    const resource = ctx.bucket
      ? `arn:aws:s3:::${ctx.bucket}${ctx.key !== undefined && !ctx.route.action.includes('Bucket') ? `/${ctx.key}` : ''}`
      : '*';
    if (!isAllowed(policy, ctx.route.action, resource)) {
      throw errors.accessDenied(
        `User ${ctx.credential?.accessKeyId} is not authorized to perform: ${ctx.route.action} on resource: "${resource}"`,
      );
    }
  }

  async function dispatch(ctx: Context): Promise<void> {
    const { bucket, key } = ctx;
    switch (ctx.route!.operation) {
      case 'ListBuckets':
        return sendXml(ctx, 200, 'ListAllMyBucketsResult', {
          Owner: { ID: 'kube-heapdump', DisplayName: 'kube-heapdump' },
          Buckets: { Bucket: store.listBuckets().map((b) => ({ Name: b.name, CreationDate: b.created })) },
        });
      case 'CreateBucket':
        await receiveBody(ctx, new Writable({ write: (_c, _e, cb) => cb() }));
        await store.createBucket(bucket!);
        return sendEmpty(ctx, 200, { Location: `/${bucket}` });
      case 'HeadBucket':
        bucketMustExist(bucket!);
        return sendEmpty(ctx, 200, { 'x-amz-bucket-region': region });
      case 'GetBucketLocation':
        bucketMustExist(bucket!);
        return sendXml(ctx, 200, 'LocationConstraint', {}, region === 'us-east-1' ? '' : region);
      case 'DeleteBucket':
        await store.deleteBucket(bucket!);
        return sendEmpty(ctx, 204);
      case 'ListObjectsV2':
        return listObjects(ctx, bucket!);
      case 'ListMultipartUploads':
        return listUploads(ctx, bucket!);
      case 'PutObject':
        return putObject(ctx, bucket!, key!);
      case 'GetObject':
      case 'HeadObject':
        return getObject(ctx, bucket!, key!);
      case 'DeleteObject':
        await store.deleteObject(bucket!, key!);
        return sendEmpty(ctx, 204);
      case 'CreateMultipartUpload':
        return createUpload(ctx, bucket!, key!);
      case 'UploadPart':
        return uploadPart(ctx, bucket!, key!);
      case 'CompleteMultipartUpload':
        return completeUpload(ctx, bucket!, key!);
      case 'AbortMultipartUpload':
        store.upload(bucket!, key!, uploadIdOf(ctx));
        await store.removeUpload(bucket!, uploadIdOf(ctx));
        return sendEmpty(ctx, 204);
      case 'ListParts':
        return listParts(ctx, bucket!, key!);
    }
  }

  function bucketMustExist(bucket: string): void {
    if (!store.hasBucket(bucket)) throw errors.noSuchBucket(bucket);
  }

  /** Streams the request body through rate limit, aws-chunked decoding and digests into `sink`, then verifies it. */
  /**
   * `objectChecksums`: the request's x-amz-checksum-* headers describe the object being completed, not this
   * body (CompleteMultipartUpload), so they are not checked here.
   */
  async function receiveBody(
    ctx: Context,
    sink: Writable,
    extraAlgorithm?: string,
    objectChecksums = false,
  ): Promise<Received> {
    const { req } = ctx;
    const payload = ctx.payloadHash ?? 'UNSIGNED-PAYLOAD';
    const declaredLength = first(ctx, 'content-length');
    let decoder: AwsChunkedDecoder | undefined;
    let expected = Number(declaredLength ?? 0);
    if (payload.startsWith('STREAMING-')) {
      if (payload === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER') throw errors.notImplemented(payload);
      if (payload === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD') decoder = new AwsChunkedDecoder(ctx.signing);
      else if (payload === 'STREAMING-UNSIGNED-PAYLOAD-TRAILER') decoder = new AwsChunkedDecoder();
      else throw errors.invalidArgument(`x-amz-content-sha256 value ${payload} is not supported`);
      const decoded = first(ctx, 'x-amz-decoded-content-length');
      if (decoded === undefined || !/^\d+$/.test(decoded)) throw errors.missingContentLength();
      expected = Number(decoded);
    } else if (payload !== 'UNSIGNED-PAYLOAD' && !/^[0-9a-f]{64}$/.test(payload)) {
      throw errors.invalidArgument(
        `x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-* or a SHA-256 hex digest`,
      );
    } else if (declaredLength === undefined && req.method === 'PUT') {
      // S3 takes an HTTP-chunked body only with aws-chunked framing that declares the decoded length.
      throw errors.missingContentLength();
    }
    if (expected > MAX_SINGLE_UPLOAD) throw errors.entityTooLarge();

    const algorithms = new Set<ChecksumAlgorithm>();
    const trailer = first(ctx, 'x-amz-trailer');
    const checksumHeaders = objectChecksums ? [] : [...ctx.headers.keys()];
    for (const name of [...checksumHeaders, ...(trailer ? [trailer.toLowerCase()] : [])]) {
      const m = /^x-amz-checksum-(.+)$/.exec(name);
      if (!m || m[1] === 'algorithm' || m[1] === 'type' || m[1] === 'mode') continue;
      if (!isChecksumAlgorithm(m[1]!)) throw errors.notImplemented(`Checksum algorithm ${m[1]}`);
      algorithms.add(m[1]);
    }
    if (trailer && !decoder) throw errors.invalidRequest('x-amz-trailer needs an aws-chunked body');
    const sdkAlgorithm = first(ctx, 'x-amz-sdk-checksum-algorithm')?.toLowerCase();
    for (const a of [sdkAlgorithm, extraAlgorithm?.toLowerCase()]) {
      if (a === undefined) continue;
      if (!isChecksumAlgorithm(a)) throw errors.notImplemented(`Checksum algorithm ${a}`);
      algorithms.add(a);
    }

    const md5 = createDigest('md5');
    const sha256 = /^[0-9a-f]{64}$/.test(payload) ? createDigest('sha256') : undefined;
    const digests = new Map<ChecksumAlgorithm, Digest>([...algorithms].map((a) => [a, createDigest(a)]));
    let size = 0;
    const tap = new Transform({
      highWaterMark: MiB,
      transform(chunk: Buffer, _e, done) {
        size += chunk.length;
        md5.update(chunk);
        sha256?.update(chunk);
        for (const d of digests.values()) d.update(chunk);
        done(null, chunk);
      },
    });
    // The request is fed by hand so that a failing body (bad chunk signature...) leaves it readable:
    // we drain it and answer with the S3 error instead of resetting the connection.
    const entry = new PassThrough({ highWaterMark: MiB });
    const onData = (c: Buffer) => {
      if (!entry.write(c)) req.pause();
    };
    const onEnd = () => entry.end();
    const onClose = () => {
      if (!req.complete) entry.destroy(errors.incompleteBody());
    };
    entry.on('drain', () => req.resume());
    req.on('data', onData).on('end', onEnd).on('close', onClose);
    const stages: (Readable | Transform | Writable)[] = [entry];
    if (rate) stages.push(rate.stream());
    const own = requestLimit(options);
    if (own) stages.push(own.stream());
    if (decoder) stages.push(decoder);
    if (trust) {
      stages.push(
        new Transform({
          highWaterMark: MiB,
          transform(chunk: Buffer, _e, done) {
            size += chunk.length;
            done(null, chunk);
          },
        }),
      );
    } else {
      stages.push(tap);
    }
    stages.push(sink);
    try {
      await pipeline(stages);
    } finally {
      req.off('data', onData).off('end', onEnd).off('close', onClose);
    }

    if (size !== expected) throw errors.incompleteBody();
    if (trust) return trustedDigests(ctx, size, objectChecksums);
    if (sha256 && sha256.digest().toString('hex') !== payload) throw errors.sha256Mismatch();
    const md5Digest = md5.digest();
    const contentMd5 = first(ctx, 'content-md5');
    if (contentMd5 !== undefined && contentMd5 !== md5Digest.toString('base64'))
      throw errors.badDigest('Content-MD5');
    const checksums = new Map<ChecksumAlgorithm, string>();
    for (const [alg, d] of digests) {
      const value = d.digest().toString('base64');
      checksums.set(alg, value);
      const name = `x-amz-checksum-${alg}`;
      const claimed = (objectChecksums ? undefined : first(ctx, name)) ?? decoder?.trailers.get(name);
      if (trailer?.toLowerCase() === name && claimed === undefined) {
        throw errors.invalidRequest(`The trailer ${name} was announced but not sent`);
      }
      if (claimed !== undefined && claimed !== value) throw errors.badDigest(alg.toUpperCase());
    }
    return { size, md5: md5Digest, checksums };
  }

  /** What a light sink answers for a body it did not digest: what the request claims. */
  function trustedDigests(ctx: Context, size: number, objectChecksums: boolean): Received {
    const claimedMd5 = first(ctx, 'content-md5');
    const checksums = new Map<ChecksumAlgorithm, string>();
    if (!objectChecksums) {
      for (const [name] of ctx.headers) {
        const m = /^x-amz-checksum-(.+)$/.exec(name);
        if (m && isChecksumAlgorithm(m[1]!)) checksums.set(m[1], first(ctx, name)!);
      }
    }
    return { size, md5: claimedMd5 ? Buffer.from(claimedMd5, 'base64') : Buffer.alloc(16), checksums };
  }

  /** Receives a body into a staging file (or nowhere in discard mode); removes the file on failure. */
  async function receiveToStaging(ctx: Context, extraAlgorithm?: string) {
    const path = store.stagingFile();
    const sink = path
      ? createWriteStream(path, { highWaterMark: MiB })
      : new Writable({ write: (_c, _e, cb) => cb() });
    try {
      return { path, received: await receiveBody(ctx, sink, extraAlgorithm) };
    } catch (err) {
      if (path) await rm(path, { force: true });
      throw err;
    }
  }

  function userMetadata(ctx: Context): Record<string, string> {
    const meta: Record<string, string> = {};
    let bytes = 0;
    for (const [name, values] of ctx.headers) {
      if (!name.startsWith('x-amz-meta-')) continue;
      const k = name.slice('x-amz-meta-'.length);
      meta[k] = values.join(',');
      bytes += Buffer.byteLength(k) + Buffer.byteLength(meta[k]);
    }
    if (bytes > MAX_METADATA_BYTES) {
      throw new S3Error(
        400,
        'MetadataTooLarge',
        `Your metadata headers exceed the maximum allowed metadata size (${bytes} > ${MAX_METADATA_BYTES})`,
      );
    }
    return meta;
  }

  /** `If-None-Match: *` (never overwrite) is the only write condition we accept. */
  function createCondition(ctx: Context, bucket: string, key: string): (() => void) | undefined {
    if (first(ctx, 'if-match') !== undefined) throw errors.notImplemented('If-Match on writes');
    const inm = first(ctx, 'if-none-match');
    if (inm === undefined) return undefined;
    if (inm !== '*') throw errors.notImplemented(`If-None-Match: ${inm} (only * is supported)`);
    return store.reserveCreate(bucket, key);
  }

  async function putObject(ctx: Context, bucket: string, key: string): Promise<void> {
    if (ctx.headers.has('x-amz-copy-source')) throw errors.notImplemented('CopyObject');
    bucketMustExist(bucket);
    const metadata = userMetadata(ctx);
    const release = createCondition(ctx, bucket, key);
    try {
      const { path, received } = await receiveToStaging(ctx);
      const [algorithm, value] = [...received.checksums][0] ?? [];
      const rec = await store.commitObject(
        bucket,
        {
          key,
          size: received.size,
          etag: `"${received.md5.toString('hex')}"`,
          lastModified: new Date().toISOString(),
          contentType: first(ctx, 'content-type') ?? 'binary/octet-stream',
          contentEncoding: storedEncoding(ctx),
          metadata,
          checksum: algorithm ? { algorithm, value: value!, type: 'FULL_OBJECT' } : undefined,
        },
        [{ path, size: received.size }],
      );
      sendEmpty(ctx, 200, { ETag: rec.etag, ...checksumHeaders(rec) });
    } finally {
      release?.();
    }
  }

  function checksumHeaders(rec: ObjectRecord): Record<string, string> {
    return rec.checksum
      ? {
          [`x-amz-checksum-${rec.checksum.algorithm}`]: rec.checksum.value,
          'x-amz-checksum-type': rec.checksum.type,
        }
      : {};
  }

  async function getObject(ctx: Context, bucket: string, key: string): Promise<void> {
    if (ctx.query.has('partNumber')) throw errors.notImplemented('GetObject by partNumber');
    bucketMustExist(bucket);
    const rec = store.head(bucket, key);
    const ifMatch = first(ctx, 'if-match');
    if (ifMatch !== undefined && ifMatch !== '*' && stripQuotes(ifMatch) !== stripQuotes(rec.etag)) {
      throw errors.preconditionFailed('If-Match');
    }
    const ifNoneMatch = first(ctx, 'if-none-match');
    const notModified =
      ifNoneMatch !== undefined &&
      (ifNoneMatch === '*' || stripQuotes(ifNoneMatch) === stripQuotes(rec.etag));
    const headers: Record<string, string> = {
      ETag: rec.etag,
      'Last-Modified': new Date(rec.lastModified).toUTCString(),
      'Content-Type': rec.contentType,
      'Accept-Ranges': 'bytes',
    };
    if (rec.contentEncoding) headers['Content-Encoding'] = rec.contentEncoding;
    if (rec.partsCount) headers['x-amz-mp-parts-count'] = String(rec.partsCount);
    for (const [k, v] of Object.entries(rec.metadata)) headers[`x-amz-meta-${k}`] = v;
    if (notModified) return sendEmpty(ctx, 304, headers);

    const range = parseRange(first(ctx, 'range'), rec.size);
    const start = range?.start ?? 0;
    const end = range?.end ?? rec.size - 1;
    headers['Content-Length'] = String(Math.max(0, end - start + 1));
    if (range) headers['Content-Range'] = `bytes ${start}-${end}/${rec.size}`;
    else if (first(ctx, 'x-amz-checksum-mode') === 'ENABLED') Object.assign(headers, checksumHeaders(rec));
    if (ctx.route?.operation === 'HeadObject') return sendEmpty(ctx, range ? 206 : 200, headers);
    if (store.discard) throw errors.notImplemented('GetObject in discard mode');

    ctx.res.writeHead(range ? 206 : 200, { ...commonHeaders(ctx), ...headers });
    const source = Readable.from(readPieces(bucket, rec, start, end), { objectMode: false });
    await pipeline(rate ? [source, rate.stream(), ctx.res] : [source, ctx.res]);
  }

  async function* readPieces(
    bucket: string,
    rec: ObjectRecord,
    start: number,
    end: number,
  ): AsyncGenerator<Buffer> {
    let offset = 0;
    for (const piece of rec.pieces) {
      const pieceEnd = offset + piece.size - 1;
      if (pieceEnd >= start && offset <= end && piece.size > 0) {
        const from = Math.max(start, offset) - offset;
        const to = Math.min(end, pieceEnd) - offset;
        yield* createReadStream(store.piecePath(bucket, rec, piece), {
          start: from,
          end: to,
          highWaterMark: MiB,
        });
      }
      offset += piece.size;
    }
  }

  function listObjects(ctx: Context, bucket: string): void {
    const q = ctx.query;
    if (q.get('list-type') !== '2') throw errors.notImplemented('ListObjects (v1); use ListObjectsV2');
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const maxKeys = parseNonNegative(q.get('max-keys'), 1000, 'max-keys');
    const urlEncode = q.get('encoding-type') === 'url';
    if (q.has('encoding-type') && !urlEncode)
      throw errors.invalidArgument('Invalid Encoding Method specified in Request');
    const token = q.get('continuation-token');
    let after = q.get('start-after') ?? '';
    let skipPrefix: string | undefined;
    if (token !== null) {
      try {
        const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
          after: string;
          cp?: boolean;
        };
        after = parsed.after;
        if (parsed.cp) skipPrefix = parsed.after;
      } catch {
        throw errors.invalidArgument('The continuation token provided is incorrect');
      }
    }
    const enc = (s: string) => (urlEncode ? sigv4.uriEncode(s).replace(/%2F/g, '/') : s);
    const contents: XmlNode[] = [];
    const prefixes: string[] = [];
    let last: { after: string; cp: boolean } | undefined;
    let truncated = false;
    const afterBytes = Buffer.from(after);
    for (const key of store.sortedKeys(bucket)) {
      if (after && Buffer.compare(Buffer.from(key), afterBytes) <= 0) continue;
      if (skipPrefix && key.startsWith(skipPrefix)) continue;
      if (!key.startsWith(prefix)) continue;
      const d = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      const cp = d >= 0 ? key.slice(0, d + delimiter.length) : undefined;
      if (cp !== undefined && cp === prefixes.at(-1)) continue;
      if (contents.length + prefixes.length >= maxKeys) {
        truncated = true;
        break;
      }
      if (cp !== undefined) {
        prefixes.push(cp);
        last = { after: cp, cp: true };
      } else {
        const rec = store.head(bucket, key);
        contents.push({
          Key: enc(key),
          LastModified: rec.lastModified,
          ETag: rec.etag,
          Size: rec.size,
          StorageClass: 'STANDARD',
        });
        last = { after: key, cp: false };
      }
    }
    sendXml(ctx, 200, 'ListBucketResult', {
      Name: bucket,
      Prefix: enc(prefix),
      Delimiter: delimiter ? enc(delimiter) : undefined,
      MaxKeys: maxKeys,
      KeyCount: contents.length + prefixes.length,
      IsTruncated: truncated,
      EncodingType: urlEncode ? 'url' : undefined,
      ContinuationToken: token ?? undefined,
      NextContinuationToken:
        truncated && last ? Buffer.from(JSON.stringify(last)).toString('base64url') : undefined,
      StartAfter: q.has('start-after') ? enc(q.get('start-after')!) : undefined,
      Contents: contents,
      CommonPrefixes: prefixes.map((p) => ({ Prefix: enc(p) })),
    });
  }

  function listUploads(ctx: Context, bucket: string): void {
    const prefix = ctx.query.get('prefix') ?? '';
    const maxUploads = parseNonNegative(ctx.query.get('max-uploads'), 1000, 'max-uploads');
    const keyMarker = ctx.query.get('key-marker') ?? '';
    const all = store.uploads(bucket).filter((u) => u.key.startsWith(prefix) && u.key > keyMarker);
    const page = all.slice(0, maxUploads);
    sendXml(ctx, 200, 'ListMultipartUploadsResult', {
      Bucket: bucket,
      KeyMarker: keyMarker,
      UploadIdMarker: '',
      NextKeyMarker: page.at(-1)?.key,
      Prefix: prefix,
      MaxUploads: maxUploads,
      IsTruncated: all.length > page.length,
      Upload: page.map((u) => ({
        Key: u.key,
        UploadId: u.uploadId,
        Initiator: { ID: 'kube-heapdump', DisplayName: 'kube-heapdump' },
        Owner: { ID: 'kube-heapdump', DisplayName: 'kube-heapdump' },
        StorageClass: 'STANDARD',
        Initiated: u.initiated,
      })),
    });
  }

  async function createUpload(ctx: Context, bucket: string, key: string): Promise<void> {
    bucketMustExist(bucket);
    const algorithm = first(ctx, 'x-amz-checksum-algorithm')?.toLowerCase();
    if (algorithm !== undefined && !isChecksumAlgorithm(algorithm))
      throw errors.notImplemented(`Checksum algorithm ${algorithm}`);
    const type = first(ctx, 'x-amz-checksum-type')?.toUpperCase();
    if (type !== undefined && type !== 'COMPOSITE' && type !== 'FULL_OBJECT') {
      throw errors.invalidRequest(`Value for x-amz-checksum-type header is invalid: ${type}`);
    }
    if (type === 'FULL_OBJECT' && algorithm !== 'crc32' && algorithm !== 'crc32c') {
      throw errors.invalidRequest('The FULL_OBJECT checksum type needs a CRC algorithm');
    }
    const upload = await store.createUpload(bucket, {
      key,
      contentType: first(ctx, 'content-type') ?? 'binary/octet-stream',
      contentEncoding: storedEncoding(ctx),
      metadata: userMetadata(ctx),
      checksumAlgorithm: algorithm,
      checksumType: algorithm ? ((type as ChecksumType | undefined) ?? 'COMPOSITE') : undefined,
    });
    const headers: Record<string, string> = algorithm
      ? { 'x-amz-checksum-algorithm': algorithm.toUpperCase(), 'x-amz-checksum-type': upload.checksumType! }
      : {};
    sendXml(
      ctx,
      200,
      'InitiateMultipartUploadResult',
      { Bucket: bucket, Key: key, UploadId: upload.uploadId },
      undefined,
      headers,
    );
  }

  function uploadIdOf(ctx: Context): string {
    return ctx.query.get('uploadId') ?? '';
  }

  async function uploadPart(ctx: Context, bucket: string, key: string): Promise<void> {
    if (ctx.headers.has('x-amz-copy-source')) throw errors.notImplemented('UploadPartCopy');
    const partNumber = Number(ctx.query.get('partNumber'));
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10000) {
      throw errors.invalidArgument('Part number must be an integer between 1 and 10000, inclusive');
    }
    bucketMustExist(bucket);
    const uploadId = uploadIdOf(ctx);
    const { record } = store.upload(bucket, key, uploadId);
    const { path, received } = await receiveToStaging(ctx, record.checksumAlgorithm);
    const checksum = record.checksumAlgorithm
      ? received.checksums.get(record.checksumAlgorithm as ChecksumAlgorithm)
      : undefined;
    const etag = `"${received.md5.toString('hex')}"`;
    try {
      await store.putPart(
        bucket,
        key,
        uploadId,
        { partNumber, size: received.size, etag, lastModified: new Date().toISOString(), checksum },
        path,
      );
    } catch (err) {
      if (path) await rm(path, { force: true });
      throw err;
    }
    const headers: Record<string, string> = { ETag: etag };
    if (checksum) headers[`x-amz-checksum-${record.checksumAlgorithm}`] = checksum;
    sendEmpty(ctx, 200, headers);
  }

  function listParts(ctx: Context, bucket: string, key: string): void {
    bucketMustExist(bucket);
    const uploadId = uploadIdOf(ctx);
    const { record, parts } = store.upload(bucket, key, uploadId);
    const maxParts = parseNonNegative(ctx.query.get('max-parts'), 1000, 'max-parts');
    const marker = parseNonNegative(ctx.query.get('part-number-marker'), 0, 'part-number-marker');
    const all = [...parts.values()]
      .filter((p) => p.partNumber > marker)
      .sort((a, b) => a.partNumber - b.partNumber);
    const page = all.slice(0, maxParts);
    const checksumField = record.checksumAlgorithm
      ? `Checksum${record.checksumAlgorithm.toUpperCase()}`
      : undefined;
    sendXml(ctx, 200, 'ListPartsResult', {
      Bucket: bucket,
      Key: key,
      UploadId: uploadId,
      PartNumberMarker: marker,
      NextPartNumberMarker: page.at(-1)?.partNumber ?? marker,
      MaxParts: maxParts,
      IsTruncated: all.length > page.length,
      Initiator: { ID: 'kube-heapdump', DisplayName: 'kube-heapdump' },
      Owner: { ID: 'kube-heapdump', DisplayName: 'kube-heapdump' },
      StorageClass: 'STANDARD',
      ChecksumAlgorithm: record.checksumAlgorithm?.toUpperCase(),
      Part: page.map((p) => ({
        PartNumber: p.partNumber,
        LastModified: p.lastModified,
        ETag: p.etag,
        Size: p.size,
        ...(checksumField ? { [checksumField]: p.checksum } : {}),
      })),
    });
  }

  async function completeUpload(ctx: Context, bucket: string, key: string): Promise<void> {
    bucketMustExist(bucket);
    const uploadId = uploadIdOf(ctx);
    const { record, parts } = store.upload(bucket, key, uploadId);
    const chunks: Buffer[] = [];
    let bodyBytes = 0;
    await receiveBody(
      ctx,
      new Writable({
        write(c: Buffer, _e, cb) {
          bodyBytes += c.length;
          if (bodyBytes > MiB) return cb(errors.malformedXML());
          chunks.push(c);
          cb();
        },
      }),
      undefined,
      true,
    );
    let requested: { PartNumber?: string; ETag?: string; [k: string]: string | undefined }[];
    try {
      const doc = xmlParser.parse(Buffer.concat(chunks).toString('utf8')) as {
        CompleteMultipartUpload?: { Part?: typeof requested };
      };
      requested = doc.CompleteMultipartUpload?.Part ?? [];
    } catch {
      throw errors.malformedXML();
    }
    if (requested.length === 0) throw errors.malformedXML();
    const chosen = requested.map((p, i) => {
      const n = Number(p.PartNumber);
      if (!Number.isInteger(n) || p.ETag === undefined) throw errors.malformedXML();
      if (i > 0 && n <= Number(requested[i - 1]!.PartNumber)) throw errors.invalidPartOrder();
      const stored = parts.get(n);
      if (!stored || stripQuotes(stored.etag) !== stripQuotes(p.ETag)) throw errors.invalidPart(n);
      for (const alg of CHECKSUM_ALGORITHMS) {
        const given = p[`Checksum${alg.toUpperCase()}`];
        if (given !== undefined && (alg !== record.checksumAlgorithm || given !== stored.checksum)) {
          throw errors.invalidPart(n);
        }
      }
      return stored;
    });
    chosen.forEach((p, i) => {
      if (i < chosen.length - 1 && p.size < MIN_PART) throw errors.entityTooSmall(p.partNumber, p.size);
    });
    const release = createCondition(ctx, bucket, key);
    try {
      const etagMd5 = createHash('md5');
      for (const p of chosen) etagMd5.update(Buffer.from(stripQuotes(p.etag), 'hex'));
      const sources = chosen.map((p) => ({ path: store.partPath(bucket, uploadId, p), size: p.size }));
      const checksum = await objectChecksum(
        ctx,
        record.checksumAlgorithm,
        record.checksumType,
        chosen,
        sources,
      );
      const rec = await store.commitObject(
        bucket,
        {
          key,
          size: chosen.reduce((s, p) => s + p.size, 0),
          etag: `"${etagMd5.digest('hex')}-${chosen.length}"`,
          lastModified: new Date().toISOString(),
          contentType: record.contentType,
          contentEncoding: record.contentEncoding,
          metadata: record.metadata,
          checksum,
          partsCount: chosen.length,
        },
        sources,
      );
      await store.removeUpload(bucket, uploadId);
      const body: XmlNode = { Location: `/${bucket}/${key}`, Bucket: bucket, Key: key, ETag: rec.etag };
      if (checksum) {
        body[`Checksum${checksum.algorithm.toUpperCase()}`] = checksum.value;
        body.ChecksumType = checksum.type;
      }
      sendXml(ctx, 200, 'CompleteMultipartUploadResult', body);
    } finally {
      release?.();
    }
  }

  /** COMPOSITE: digest of the parts' digests, "-N". FULL_OBJECT: CRC over all bytes (read back, not in discard mode). */
  async function objectChecksum(
    ctx: Context,
    algorithm: string | undefined,
    type: ChecksumType | undefined,
    chosen: { checksum?: string }[],
    sources: { path: string | undefined }[],
  ): Promise<ObjectRecord['checksum']> {
    if (!algorithm || !isChecksumAlgorithm(algorithm)) return undefined;
    const digest = createDigest(algorithm);
    if (type === 'FULL_OBJECT') {
      if (trust) {
        const claimed = first(ctx, `x-amz-checksum-${algorithm}`);
        return claimed === undefined ? undefined : { algorithm, value: claimed, type };
      }
      if (store.discard) return undefined;
      for (const s of sources)
        for await (const c of createReadStream(s.path!, { highWaterMark: MiB })) digest.update(c as Buffer);
      const value = digest.digest().toString('base64');
      const claimed = first(ctx, `x-amz-checksum-${algorithm}`);
      if (claimed !== undefined && claimed !== value) throw errors.badDigest(algorithm.toUpperCase());
      return { algorithm, value, type };
    }
    for (const p of chosen) {
      if (!p.checksum) return undefined;
      digest.update(Buffer.from(p.checksum, 'base64'));
    }
    return { algorithm, value: `${digest.digest().toString('base64')}-${chosen.length}`, type: 'COMPOSITE' };
  }

  function sendXml(
    ctx: Context,
    status: number,
    root: string,
    body: XmlNode,
    text?: string,
    headers: Record<string, string> = {},
  ): void {
    const xml =
      text === undefined
        ? xmlDocument(root, body)
        : `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${text}</${root}>`;
    const buf = Buffer.from(xml);
    ctx.res.writeHead(status, {
      ...commonHeaders(ctx),
      ...headers,
      'Content-Type': 'application/xml',
      'Content-Length': String(buf.length),
    });
    ctx.res.end(buf);
  }

  function sendEmpty(ctx: Context, status: number, headers: Record<string, string> = {}): void {
    ctx.res.writeHead(status, { 'Content-Length': '0', ...commonHeaders(ctx), ...headers });
    ctx.res.end();
  }

  function sendError(ctx: Context, err: unknown): void {
    const e =
      err instanceof S3Error
        ? err
        : new S3Error(500, 'InternalError', `We encountered an internal error: ${String(err)}`);
    if (!(err instanceof S3Error)) console.error('s3-server internal error', err);
    if (ctx.res.headersSent) {
      ctx.res.destroy();
      return;
    }
    const reply = () => {
      const isHead = ctx.req.method === 'HEAD';
      const xml = xmlDocument(
        'Error',
        {
          Code: e.code,
          Message: e.message,
          ...e.extra,
          Resource: ctx.rawPath,
          RequestId: ctx.requestId,
        },
        false,
      );
      ctx.res.writeHead(e.status, {
        ...commonHeaders(ctx),
        'x-amz-error-code': e.code,
        'Content-Type': 'application/xml',
        ...(isHead ? {} : { 'Content-Length': String(Buffer.byteLength(xml)) }),
      });
      ctx.res.end(isHead ? undefined : xml);
    };
    // Answer only once the body is consumed, so clients read our error rather than a reset connection.
    if (ctx.req.complete || ctx.req.destroyed) {
      reply();
      return;
    }
    if (options.errorsBeforeBody) {
      reply();
      ctx.req.resume(); // the rest of the body is read after the answer, and dropped
      return;
    }
    ctx.req.on('end', reply).on('error', () => ctx.res.destroy());
    ctx.req.resume();
  }

  function commonHeaders(ctx: Context): Record<string, string> {
    return { 'x-amz-request-id': ctx.requestId, 'x-amz-id-2': ctx.requestId, Server: 'kube-heapdump-s3' };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    region,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function newContext(req: IncomingMessage, res: ServerResponse, virtualHostSuffix = 'localhost'): Context {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? '' : url.slice(q + 1);
  const headers = new Map<string, string[]>();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    const list = headers.get(name) ?? [];
    list.push(req.rawHeaders[i + 1]!);
    headers.set(name, list);
  }
  const ctx: Context = {
    req,
    res,
    requestId: newId().toUpperCase(),
    rawPath,
    rawQuery,
    query: new URLSearchParams(rawQuery.replace(/\+/g, '%2B')),
    headers,
    addressing: 'path',
  };
  const host = (req.headers.host ?? '').replace(/:\d+$/, '');
  const path = decodeURIComponent(rawPath);
  if (host.endsWith(`.${virtualHostSuffix}`)) {
    ctx.addressing = 'virtual-host';
    ctx.bucket = host.slice(0, -virtualHostSuffix.length - 1);
    if (path.length > 1) ctx.key = path.slice(1);
  } else {
    const slash = path.indexOf('/', 1);
    if (path.length > 1) ctx.bucket = slash < 0 ? path.slice(1) : path.slice(1, slash);
    if (slash >= 0 && slash < path.length - 1) ctx.key = path.slice(slash + 1);
  }
  return ctx;
}

function route(ctx: Context): Route {
  const m = ctx.req.method;
  const q = ctx.query;
  const r = (operation: string, action: string): Route => ({ operation, action });
  if (!ctx.bucket) {
    if (m === 'GET') return r('ListBuckets', 's3:ListAllMyBuckets');
  } else if (ctx.key === undefined) {
    if (m === 'PUT' && [...q.keys()].length === 0) return r('CreateBucket', 's3:CreateBucket');
    if (m === 'HEAD') return r('HeadBucket', 's3:ListBucket');
    if (m === 'DELETE' && [...q.keys()].length === 0) return r('DeleteBucket', 's3:DeleteBucket');
    if (m === 'GET' && q.has('uploads')) return r('ListMultipartUploads', 's3:ListBucketMultipartUploads');
    if (m === 'GET' && q.has('location')) return r('GetBucketLocation', 's3:GetBucketLocation');
    if (m === 'GET' && [...q.keys()].every((k) => LIST_PARAMS.has(k) || k.startsWith('X-Amz-'))) {
      return r('ListObjectsV2', 's3:ListBucket');
    }
  } else {
    if (m === 'PUT' && q.has('uploadId')) return r('UploadPart', 's3:PutObject');
    if (
      m === 'PUT' &&
      !q.has('uploadId') &&
      [...q.keys()].every((k) => k.startsWith('X-Amz-') || k === 'x-id')
    ) {
      return r('PutObject', 's3:PutObject');
    }
    if (m === 'POST' && q.has('uploads')) return r('CreateMultipartUpload', 's3:PutObject');
    if (m === 'POST' && q.has('uploadId')) return r('CompleteMultipartUpload', 's3:PutObject');
    if (m === 'DELETE' && q.has('uploadId')) return r('AbortMultipartUpload', 's3:AbortMultipartUpload');
    if (m === 'GET' && q.has('uploadId')) return r('ListParts', 's3:ListMultipartUploadParts');
    if (m === 'GET') return r('GetObject', 's3:GetObject');
    if (m === 'HEAD') return r('HeadObject', 's3:GetObject');
    if (m === 'DELETE') return r('DeleteObject', 's3:DeleteObject');
  }
  throw errors.notImplemented(`${m} ${ctx.rawPath}?${ctx.rawQuery}`);
}

const LIST_PARAMS = new Set([
  'list-type',
  'prefix',
  'delimiter',
  'max-keys',
  'continuation-token',
  'start-after',
  'encoding-type',
  'fetch-owner',
  'x-id',
]);

function first(ctx: Context, name: string): string | undefined {
  return ctx.headers.get(name)?.[0];
}

function storedEncoding(ctx: Context): string | undefined {
  const list = (first(ctx, 'content-encoding') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '' && s !== 'aws-chunked');
  return list.length > 0 ? list.join(', ') : undefined;
}

function stripQuotes(s: string): string {
  return s.replace(/^"|"$/g, '');
}

function parseNonNegative(value: string | null, fallback: number, name: string): number {
  if (value === null) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n))
    throw errors.invalidArgument(`${name} must be a non-negative integer`);
  return name.startsWith('max-') ? Math.min(n, 1000) : n;
}

/** A single `bytes=` range; anything else means the whole object, as S3 does. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) throw errors.invalidRange();
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) throw errors.invalidRange();
  return { start, end };
}
