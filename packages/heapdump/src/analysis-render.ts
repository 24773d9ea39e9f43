// The analysis controller's objects as plain data (pure, so the schema and least-privilege tests read them):
// one ServiceAccount (the controller's API token; the Jobs run as it without one), a Role for Jobs in its
// namespace, a Role for Events in each served namespace, their bindings, and the controller's Deployment.
import { ANALYSIS_COMMANDS, ANALYSIS_ENV, JOB_LABELS, UPLOADER_ENV } from '@kube-heapdump/contract';
import { analysisEventsRules, analysisJobsRules } from './analysis-access.ts';
import type { AnalysisSettings } from './analysis-args.ts';
import { PART_OF_LABEL } from './names.ts';
import type { UploadTarget } from './uploader-container.ts';

/** How the controller and the Jobs reach the store: a Secret (envFrom) or a role for the ServiceAccount. */
export type AnalysisCredentials =
  | { kind: 'secret'; secretName: string }
  | { kind: 'webIdentity'; roleArn?: string };

export interface AnalysisRenderInputs {
  /** Base of the objects' names, like `heapdump-analysis`. */
  name: string;
  settings: AnalysisSettings;
  target: UploadTarget;
  image: string;
  credentials: AnalysisCredentials;
}

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace: string } } & Record<
  string,
  unknown
>;

export function analysisObjects(i: AnalysisRenderInputs): Obj[] {
  const { name, settings: s, target } = i;
  const labels = { ...PART_OF_LABEL, [JOB_LABELS.component]: 'heapdump-analysis-controller' };
  const meta = (n: string, namespace = s.namespace) => ({ name: n, namespace, labels });
  const subjects = [{ kind: 'ServiceAccount', name, namespace: s.namespace }];
  const binding = (n: string, namespace: string) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: meta(n, namespace),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: n },
    subjects,
  });
  const role = (n: string, namespace: string, rules: unknown) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: meta(n, namespace),
    rules,
  });
  const env: { name: string; value?: string; valueFrom?: unknown }[] = [
    { name: UPLOADER_ENV.bucket, value: target.bucket },
    { name: UPLOADER_ENV.prefix, value: target.prefix },
    ...(target.endpoint === undefined ? [] : [{ name: UPLOADER_ENV.endpoint, value: target.endpoint }]),
    { name: UPLOADER_ENV.region, value: target.region },
    { name: UPLOADER_ENV.forcePathStyle, value: String(target.forcePathStyle) },
    { name: ANALYSIS_ENV.namespaces, value: s.namespaces.join(',') },
    { name: ANALYSIS_ENV.namespace, valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    { name: ANALYSIS_ENV.image, value: i.image },
    { name: ANALYSIS_ENV.serviceAccount, value: name },
    { name: ANALYSIS_ENV.memoryPerGiB, value: s.memoryPerGiB },
    { name: ANALYSIS_ENV.maxMemory, value: s.maxMemory },
    { name: ANALYSIS_ENV.ttlSecondsAfterFinished, value: String(s.ttlSecondsAfterFinished) },
    { name: ANALYSIS_ENV.backoffLimit, value: String(s.backoffLimit) },
    ...(Object.keys(s.nodeSelector).length > 0
      ? [{ name: ANALYSIS_ENV.nodeSelector, value: JSON.stringify(s.nodeSelector) }]
      : []),
    ...(s.tolerations.length > 0
      ? [{ name: ANALYSIS_ENV.tolerations, value: JSON.stringify(s.tolerations) }]
      : []),
    ...(i.credentials.kind === 'secret'
      ? [{ name: ANALYSIS_ENV.credentialsSecret, value: i.credentials.secretName }]
      : []),
  ];
  const roleArn = i.credentials.kind === 'webIdentity' ? i.credentials.roleArn : undefined;
  return [
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: {
        ...meta(name),
        ...(roleArn ? { annotations: { 'eks.amazonaws.com/role-arn': roleArn } } : {}),
      },
    },
    role(`${name}-jobs`, s.namespace, analysisJobsRules()),
    binding(`${name}-jobs`, s.namespace),
    ...s.namespaces.flatMap((ns) => [
      role(`${name}-events`, ns, analysisEventsRules()),
      binding(`${name}-events`, ns),
    ]),
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(name),
      spec: {
        replicas: 1,
        // Never two controllers at once (both would follow the same Jobs; harmless, but noisy).
        strategy: { type: 'Recreate' },
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { ...labels, app: name } },
          spec: {
            serviceAccountName: name,
            securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'controller',
                image: i.image,
                args: [ANALYSIS_COMMANDS.controller],
                env,
                ...(i.credentials.kind === 'secret'
                  ? { envFrom: [{ secretRef: { name: i.credentials.secretName } }] }
                  : {}),
                // The uploader's budget: 115 MiB peak measured in test/analysis-in-cluster.test.ts (from source), so 128Mi was tight.
                resources: { requests: { cpu: '10m', memory: '96Mi' }, limits: { memory: '256Mi' } },
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
    },
  ];
}
