// After the object is durable: the summary (SHA-256 and class histogram, one more read of the file, one
// dump at a time), then the volume freed and whoever listens told. Also when stopping: a dump without its
// summary would show no verdict in `heapdump list`.
import { lstat, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DumpIntegrity, UploaderConfig } from '@kube-heapdump/contract';
import { type Analysis, analyse, hashFile } from './analysis.ts';
import { FileChanged, fileMark, sameMark } from './dump-file.ts';
import { storeEvidence } from './evidence.ts';
import type { FollowResult } from './follower.ts';
import type { Journal } from './journal.ts';
import type { Logger } from './log.ts';
import { cpuSeconds, type Metrics } from './metrics.ts';
import type { Notifier } from './notify.ts';
import type { OpenDump } from './open-dump.ts';
import type { Resume } from './resume.ts';
import type { RetryContext } from './s3.ts';
import { redaction } from './state.ts';
import { putSummary, storedFileSummary, storedSummary } from './summary-writer.ts';

export interface FinishDeps {
  cfg: UploaderConfig;
  log: Logger;
  metrics: Metrics;
  s3: S3Client;
  retry: RetryContext;
  resume: Resume;
  version: string;
  notify?: Notifier;
}

/** The dump as shipped: its file, its upload and what was proven of the stored object. */
export interface ShippedDump extends OpenDump {
  journal: Journal;
  followed: FollowResult;
  /**
   * SHA-256 of the bytes sent (uncompressed, redacted), when known (states saved before it was recorded
   * have none): the file must still hold them, else FileChanged and no summary.
   */
  sentSha256?: string;
  storedBytes: number;
  integrity: DumpIntegrity;
  uploadedAt: Date;
  seconds: number;
  afterDumpSeconds: number;
}

/** The summary's analysis reads the whole file and builds the class histogram: one at a time. */
let analyses: Promise<unknown> = Promise.resolve();

/** A heap dump's analysis for its summary; another file's hash (stored as the JVM wrote it: nothing to walk). */
async function readShipped(dump: ShippedDump) {
  return dump.kind === 'heap-dump'
    ? await heapAnalysis(dump, redaction(dump.journal.state.redaction))
    : { kind: dump.kind, ...(await hashFile(dump.fh, dump.followed.size)) };
}

export async function finishDump(d: FinishDeps, dump: ShippedDump): Promise<void> {
  const { cfg, log, metrics } = d;
  const { fh, file, journal, followed, storedBytes, uploadedAt } = dump;
  const state = journal.state;
  const before = await fileMark(fh);
  // The evidence goes beside the object now, not after the summary's second read of the whole dump: a JVM
  // the kernel is about to kill has a dump with evidence safe sooner (by ~0.3 s for 190 MB).
  const [read, evidence] = await Promise.all([
    readShipped(dump),
    dump.kind === 'heap-dump' ? storeEvidence(d, file, state.key) : undefined,
  ]);
  const { sha256 } = read;
  const { inflated, summary, lateNames } = read.kind === 'heap-dump' ? read : {};
  if (lateNames)
    log.warn(
      { file, key: state.key, lateNames },
      'the dump uses names after its heap dump began (not the order HotSpot writes): redaction blanked them',
    );
  // The histogram is of the file as read now: it describes the object only if these are the bytes sent.
  if (dump.sentSha256 !== undefined && sha256 !== dump.sentSha256) {
    throw new FileChanged('the dump file changed after its bytes were sent: it no longer holds them');
  }
  // Declared gzip, the object reads as the dump the JVM compressed (older uploads declared it none).
  const original =
    dump.jvmGzip && state.compression === 'gzip' && inflated
      ? inflated
      : { sha256: dump.sentSha256 ?? sha256, bytes: followed.size };
  // Files of other kinds count by kind (they have no verdict).
  metrics.dumpShipped(summary?.verdict ?? dump.kind, dump.seconds);
  const facts = {
    bucket: cfg.bucket,
    pod: cfg.pod,
    uploaderVersion: d.version,
    state,
    followed,
    storedBytes,
    integrity: dump.integrity,
    uploadedAt,
    original,
  };
  await putSummary(
    d.s3,
    read.kind === 'heap-dump'
      ? storedSummary({ ...facts, hprof: read.summary, ...(evidence ? { evidence: evidence.ref } : {}) })
      : storedFileSummary({ ...facts, kind: read.kind }),
    d.retry,
  );
  if (cfg.deleteAfterUpload) await evidence?.remove();
  let deleted = false;
  if (cfg.deleteAfterUpload) {
    // Written to since it was read for the summary: it may no longer be what is stored, so it stays.
    const unchanged = sameMark(before, await fileMark(fh));
    if (!unchanged)
      log.warn({ file, key: state.key }, 'the dump file was written to after it was stored: it is kept');
    deleted = unchanged && (await removeIfSame(join(cfg.dir, file), dump.st));
  }
  await d.resume.stored(journal);
  log.info(
    {
      file,
      kind: dump.kind,
      key: state.key,
      ...(summary ? { verdict: summary.verdict } : {}),
      originalBytes: original.bytes,
      storedBytes,
      seconds: dump.seconds,
      afterDumpSeconds: dump.afterDumpSeconds,
      summarySeconds: (Date.now() - uploadedAt.getTime()) / 1000,
      deleted,
      cpuSeconds: cpuSeconds(),
    },
    'dump stored',
  );
  // Who listens is told of heap dumps (its message and event are about one); other kinds show in `list`.
  if (!summary) return;
  const top = summary.topClasses[0];
  d.notify?.dumpStored({
    key: state.key,
    bucket: cfg.bucket,
    file,
    // The summary's verdict: the full walk's, the one every reader of the dump sees.
    verdict: summary.verdict,
    originalBytes: original.bytes,
    storedBytes,
    compression: state.compression,
    topClass: top ? { name: top.name, bytes: top.bytes } : undefined,
  });
}

/** The heap dump's SHA-256 and HPROF summary: one dump at a time. */
async function heapAnalysis(
  dump: ShippedDump,
  redact: ReturnType<typeof redaction>,
): Promise<Analysis & { kind: 'heap-dump' }> {
  const analysis = analyses.then(() =>
    analyse({ fh: dump.fh, size: dump.followed.size, gzip: dump.jvmGzip, ...(redact ? { redact } : {}) }),
  );
  analyses = analysis.catch(() => undefined);
  return { kind: 'heap-dump', ...(await analysis) };
}

/** Deletes the dump only if the name still is the file this run shipped (same device and inode). */
async function removeIfSame(path: string, st: { dev: number; ino: number }): Promise<boolean> {
  try {
    const now = await lstat(path);
    if (now.dev !== st.dev || now.ino !== st.ino) return false;
  } catch {
    return false;
  }
  await rm(path, { force: true });
  return true;
}
