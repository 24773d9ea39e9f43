// Which resources a HeapDumpStorage transform wraps, and the wrapping itself on plain workload objects (what
// a Helm chart, a YAML file or another component registers). Pure.
import { type PodOptions, prepareTemplate, type StoreWiring } from './add-heap-dumps.ts';
import type { WorkloadKind } from './args.ts';
import { FieldError, fieldPath } from './errors.ts';
import type { PodTemplateSpec } from './k8s-types.ts';
import type { Sizing } from './sizing.ts';

/** The Pulumi type token of each workload kind (a Record over WorkloadKind: a kind added there fails to compile here). */
const TYPE_OF_KIND: Readonly<Record<WorkloadKind, string>> = {
  Deployment: 'kubernetes:apps/v1:Deployment',
  StatefulSet: 'kubernetes:apps/v1:StatefulSet',
  DaemonSet: 'kubernetes:apps/v1:DaemonSet',
  Job: 'kubernetes:batch/v1:Job',
  CronJob: 'kubernetes:batch/v1:CronJob',
};

/** Pulumi type tokens of the workloads a transform can wrap. */
const WORKLOAD_TYPES: Readonly<Record<string, WorkloadKind>> = Object.fromEntries(
  Object.entries(TYPE_OF_KIND).map(([kind, type]) => [type, kind as WorkloadKind]),
);

/** Which workloads to wrap; every criterion given must hold. */
export interface WorkloadSelector {
  /** Kinds to wrap. Default: all five. */
  kinds?: WorkloadKind[];
  /** Workload names (`metadata.name`, or the resource name when the object has none). Default: any. */
  names?: string[];
  /** Namespaces. Default: any. */
  namespaces?: string[];
  /**
   * Java container names: a workload matches when its pod has one of them, and those get heap dumps.
   * Default: any workload, its only container (several containers and none named is an error).
   */
  containers?: string[];
}

/** A workload object as it is registered: apiVersion, kind, metadata, spec. */
export interface WorkloadObject {
  metadata?: { name?: string; namespace?: string; [key: string]: unknown };
  spec?: Record<string, unknown>;
  [key: string]: unknown;
}

/** The pod template of a workload spec, and where it is. */
function templateOf(
  kind: WorkloadKind,
  spec: Record<string, unknown> | undefined,
): PodTemplateSpec | undefined {
  if (kind === 'CronJob') {
    const job = spec?.jobTemplate as { spec?: { template?: PodTemplateSpec } } | undefined;
    return job?.spec?.template;
  }
  return spec?.template as PodTemplateSpec | undefined;
}

function templatePath(kind: WorkloadKind): string {
  return kind === 'CronJob' ? 'spec.jobTemplate.spec.template' : 'spec.template';
}

export interface WorkloadTarget {
  kind: WorkloadKind;
  name: string;
  namespace: string;
  serviceAccountName: string;
  /** The Java containers to give heap dumps (`heapDumps.containers`), or undefined for the only one. */
  containers: string[] | undefined;
}

/** The workload this resource is, when the selector picks it; undefined when it is not to be wrapped. */
export function selectWorkload(
  type: string,
  resourceName: string,
  object: WorkloadObject,
  selector: WorkloadSelector,
): WorkloadTarget | undefined {
  const kind = WORKLOAD_TYPES[type];
  if (kind === undefined) return undefined;
  if (selector.kinds && !selector.kinds.includes(kind)) return undefined;
  const name = object.metadata?.name ?? resourceName;
  if (selector.names && !selector.names.includes(name)) return undefined;
  const namespace = object.metadata?.namespace ?? 'default';
  if (selector.namespaces && !selector.namespaces.includes(namespace)) return undefined;
  const where = `${kind} ${namespace}/${name}`;
  if (typeof name !== 'string' || typeof namespace !== 'string') {
    throw new FieldError(
      where,
      'metadata.name and metadata.namespace must be known when the workload is created',
    );
  }
  const template = templateOf(kind, object.spec);
  if (template?.spec === undefined) {
    throw new FieldError(
      `${where} ${fieldPath(templatePath(kind), 'spec')}`,
      'matches the selector but has no pod spec to add heap dumps to',
    );
  }
  let containers: string[] | undefined;
  if (selector.containers) {
    containers = template.spec.containers.map((c) => c.name).filter((n) => selector.containers?.includes(n));
    if (containers.length === 0) return undefined;
  }
  const serviceAccountName = template.spec.serviceAccountName ?? template.spec.serviceAccount ?? 'default';
  return { kind, name, namespace, serviceAccountName, containers };
}

/**
 * The workload spec with heap dumps in its pod template, rendered once from what is known; `wire` adds the
 * store settings when they are. Errors name the workload and the field.
 */
export function prepareWrap(
  target: WorkloadTarget,
  spec: Record<string, unknown>,
  options: Omit<PodOptions, 'kind' | 'field'>,
): { sizing: Sizing; warnings: string[]; wire(store: StoreWiring): Record<string, unknown> } {
  const template = templateOf(target.kind, spec) as PodTemplateSpec;
  const heapDumps = target.containers
    ? { ...options.heapDumps, containers: target.containers }
    : options.heapDumps;
  const where = `${target.kind} ${target.namespace}/${target.name} ${templatePath(target.kind)}`;
  const pod = prepareTemplate(template, { ...options, heapDumps, kind: target.kind, field: where });
  const warnings = pod.warnings.map((w) => `${target.kind} ${target.namespace}/${target.name}: ${w}`);
  if (target.kind === 'CronJob') {
    const job = spec.jobTemplate as { spec: Record<string, unknown> };
    return {
      sizing: pod.sizing,
      warnings,
      wire: (store) => ({
        ...spec,
        jobTemplate: { ...job, spec: { ...job.spec, template: pod.wire(store).template } },
      }),
    };
  }
  return { sizing: pod.sizing, warnings, wire: (store) => ({ ...spec, template: pod.wire(store).template }) };
}
