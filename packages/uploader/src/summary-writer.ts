// The summary stored beside each dump: the HPROF summary (verdict, totals, top classes), where the dump went
// and how it was checked, and when; its metadata carries what `heapdump list` shows without reading it.
import { createHash } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  type DumpIntegrity,
  type EvidenceRef,
  type HprofSummary,
  type PodIdentity,
  STORED_FILE_SUMMARY_SCHEMA,
  STORED_SUMMARY_SCHEMA,
  type StoredDumpSummary,
  type StoredFileFacts,
  type StoredFileSummary,
  type StoredTimings,
  SUMMARY_METADATA,
  s3ErrorCode,
  summaryKey,
} from '@kube-heapdump/contract';
import type { FollowResult } from './follower.ts';
import { type RetryContext, withRetry } from './s3.ts';
import type { UploadState } from './state.ts';

export interface FileFacts {
  bucket: string;
  pod: PodIdentity;
  uploaderVersion: string;
  state: UploadState;
  followed: FollowResult;
  storedBytes: number;
  integrity: DumpIntegrity;
  uploadedAt: Date;
  /** What a reader of the object gets once decompressed: the file's bytes, or a JVM gzip file's inflated. */
  original: { sha256: string; bytes: number };
}

/** What a stored summary is made of: the upload's facts and the dump's HPROF summary (and its evidence). */
export interface SummaryInput extends FileFacts {
  hprof: HprofSummary;
  evidence?: EvidenceRef;
}

export function storedSummary(f: SummaryInput): StoredDumpSummary {
  return {
    ...f.hprof,
    storedSchema: STORED_SUMMARY_SCHEMA,
    dump: fileFacts(f),
    timings: timings(f),
    ...(f.evidence ? { evidence: f.evidence } : {}),
  };
}

/** The summary of a crash log or Flight Recorder file: its kind, where and when it went. */
export function storedFileSummary(f: FileFacts & { kind: StoredFileSummary['kind'] }): StoredFileSummary {
  return { storedSchema: STORED_FILE_SUMMARY_SCHEMA, kind: f.kind, dump: fileFacts(f), timings: timings(f) };
}

function fileFacts(f: FileFacts): StoredFileFacts {
  const { state, pod } = f;
  return {
    bucket: f.bucket,
    key: state.key,
    file: state.file,
    originalBytes: f.original.bytes,
    storedBytes: f.storedBytes,
    compression: state.compression,
    redaction: state.redaction ?? 'none',
    sha256: f.original.sha256,
    parts: state.parts.length,
    integrity: f.integrity,
    pod: pod.name,
    namespace: pod.namespace,
    node: pod.node,
    app: pod.app,
    uploaderVersion: f.uploaderVersion,
  };
}

function timings(f: FileFacts): StoredTimings {
  const { followed } = f;
  return {
    firstByteSeen: followed.firstByteAt.toISOString(),
    dumpComplete: followed.doneAt.toISOString(),
    uploadComplete: f.uploadedAt.toISOString(),
    dumpSeconds: (followed.doneAt.getTime() - followed.firstByteAt.getTime()) / 1000,
    uploadAfterDumpSeconds: (f.uploadedAt.getTime() - followed.doneAt.getTime()) / 1000,
  };
}

/** PUTs the summary (once: a summary already there was written by a run that stopped before cleaning up). */
export async function putSummary(
  s3: S3Client,
  doc: StoredDumpSummary | StoredFileSummary,
  retry: RetryContext,
): Promise<void> {
  const body = JSON.stringify(doc, null, 2);
  try {
    await withRetry(
      'PutObject summary',
      () =>
        s3.send(
          new PutObjectCommand({
            Bucket: doc.dump.bucket,
            Key: summaryKey(doc.dump.key),
            Body: body,
            ContentType: 'application/json',
            ContentMD5: createMd5(body),
            IfNoneMatch: '*',
            Metadata: {
              ...('verdict' in doc
                ? { [SUMMARY_METADATA.verdict]: doc.verdict, [SUMMARY_METADATA.kind]: 'heap-dump' }
                : { [SUMMARY_METADATA.kind]: doc.kind }),
              [SUMMARY_METADATA.sha256]: doc.dump.sha256,
              [SUMMARY_METADATA.originalSize]: String(doc.dump.originalBytes),
              [SUMMARY_METADATA.storedSize]: String(doc.dump.storedBytes),
              [SUMMARY_METADATA.redaction]: doc.dump.redaction,
              [SUMMARY_METADATA.pod]: doc.dump.pod,
              [SUMMARY_METADATA.namespace]: doc.dump.namespace,
              [SUMMARY_METADATA.app]: doc.dump.app,
            },
          }),
        ),
      retry,
    );
  } catch (err) {
    if (s3ErrorCode(err) !== 'PreconditionFailed') throw err;
  }
}

function createMd5(text: string): string {
  return createHash('md5').update(text).digest('base64');
}
