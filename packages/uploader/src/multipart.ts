// One multipart upload, from creation to a verified object: each call retried by the policy, each part and
// step recorded in the journal so a restart resumes it, and what the store proved it checked kept per part.
// Checksums (HEAPDUMP_S3_CHECKSUM): CRC32 always when the store may take it (the whole object's is combined
// from the parts'); Content-MD5 too until the store shows it checks CRC32 by answering ours back (in `auto`),
// because many S3-compatible stores accept CRC32 headers without checking them, while every one checks MD5.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import {
  type ChecksumMode,
  CONTENT_TYPES,
  type Compression,
  type DumpIntegrity,
  type RedactMode,
  s3ErrorCode,
} from '@kube-heapdump/contract';
import { combinedCrc32 } from './crc32.ts';
import { md5Etag, multipartEtag, sameEtag } from './digests.ts';
import type { Journal } from './journal.ts';
import type { Logger } from './log.ts';
import type { PartPlan } from './parts.ts';
import { isCredentialError, type RetryContext, withRetry } from './s3.ts';
import type { PartRecord, UploadState } from './state.ts';

/** The upload must start over under a new key: the store lost it, or the key is someone else's. */
export class Restart extends Error {}

/** The store answered in a way that cannot be a stored part or object. */
export class StoreAnswerError extends Error {}

export interface SessionDeps {
  s3: S3Client;
  bucket: string;
  checksum: ChecksumMode;
  retry: RetryContext;
  log: Logger;
  onBytes: (n: number) => void;
}

export interface NewUpload {
  file: string;
  dev: number;
  ino: number;
  key: string;
  startedAt: Date;
  compression: Compression;
  redaction: RedactMode;
  metadata: Record<string, string>;
}

/** Starts a multipart upload; its state is in the journal the caller makes from it. */
export async function createUpload(d: SessionDeps, u: NewUpload): Promise<UploadState> {
  const crc32 = d.checksum === 'auto' || d.checksum === 'crc32';
  const created = await withRetry(
    'CreateMultipartUpload',
    () =>
      d.s3.send(
        new CreateMultipartUploadCommand({
          Bucket: d.bucket,
          Key: u.key,
          ContentType: CONTENT_TYPES[u.compression],
          Metadata: u.metadata,
          ...(crc32 ? { ChecksumAlgorithm: 'CRC32', ChecksumType: 'FULL_OBJECT' } : {}),
        }),
      ),
    d.retry,
  );
  if (!created.UploadId) throw new StoreAnswerError(`CreateMultipartUpload of ${u.key} answered no UploadId`);
  return {
    version: 2,
    file: u.file,
    dev: u.dev,
    ino: u.ino,
    key: u.key,
    uploadId: created.UploadId,
    startedAt: u.startedAt.toISOString(),
    compression: u.compression,
    redaction: u.redaction,
    crc32,
    parts: [],
  };
}

export class MultipartSession {
  private readonly d: SessionDeps;
  readonly journal: Journal;
  /** In `auto`: undefined until a part's answer shows whether the store computes CRC32 itself. */
  private storeChecksCrc32: boolean | undefined;

  constructor(deps: SessionDeps, journal: Journal) {
    this.d = deps;
    this.journal = journal;
    const parts = journal.state.parts;
    if (parts.length > 0) this.storeChecksCrc32 = parts.every((p) => p.verified === 'crc32');
  }

  get state(): UploadState {
    return this.journal.state;
  }

  /** Whether part `n` is to carry Content-MD5. */
  readonly wantsMd5 = (_partNumber: number): boolean => {
    const mode = this.d.checksum;
    if (mode === 'md5') return true;
    if (mode === 'auto') return this.storeChecksCrc32 !== true;
    return false;
  };

  private get sendsCrc32(): boolean {
    return this.state.crc32;
  }

  async uploadPart(plan: PartPlan): Promise<void> {
    const { s3, bucket } = this.d;
    const { partNumber } = plan.record;
    const md5 = plan.digests.md5;
    let res: { ETag?: string; ChecksumCRC32?: string };
    try {
      res = await withRetry(
        `UploadPart ${partNumber}`,
        () =>
          s3.send(
            new UploadPartCommand({
              Bucket: bucket,
              Key: this.state.key,
              UploadId: this.state.uploadId,
              PartNumber: partNumber,
              Body: plan.body(),
              ContentLength: plan.size,
              ...(this.sendsCrc32 ? { ChecksumCRC32: plan.digests.crc32 } : {}),
              ...(md5 ? { ContentMD5: md5 } : {}),
            }),
          ),
        this.d.retry,
      );
    } catch (err) {
      if (s3ErrorCode(err) === 'NoSuchUpload')
        throw new Restart('the store no longer has the multipart upload');
      throw err;
    }
    if (!res.ETag) {
      throw new StoreAnswerError(
        `UploadPart ${partNumber} of ${this.state.key} answered no ETag: the store did not take the part`,
      );
    }
    // Without SSE-KMS a part's ETag is its MD5: a different one means the store holds other bytes.
    if (md5 && /^"?[0-9a-f]{32}"?$/i.test(res.ETag) && !sameEtag(res.ETag, md5Etag(md5))) {
      throw new StoreAnswerError(
        `UploadPart ${partNumber} of ${this.state.key}: the store's ETag ${res.ETag} is not the part's MD5`,
      );
    }
    const echoed = this.sendsCrc32 && res.ChecksumCRC32 === plan.digests.crc32;
    if (this.d.checksum === 'auto' && this.storeChecksCrc32 === undefined) {
      this.storeChecksCrc32 = echoed;
      this.d.log.info(
        { key: this.state.key, storeChecksCrc32: echoed },
        echoed
          ? 'the store checks CRC32: parts carry it alone'
          : 'the store does not answer CRC32 back: parts carry Content-MD5, which it checks',
      );
    } else if (this.d.checksum === 'crc32' && !echoed && this.storeChecksCrc32 === undefined) {
      // Stores such as RGW 16 accept CRC32 headers without checking them: say so once per upload.
      this.storeChecksCrc32 = false;
      this.d.log.warn(
        { key: this.state.key, storeChecksCrc32: false },
        'the store does not answer CRC32 back: nothing checks the parts on the way (HEAPDUMP_S3_CHECKSUM=auto sends Content-MD5 to such stores)',
      );
    }
    this.d.onBytes(plan.size);
    const record: PartRecord = {
      ...plan.record,
      etag: res.ETag,
      size: plan.size,
      checksum: plan.digests.crc32,
      ...(md5 ? { md5 } : {}),
      verified: echoed ? 'crc32' : md5 ? 'md5' : 'none',
      sha256: plan.sha256,
    };
    await this.journal.part(record);
  }

  /**
   * Completes the upload and says what proved the object is our parts. The key is unique by construction,
   * so when a Complete we sent before (its answer lost, or a run killed while waiting) is followed by
   * NoSuchUpload or PreconditionFailed, the object at our key is ours: it is adopted, not uploaded again.
   */
  async complete(): Promise<{ etag: string | undefined; object: DumpIntegrity['object']; adopted: boolean }> {
    const { s3, bucket } = this.d;
    const state = this.state;
    const parts = [...state.parts].sort((a, b) => a.partNumber - b.partNumber);
    let sentBefore = state.completeSentAt !== undefined;
    if (!sentBefore) {
      state.completeSentAt = new Date().toISOString();
      await this.journal.saveUpload();
    }
    const combined = state.crc32 ? combinedCrc32(parts) : undefined;
    let res: { ETag?: string; ChecksumCRC32?: string; ChecksumType?: string };
    try {
      res = await withRetry(
        'CompleteMultipartUpload',
        () => {
          const sent = s3.send(
            new CompleteMultipartUploadCommand({
              Bucket: bucket,
              Key: state.key,
              UploadId: state.uploadId,
              // Stores that honour it refuse to replace an object; the key's id is what guarantees it.
              IfNoneMatch: '*',
              MultipartUpload: {
                Parts: parts.map((p) => ({
                  PartNumber: p.partNumber,
                  ETag: p.etag,
                  ...(state.crc32 ? { ChecksumCRC32: p.checksum } : {}),
                })),
              },
              ...(combined ? { ChecksumCRC32: combined, ChecksumType: 'FULL_OBJECT' } : {}),
            }),
          );
          const wasSent = sentBefore;
          sentBefore = true;
          return sent.catch((err: unknown) => {
            throw Object.assign(err as object, { completeSentBefore: wasSent });
          });
        },
        this.d.retry,
      );
    } catch (err) {
      const code = s3ErrorCode(err);
      const earlier = (err as { completeSentBefore?: boolean }).completeSentBefore === true;
      if (earlier && (code === 'NoSuchUpload' || code === 'PreconditionFailed')) {
        this.d.log.info(
          { key: state.key, code },
          'an earlier CompleteMultipartUpload of this upload succeeded (its answer was lost): the object is adopted',
        );
        return { etag: undefined, object: 'none', adopted: true };
      }
      if (code === 'PreconditionFailed') throw new Restart(`the key ${state.key} is taken`);
      if (code === 'NoSuchUpload') throw new Restart('the store no longer has the multipart upload');
      throw err;
    }
    const crcProved = combined !== undefined && res.ChecksumCRC32 === combined;
    const etagProved = sameEtag(res.ETag, this.partsEtag());
    // RGW 16 answers an empty ETag: then the HEAD in verify() may prove the object.
    const etag = res.ETag || undefined;
    return { etag, object: crcProved ? 'crc32' : etagProved ? 'etag' : 'none', adopted: false };
  }

  /** The multipart ETag of our parts (MD5 of their MD5s), when every part carried Content-MD5. */
  private partsEtag(): string | undefined {
    const md5s = [...this.state.parts].sort((a, b) => a.partNumber - b.partNumber).map((p) => p.md5);
    return md5s.every((m): m is string => m !== undefined) ? multipartEtag(md5s) : undefined;
  }

  /**
   * HEAD the object when the credential may read: its size, its pod metadata and the ETag the completion
   * answered (if any) must be ours; an ETag equal to our parts' multipart ETag proves the object is those
   * parts (for stores whose completion answers none, and after an adoption). A least-privilege credential
   * may not read: then the checks made so far stand.
   */
  async verify(
    storedBytes: number,
    pod: string,
    etag: string | undefined,
  ): Promise<{ head: boolean; etagProved: boolean }> {
    const { s3, bucket, log } = this.d;
    const key = this.state.key;
    try {
      const head = await withRetry(
        'HeadObject',
        () => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
        {
          ...this.d.retry,
          policy: { ...this.d.retry.policy, maxAttempts: Math.min(this.d.retry.policy.maxAttempts, 4) },
          // A put-only credential may not read: that is expected, not a failure to retry or report.
          handles: isCredentialError,
        },
      );
      if (
        head.ContentLength !== storedBytes ||
        head.Metadata?.pod !== pod ||
        (etag && !sameEtag(head.ETag, etag))
      ) {
        throw new StoreAnswerError(
          `the stored object ${key} has ${head.ContentLength} bytes, pod "${head.Metadata?.pod}" and ETag ${head.ETag}; expected ${storedBytes}, "${pod}"${etag ? ` and ${etag}` : ''}`,
        );
      }
      return { head: true, etagProved: sameEtag(head.ETag, this.partsEtag()) };
    } catch (err) {
      if (err instanceof StoreAnswerError) throw err;
      const code = (err as { code?: string }).code ?? s3ErrorCode(err);
      if (!isCredentialError(code)) throw err;
      log.debug({ key }, 'not allowed to HEAD the object: the part and completion checks stand');
      return { head: false, etagProved: false };
    }
  }

  /** Aborts an upload we will not finish (best effort: lifecycle rules abort leftovers after a day too). */
  async abort(): Promise<void> {
    const { s3, bucket, log } = this.d;
    try {
      await s3.send(
        new AbortMultipartUploadCommand({
          Bucket: bucket,
          Key: this.state.key,
          UploadId: this.state.uploadId,
        }),
      );
    } catch (err) {
      const code = s3ErrorCode(err);
      if (code !== 'NoSuchUpload')
        log.warn({ key: this.state.key, code }, 'could not abort an abandoned upload');
    }
  }

  /** What the store proved it checked on every part. */
  partsIntegrity(): DumpIntegrity['parts'] {
    const kinds = new Set(this.state.parts.map((p) => p.verified));
    if (kinds.has('none')) return 'none';
    return kinds.has('md5') ? 'md5' : 'crc32';
  }
}
