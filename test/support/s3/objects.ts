// Objects: PutObject (If-None-Match, the 2 KB metadata limit), GetObject and HeadObject (conditions, Range),
// ListObjectsV2.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BodyReader } from './body.ts';
import { errors, S3Error } from './errors.ts';
import { first, parseNonNegative, parseRange, storedEncoding, stripQuotes } from './request.ts';
import { commonHeaders, sendEmpty, sendXml } from './respond.ts';
import * as sigv4 from './sigv4.ts';
import type { ObjectRecord } from './store.ts';
import type { Context, S3State } from './types.ts';
import type { XmlNode } from './xml.ts';

const MiB = 1024 * 1024;
const MAX_METADATA_BYTES = 2048;

export function objectHandlers(s: S3State, body: BodyReader) {
  const { store, rate } = s;
  const { receiveToStaging } = body;

  function bucketMustExist(bucket: string): void {
    if (!store.hasBucket(bucket)) throw errors.noSuchBucket(bucket);
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

  return { bucketMustExist, userMetadata, createCondition, putObject, getObject, listObjects };
}

export type ObjectHandlers = ReturnType<typeof objectHandlers>;
