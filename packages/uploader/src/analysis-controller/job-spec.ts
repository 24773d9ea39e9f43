// The Job that analyses one dump. Its name is a digest of the key, so one dump has one Job however often its
// Event is seen and however often the controller restarts: creating it again answers AlreadyExists.
import { createHash } from 'node:crypto';
import {
  ANALYSIS_COMMANDS,
  ANALYSIS_ENV,
  formatMi,
  JOB_KEY_ANNOTATION,
  JOB_LABELS,
  type StoreSettings,
  UPLOADER_ENV,
} from '@kube-heapdump/contract';

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  tolerationSeconds?: number;
}

export interface JobSettings {
  /** Where the Jobs run: the controller's namespace. */
  namespace: string;
  image: string;
  /** The Jobs' ServiceAccount: the identity that may read dumps and write reports. */
  serviceAccount: string;
  store: StoreSettings;
  ttlSecondsAfterFinished: number;
  backoffLimit: number;
  nodeSelector: Record<string, string>;
  tolerations: Toleration[];
  /** A Secret holding the store credential (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), when not IRSA/Pod Identity. */
  credentialsSecret?: string | undefined;
}

/** `heapdump-analysis-` and 16 hex digits of the key's SHA-256: a valid name, the same for the same key. */
export function analysisJobName(key: string): string {
  return `heapdump-analysis-${createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 16)}`;
}

function storeEnv(s: StoreSettings): { name: string; value: string }[] {
  return [
    { name: UPLOADER_ENV.bucket, value: s.bucket },
    { name: UPLOADER_ENV.prefix, value: s.prefix },
    ...(s.endpoint === undefined ? [] : [{ name: UPLOADER_ENV.endpoint, value: s.endpoint }]),
    { name: UPLOADER_ENV.region, value: s.region },
    { name: UPLOADER_ENV.forcePathStyle, value: String(s.forcePathStyle) },
  ];
}

/** The batch/v1 Job for the dump at `key`, with `memoryBytes` requested and as its limit. */
export function analysisJob(key: string, memoryBytes: number, s: JobSettings) {
  const memory = formatMi(memoryBytes);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: analysisJobName(key),
      namespace: s.namespace,
      labels: { [JOB_LABELS.component]: JOB_LABELS.value },
      annotations: { [JOB_KEY_ANNOTATION]: key },
    },
    spec: {
      backoffLimit: s.backoffLimit,
      ttlSecondsAfterFinished: s.ttlSecondsAfterFinished,
      template: {
        metadata: { labels: { [JOB_LABELS.component]: JOB_LABELS.value } },
        spec: {
          restartPolicy: 'Never',
          serviceAccountName: s.serviceAccount,
          // The store identity (IRSA, Pod Identity) needs no API token; without one the Job cannot use the Role.
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          ...(Object.keys(s.nodeSelector).length > 0 ? { nodeSelector: s.nodeSelector } : {}),
          ...(s.tolerations.length > 0 ? { tolerations: s.tolerations } : {}),
          containers: [
            {
              name: 'analysis',
              image: s.image,
              args: [ANALYSIS_COMMANDS.job],
              ...(s.credentialsSecret ? { envFrom: [{ secretRef: { name: s.credentialsSecret } }] } : {}),
              env: [
                ...storeEnv(s.store),
                { name: ANALYSIS_ENV.key, value: key },
                { name: ANALYSIS_ENV.memoryLimit, value: String(memoryBytes) },
              ],
              resources: {
                requests: { memory, cpu: '1' },
                limits: { memory },
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
            },
          ],
        },
      },
    },
  };
}

export type AnalysisJob = ReturnType<typeof analysisJob>;
