// The evidence the memory watchdog's agent writes beside a dump it takes (`<dump file>.evidence.json`: why,
// the container's memory, a thread dump, NMT's summary): read under the hostile-file rules (the app container
// writes it), validated, stored at `<dump key>.evidence.json` and named in the dump's summary.
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  type EvidenceRef,
  evidenceFileName,
  evidenceKey,
  isAgentDumpFile,
  MAX_EVIDENCE_BYTES,
  parseEvidence,
  s3ErrorCode,
  type UploaderConfig,
} from '@kube-heapdump/contract';
import { openRegular, Refused } from './dump-file.ts';
import type { Logger } from './log.ts';
import { type RetryContext, withRetry } from './s3.ts';

/** How long an agent's dump waits for its evidence, and how often the file is looked for. */
export const EVIDENCE_WAIT_MS = 10_000;
const EVIDENCE_POLL_MS = 100;

export interface EvidenceDeps {
  cfg: UploaderConfig;
  s3: S3Client;
  retry: RetryContext;
  log: Logger;
}

export interface StoredEvidence {
  ref: EvidenceRef;
  /** Deletes the evidence file (once the summary naming it is stored). */
  remove(): Promise<void>;
}

/** Reads a small file in the volume under the hostile-file rules; undefined when there is none. */
async function readEvidenceFile(path: string, cfg: UploaderConfig): Promise<string | undefined> {
  let opened: Awaited<ReturnType<typeof openRegular>>;
  try {
    opened = await openRegular(path, {
      maxBytes: MAX_EVIDENCE_BYTES,
      ...(cfg.ownerUid === undefined ? {} : { ownerUid: cfg.ownerUid }),
    });
  } catch (err) {
    // The agent names its evidence after dumps it takes (short names): a name too long for one has none.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENAMETOOLONG') return undefined;
    throw err;
  }
  try {
    return await opened.fh.readFile('utf8');
  } finally {
    await opened.fh.close();
  }
}

/**
 * Stores the evidence of dump `file` (stored at `dumpKey`), if its agent wrote one: an evidence file that is
 * not a regular file of the app's, or not valid, is said once and left alone; the dump ships regardless.
 */
export async function storeEvidence(
  d: EvidenceDeps,
  file: string,
  dumpKey: string,
): Promise<StoredEvidence | undefined> {
  const name = evidenceFileName(file);
  const path = join(d.cfg.dir, name);
  let text: string | undefined;
  try {
    text = await readEvidenceFile(path, d.cfg);
    // The agent writes a dump's evidence just after the dump (its thread dump needs memory a dump taken at
    // the threshold may not have had before): a little while for it, bounded (the JVM may die meanwhile).
    for (let waited = 0; text === undefined && isAgentDumpFile(file) && waited < EVIDENCE_WAIT_MS; ) {
      await new Promise((r) => setTimeout(r, EVIDENCE_POLL_MS));
      waited += EVIDENCE_POLL_MS;
      text = await readEvidenceFile(path, d.cfg);
    }
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    d.log.warn(
      { file: name, reason: err.reason, why: err.message },
      'not shipped: not a dump file the uploader may read',
    );
    return undefined;
  }
  if (text === undefined) return undefined;
  const evidence = parseEvidence(text);
  if ('error' in evidence || evidence.dumpFile !== file) {
    const why = 'error' in evidence ? evidence.error : `it names another dump (${evidence.dumpFile})`;
    d.log.warn({ file: name, why }, 'evidence not stored: not valid');
    return undefined;
  }
  const key = evidenceKey(dumpKey);
  const body = JSON.stringify(evidence, null, 2);
  try {
    await withRetry(
      'PutObject evidence',
      () =>
        d.s3.send(
          new PutObjectCommand({
            Bucket: d.cfg.bucket,
            Key: key,
            Body: body,
            ContentType: 'application/json',
            ContentMD5: createHash('md5').update(body).digest('base64'),
            IfNoneMatch: '*',
          }),
        ),
      d.retry,
    );
  } catch (err) {
    // Already there: a run that stopped before its summary stored it.
    if (s3ErrorCode(err) !== 'PreconditionFailed') throw err;
  }
  // `heapdump doctor` reads this line: a threshold dump taken before an OOM kill, with the figures.
  d.log.info(
    {
      file: name,
      key,
      trigger: evidence.trigger,
      takenAt: evidence.takenAt,
      workingSetBytes: evidence.container?.workingSetBytes,
      limitBytes: evidence.container?.limitBytes,
      heapDumpStackBytes: evidence.jvm.heapDumpStackBytes,
    },
    'evidence stored',
  );
  return {
    ref: { key, trigger: evidence.trigger, takenAt: evidence.takenAt, container: evidence.container },
    remove: () => rm(path, { force: true }),
  };
}
