// The `analysis` argument of HeapDumpStorage and HeapDumpEnabledApp: each stored dump analysed in the cluster
// by a Job sized to it (README, "Analysis in the cluster"). Checked whole before any resource is registered.
import { ANALYSIS_DEFAULTS, parseQuantity } from '@kube-heapdump/contract';
import { FieldError } from './errors.ts';

export interface AnalysisTolerationArgs {
  key?: string;
  /** `Exists` or `Equal` (default). */
  operator?: string;
  value?: string;
  /** `NoSchedule`, `PreferNoSchedule` or `NoExecute`; default all. */
  effect?: string;
  tolerationSeconds?: number;
}

/** Plain values only: they decide which resources exist and what the controller is told. */
export interface AnalysisArgs {
  /** Analyse every stored dump in the cluster. Default false. */
  enabled?: boolean;
  /**
   * Namespace of the controller and its Jobs (it must exist). Default: the app's namespace (HeapDumpEnabledApp),
   * the first of `namespaces` (HeapDumpStorage).
   */
  namespace?: string;
  /**
   * Namespaces whose dumps are analysed (the controller reads their Events). Default: the app's namespace
   * (HeapDumpEnabledApp); required for HeapDumpStorage.
   */
  namespaces?: string[];
  /**
   * Memory a Job gets per GiB of uncompressed dump, on top of the analysis's per-object estimate from the
   * stored summary (a Kubernetes quantity). Default `512Mi`.
   */
  memoryPerGiB?: string;
  /** The most memory one Job may have; a dump needing more gets a `too-large` report instead. Default `16Gi`. */
  maxMemory?: string;
  /** Seconds a finished Job is kept (then Kubernetes deletes it). Default 86400. */
  ttlSecondsAfterFinished?: number;
  /** Retries of a failed Job (with Kubernetes' exponential backoff) before a `failed` report. Default 2. */
  backoffLimit?: number;
  /** Where the Jobs may run (nodes with memory to spare). Default: anywhere. */
  nodeSelector?: { [key: string]: string };
  /** Taints the Jobs tolerate. Default none. */
  tolerations?: AnalysisTolerationArgs[];
  /**
   * A Secret in `namespace` with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY of a key allowed what the README
   * lists (read under the prefix, write `*.report.*`): required with `identity.kind` `existingSecret` (RGW, MinIO),
   * since the uploader's key may only put.
   */
  credentialsSecret?: string;
}

/** The analysis settings with every default applied. */
export interface AnalysisSettings {
  namespace: string;
  namespaces: string[];
  memoryPerGiB: string;
  maxMemory: string;
  ttlSecondsAfterFinished: number;
  backoffLimit: number;
  nodeSelector: Record<string, string>;
  tolerations: AnalysisTolerationArgs[];
  credentialsSecret: string | undefined;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function quantity(field: string, text: string): string {
  const bytes = parseQuantity(text);
  if (bytes === undefined || bytes <= 0)
    throw new FieldError(field, `"${text}" is not a size like 512Mi or 16Gi`);
  return text;
}

function count(field: string, n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new FieldError(field, `${n} must be an integer >= 0`);
  return n;
}

/** The settings, or undefined when analysis is off; a FieldError naming `analysis.<field>` for a bad value. */
export function analysisSettings(
  args: AnalysisArgs | undefined,
  defaultNamespace: string | undefined,
): AnalysisSettings | undefined {
  if (!args?.enabled) return undefined;
  const namespaces = args.namespaces ?? (defaultNamespace === undefined ? [] : [defaultNamespace]);
  if (namespaces.length === 0)
    throw new FieldError('analysis.namespaces', 'is required: the namespaces whose dumps are analysed');
  for (const ns of namespaces)
    if (!DNS_LABEL.test(ns)) throw new FieldError('analysis.namespaces', `"${ns}" is not a namespace name`);
  const namespace = args.namespace ?? namespaces[0] ?? '';
  if (!DNS_LABEL.test(namespace))
    throw new FieldError('analysis.namespace', `"${namespace}" is not a namespace name`);
  const memoryPerGiB = quantity('analysis.memoryPerGiB', args.memoryPerGiB ?? ANALYSIS_DEFAULTS.memoryPerGiB);
  const maxMemory = quantity('analysis.maxMemory', args.maxMemory ?? ANALYSIS_DEFAULTS.maxMemory);
  if ((parseQuantity(maxMemory) ?? 0) < 256 * 2 ** 20)
    throw new FieldError('analysis.maxMemory', `${maxMemory} is less than 256Mi: no analysis fits`);
  for (const [k, v] of Object.entries(args.nodeSelector ?? {}))
    if (typeof v !== 'string') throw new FieldError(`analysis.nodeSelector.${k}`, 'must be a string');
  for (const [i, t] of (args.tolerations ?? []).entries()) {
    if (t.operator === 'Exists' && t.value !== undefined)
      throw new FieldError(`analysis.tolerations[${i}].value`, 'must be empty with operator Exists');
  }
  return {
    namespace,
    namespaces,
    memoryPerGiB,
    maxMemory,
    ttlSecondsAfterFinished: count(
      'analysis.ttlSecondsAfterFinished',
      args.ttlSecondsAfterFinished ?? ANALYSIS_DEFAULTS.ttlSecondsAfterFinished,
    ),
    backoffLimit: count('analysis.backoffLimit', args.backoffLimit ?? ANALYSIS_DEFAULTS.backoffLimit),
    nodeSelector: args.nodeSelector ?? {},
    tolerations: args.tolerations ?? [],
    credentialsSecret: args.credentialsSecret,
  };
}
