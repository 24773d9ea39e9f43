// Request bodies: streamed through the rate limits, aws-chunked decoding and every digest declared, and
// checked (Content-MD5, x-amz-checksum-*, x-amz-content-sha256) before anything is kept.
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { PassThrough, type Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AwsChunkedDecoder } from './aws-chunked.ts';
import { type ChecksumAlgorithm, createDigest, type Digest, isChecksumAlgorithm } from './checksums.ts';
import { errors } from './errors.ts';
import { RateLimit } from './rate-limit.ts';
import { first } from './request.ts';
import type { Context, Received, S3ServerOptions, S3State } from './types.ts';

const MiB = 1024 * 1024;
const MAX_SINGLE_UPLOAD = 5 * 1024 * MiB;

/** The limit of one request's body (`requestBytesPerSecond`): its own, shared with no other request. */
export function requestLimit(
  options: Pick<S3ServerOptions, 'requestBytesPerSecond'>,
  clock?: () => number,
): RateLimit | undefined {
  return options.requestBytesPerSecond ? new RateLimit(options.requestBytesPerSecond, clock) : undefined;
}

export function bodyReader(s: S3State) {
  const { options, rate, trust, store } = s;

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

  return { receiveBody, receiveToStaging };
}

export type BodyReader = ReturnType<typeof bodyReader>;
