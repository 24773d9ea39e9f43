// A strict S3-compatible HTTP server for tests and the local demo: it accepts what our code sends to S3
// and refuses what S3 refuses (bad signatures, bad digests, small parts, parts out of order, ...). This file
// starts it and routes each request; the handlers are auth.ts, body.ts, objects.ts and uploads.ts.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { authenticator } from './auth.ts';
import { bodyReader } from './body.ts';
import { objectHandlers } from './objects.ts';
import { validatePolicy } from './policy.ts';
import { RateLimit } from './rate-limit.ts';
import { newContext, route } from './request.ts';
import { sendEmpty, sendError, sendXml } from './respond.ts';
import { BucketStore } from './store.ts';
import type { Context, RequestLogEntry, S3Credential, S3Server, S3ServerOptions, S3State } from './types.ts';
import { uploadHandlers } from './uploads.ts';

export { requestLimit } from './body.ts';
export { parseRange } from './request.ts';
export type { RequestLogEntry, S3Credential, S3Server, S3ServerOptions } from './types.ts';

export const DEFAULT_CREDENTIAL: S3Credential = {
  accessKeyId: 'AKIAKUBEHEAPDUMPTEST',
  secretAccessKey: 'kube-heapdump-test-secret-key',
};

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
  const s: S3State = { options, region, credentials, store, rate, trust };
  const { authenticate, authorize } = authenticator(s);
  const body = bodyReader(s);
  const { receiveBody } = body;
  const objects = objectHandlers(s, body);
  const { bucketMustExist, putObject, getObject, listObjects } = objects;
  const { listUploads, createUpload, uploadIdOf, uploadPart, listParts, completeUpload } = uploadHandlers(
    s,
    body,
    objects,
  );

  const server = createServer({ requestTimeout: 0, keepAliveTimeout: 10_000 }, (req, res) => {
    const ctx = newContext(req, res, options.virtualHostSuffix);
    handle(ctx)
      .catch((err: unknown) => sendError(ctx, err, options.errorsBeforeBody))
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
