// Multipart uploads: create, parts (5 MiB minimum but the last, ascending), list, complete (ETags, the
// AWS-style `<md5-of-md5s>-N` ETag, full-object and composite checksums, If-None-Match), abort.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { XMLParser } from 'fast-xml-parser';
import type { BodyReader } from './body.ts';
import {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  createDigest,
  isChecksumAlgorithm,
} from './checksums.ts';
import { errors } from './errors.ts';
import type { ObjectHandlers } from './objects.ts';
import { first, parseNonNegative, storedEncoding, stripQuotes } from './request.ts';
import { sendEmpty, sendXml } from './respond.ts';
import type { ChecksumType, ObjectRecord } from './store.ts';
import type { Context, S3State } from './types.ts';
import type { XmlNode } from './xml.ts';

const MiB = 1024 * 1024;
const MIN_PART = 5 * MiB;

const xmlParser = new XMLParser({ isArray: (name) => name === 'Part', parseTagValue: false });

export function uploadHandlers(s: S3State, body: BodyReader, objects: ObjectHandlers) {
  const { store, trust } = s;
  const { receiveBody, receiveToStaging } = body;
  const { bucketMustExist, userMetadata, createCondition } = objects;

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

  return { listUploads, createUpload, uploadIdOf, uploadPart, listParts, completeUpload };
}
