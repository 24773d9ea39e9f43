// Analysis in the cluster (issue 32): where a dump's report is stored, what the report object holds, the
// Event that names a stored dump, and the variables of the controller and of its Jobs. The component renders
// them, the uploader image's `analysis-controller` and `analysis-job` commands read them, the CLI reads reports.
import type { HeapAnalysis } from './analysis.ts';

export const REPORT_JSON_SUFFIX = '.report.json';
/** What an IAM policy matches to let the Jobs write reports and nothing else. */
export const REPORT_KEY_PATTERN = '*.report.*';

/** Where the report of a dump is stored: beside it. */
export function reportKey(dumpKey: string): string {
  return `${dumpKey}${REPORT_JSON_SUFFIX}`;
}

export const REPORT_SCHEMA = 'kube-heapdump/analysis-report/v1';

/**
 * `analysed`: `analysis` holds the result. `too-large`: the analysis would need more than the memory allowed
 * (`neededBytes`, `maxMemoryBytes`), so no Job ran (or the Job refused after its first pass). `failed`: the Job
 * failed after its retries, or the dump cannot be analysed (`reason` says why).
 */
export type ReportStatus = 'analysed' | 'too-large' | 'failed';

/** What is stored at `<dump key>.report.json`. */
export interface AnalysisReport {
  schema: typeof REPORT_SCHEMA;
  status: ReportStatus;
  dump: { bucket: string; key: string };
  /** When the report was written (ISO 8601). */
  at: string;
  reason?: string;
  neededBytes?: number;
  maxMemoryBytes?: number;
  analysis?: HeapAnalysis;
}

/** The Event reason the uploader posts for a complete stored dump: what the controller acts on. */
export const STORED_EVENT_REASON = 'HeapDumpStored';
/** The Event the controller posts on the same pod when the dump's report is stored. */
export const ANALYZED_EVENT_REASON = 'HeapDumpAnalyzed';

/** Annotations on the uploader's Events: the stored object, exactly (the message says it for people). */
export const EVENT_ANNOTATIONS = {
  bucket: 'heapdump.kube-heapdump.io/bucket',
  key: 'heapdump.kube-heapdump.io/key',
} as const;

/** Labels and annotations on analysis Jobs. */
export const JOB_LABELS = { component: 'app.kubernetes.io/component', value: 'heapdump-analysis' } as const;
export const JOB_KEY_ANNOTATION = 'heapdump.kube-heapdump.io/key';

/**
 * The controller's variables (beside the store's, UPLOADER_ENV's bucket, prefix, endpoint, region, path style,
 * which it passes on to its Jobs) and the one its Jobs add.
 */
export const ANALYSIS_ENV = {
  /** Comma-separated namespaces whose HeapDumpStored Events the controller acts on. */
  namespaces: 'HEAPDUMP_ANALYSIS_NAMESPACES',
  /** The controller's own namespace: where it creates Jobs (the downward API sets it). */
  namespace: 'POD_NAMESPACE',
  image: 'HEAPDUMP_ANALYSIS_IMAGE',
  serviceAccount: 'HEAPDUMP_ANALYSIS_SERVICE_ACCOUNT',
  memoryPerGiB: 'HEAPDUMP_ANALYSIS_MEMORY_PER_GIB',
  maxMemory: 'HEAPDUMP_ANALYSIS_MAX_MEMORY',
  ttlSecondsAfterFinished: 'HEAPDUMP_ANALYSIS_TTL_SECONDS',
  backoffLimit: 'HEAPDUMP_ANALYSIS_BACKOFF_LIMIT',
  /** JSON: the Jobs' nodeSelector. */
  nodeSelector: 'HEAPDUMP_ANALYSIS_NODE_SELECTOR',
  /** JSON: the Jobs' tolerations. */
  tolerations: 'HEAPDUMP_ANALYSIS_TOLERATIONS',
  /** A Secret the Jobs take their store credential from (envFrom), for stores without workload identity. */
  credentialsSecret: 'HEAPDUMP_ANALYSIS_CREDENTIALS_SECRET',
  /** How often the controller looks at the Jobs it follows. */
  pollSeconds: 'HEAPDUMP_ANALYSIS_POLL_SECONDS',
  /** The Job's: the dump it analyses. */
  key: 'HEAPDUMP_ANALYSIS_KEY',
  /** The Job's: the memory limit it runs under, in bytes (the analysis refuses past it instead of OOM-looping). */
  memoryLimit: 'HEAPDUMP_ANALYSIS_MEMORY_LIMIT',
} as const;

export const ANALYSIS_DEFAULTS = {
  /** Memory per GiB of (uncompressed) dump, on top of the per-object tables: room for the references. */
  memoryPerGiB: '512Mi',
  maxMemory: '16Gi',
  ttlSecondsAfterFinished: 86_400,
  backoffLimit: 2,
  pollSeconds: 15,
} as const;

/** The uploader image's commands (its first argument). */
export const ANALYSIS_COMMANDS = { controller: 'analysis-controller', job: 'analysis-job' } as const;
