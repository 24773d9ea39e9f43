// A workload's spec around a pod template with heap dumps, for each kind the component creates; and the
// shorthand Deployment. Pure: the user's workload fields pass through, the pod gets heap dumps.
import type * as pulumi from '@pulumi/pulumi';
import { prepareTemplate, type StoreWiring, templateSpec } from './add-heap-dumps.ts';
import { type AppSettings, shorthandPodSpec } from './app-container.ts';
import { type HeapDumpsArgs, WorkloadKind } from './args.ts';
import { FieldError, fieldPath } from './errors.ts';
import type { DeploymentSpec, PodTemplateSpec } from './k8s-types.ts';
import type { Sizing } from './sizing.ts';
import type { UploaderSetup } from './uploader-container.ts';

/** A workload spec as the user gives it (`workloadSpec`), without its pod template. */
export type WorkloadSpecFields = Record<string, unknown>;

export interface WorkloadInputs extends UploaderSetup {
  kind: WorkloadKind;
  heapDumps: pulumi.Unwrap<HeapDumpsArgs>;
  podTemplate: PodTemplateSpec;
  workloadSpec: WorkloadSpecFields;
  /** Path of the pod template in the arguments (`podTemplate.`), for errors. */
  field: string;
  /** Paths for errors in the shorthand arguments (no pod template in them). */
  specField?: string | undefined;
  containerField?: ((index: number) => string) | undefined;
  /** Set as the pod's ServiceAccount when it names none (the identity created one). */
  serviceAccountName?: string | undefined;
}

export interface RenderedWorkload {
  spec: Record<string, unknown>;
  sizing: Sizing;
  warnings: string[];
}

const HAS_SELECTOR: readonly WorkloadKind[] = ['Deployment', 'StatefulSet', 'DaemonSet'];

/** Workload kinds a pod template can come from: the enum's values, the one list. */
const WORKLOAD_KINDS: readonly WorkloadKind[] = Object.values(WorkloadKind);

/** Refuses a kind we do not create. */
export function checkKind(kind: string | undefined): WorkloadKind {
  const k = kind ?? 'Deployment';
  if (!(WORKLOAD_KINDS as readonly string[]).includes(k)) {
    throw new FieldError('kind', `"${k}" is not one of ${WORKLOAD_KINDS.join(', ')}`);
  }
  return k as WorkloadKind;
}

function selectorLabels(spec: WorkloadSpecFields): Record<string, string> | undefined {
  if (spec.selector === undefined) return undefined;
  const selector = spec.selector as { matchLabels?: Record<string, string> };
  return selector.matchLabels ?? {};
}

/** The workload spec of `inputs.kind`: the user's fields, the selector, and the pod template with heap dumps. */
export function renderWorkload(inputs: WorkloadInputs): RenderedWorkload {
  const prepared = prepareWorkload(inputs);
  return {
    spec: prepared.wire(inputs, inputs.serviceAccountName),
    sizing: prepared.sizing,
    warnings: prepared.warnings,
  };
}

/**
 * A workload rendered from what the arguments say, once: checked, sized, its pod decided. `wire` adds what
 * arrives later (see PreparedPod): the store settings, the app's name (the default selector) and the
 * ServiceAccount.
 */
export interface PreparedWorkload {
  sizing: Sizing;
  warnings: string[];
  wire(store: StoreWiring, serviceAccountName: string | undefined): Record<string, unknown>;
}

export function prepareWorkload(
  inputs: Omit<WorkloadInputs, keyof StoreWiring | 'serviceAccountName'>,
): PreparedWorkload {
  const { kind, workloadSpec, field } = inputs;
  const template = inputs.podTemplate;
  const spec = templateSpec(template, field);
  // Without a selector of the user's, the workload selects its pods by `app: <app name>`.
  let defaultSelector = false;
  if (HAS_SELECTOR.includes(kind)) {
    const labels = template.metadata?.labels ?? {};
    const wanted = selectorLabels(workloadSpec);
    if (wanted === undefined) {
      defaultSelector = true;
    } else {
      for (const [k, v] of Object.entries(wanted)) {
        if (labels[k] !== v) {
          throw new FieldError(
            'workloadSpec.selector',
            `matchLabels ${k}=${v} does not match the pod's labels (${fieldPath(field, 'metadata.labels')}): the ${kind} would own no pods`,
          );
        }
      }
    }
  } else {
    const policy = spec.restartPolicy;
    if (policy !== 'Never' && policy !== 'OnFailure') {
      throw new FieldError(
        fieldPath(field, 'spec.restartPolicy'),
        `a ${kind}'s pod needs restartPolicy Never or OnFailure`,
      );
    }
  }
  const pod = prepareTemplate(template, { ...inputs, field });
  const { sizing, warnings } = pod;
  if (kind === 'CronJob') {
    if (!workloadSpec.schedule)
      throw new FieldError('workloadSpec.schedule', 'is required for a CronJob, like "0 3 * * *"');
    const jobTemplate = (workloadSpec.jobTemplate ?? {}) as {
      metadata?: unknown;
      spec?: Record<string, unknown>;
    };
    return {
      sizing,
      warnings,
      wire: (store, serviceAccountName) => ({
        ...workloadSpec,
        jobTemplate: {
          ...jobTemplate,
          spec: { ...(jobTemplate.spec ?? {}), template: pod.wire(store, { serviceAccountName }).template },
        },
      }),
    };
  }
  return {
    sizing,
    warnings,
    wire: (store, serviceAccountName) => {
      const appLabel = defaultSelector ? store.appName : undefined;
      const selector = defaultSelector ? { selector: { matchLabels: { app: store.appName } } } : {};
      return {
        ...workloadSpec,
        ...selector,
        template: pod.wire(store, { serviceAccountName, appLabel }).template,
      };
    },
  };
}

export interface PodInputs extends UploaderSetup {
  app: AppSettings;
  heapDumps: pulumi.Unwrap<HeapDumpsArgs>;
  serviceAccountName?: string | undefined;
}

export interface RenderedDeployment {
  spec: DeploymentSpec;
  sizing: Sizing;
  warnings: string[];
}

/** The pod template the shorthand arguments describe, with the extra pod labels and annotations. */
export function shorthandTemplate(app: AppSettings, kind: WorkloadKind): PodTemplateSpec {
  const spec = shorthandPodSpec(app);
  // A Job's pod must not be restarted in place forever; Never keeps the failed pod for its logs.
  if (kind === 'Job' || kind === 'CronJob') spec.restartPolicy = 'Never';
  const metadata: NonNullable<PodTemplateSpec['metadata']> = {};
  if (app.labels) metadata.labels = { ...app.labels };
  if (app.podAnnotations) metadata.annotations = { ...app.podAnnotations };
  return { ...(Object.keys(metadata).length > 0 ? { metadata } : {}), spec };
}

/** The replicas shorthand, checked. */
export function checkReplicas(replicas: number | undefined): void {
  if (replicas !== undefined && !(Number.isInteger(replicas) && replicas >= 0 && replicas <= 10_000)) {
    throw new FieldError('replicas', `${replicas} must be a whole number from 0 to 10000`);
  }
}

/** The Deployment spec of a heap-dump-enabled Java app described by the shorthand arguments. */
export function renderDeployment(inputs: PodInputs): RenderedDeployment {
  const { app } = inputs;
  checkReplicas(app.replicas);
  const r = renderWorkload({
    ...inputs,
    kind: 'Deployment',
    podTemplate: shorthandTemplate(app, 'Deployment'),
    workloadSpec: { replicas: app.replicas ?? 1 },
    field: '',
    specField: '',
    containerField: () => '',
  });
  return { spec: r.spec as unknown as DeploymentSpec, sizing: r.sizing, warnings: r.warnings };
}
