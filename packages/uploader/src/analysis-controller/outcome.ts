// What a Job's status says, and the report stubs written when no analysis result will come.
import { type AnalysisReport, humanBytes, REPORT_SCHEMA, type ReportStatus } from '@kube-heapdump/contract';

/** The fields of a batch/v1 Job's status the controller reads. */
export interface JobStatus {
  succeeded?: number;
  failed?: number;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
}

export type JobOutcome = { state: 'running' } | { state: 'succeeded' } | { state: 'failed'; reason: string };

/** Finished when the Complete or Failed condition is True (backoffLimit exhausted, deadline passed). */
export function jobOutcome(status: JobStatus | undefined): JobOutcome {
  for (const c of status?.conditions ?? []) {
    if (c.status !== 'True') continue;
    if (c.type === 'Complete') return { state: 'succeeded' };
    if (c.type === 'Failed') {
      const why = [c.reason, c.message].filter(Boolean).join(': ') || 'the Job failed';
      return { state: 'failed', reason: `${why} (${status?.failed ?? 0} failed attempts)` };
    }
  }
  return { state: 'running' };
}

export function reportStub(
  dump: { bucket: string; key: string },
  status: Exclude<ReportStatus, 'analysed'>,
  reason: string,
  now: Date,
  memory?: { neededBytes: number; maxMemoryBytes: number },
): AnalysisReport {
  return {
    schema: REPORT_SCHEMA,
    status,
    dump: { bucket: dump.bucket, key: dump.key },
    at: now.toISOString(),
    reason,
    ...(memory ?? {}),
  };
}

/** The stub for a dump whose analysis needs more than maxMemory. */
export function tooLargeStub(
  dump: { bucket: string; key: string },
  neededBytes: number,
  maxMemoryBytes: number,
  now: Date,
): AnalysisReport {
  return reportStub(
    dump,
    'too-large',
    `the analysis needs about ${humanBytes(neededBytes)}, more than maxMemory ${humanBytes(maxMemoryBytes)}: not run`,
    now,
    { neededBytes, maxMemoryBytes },
  );
}
