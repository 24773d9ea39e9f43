// HeapDumpEnabledApp's workload from its plain arguments: the user's pod template, or the pod the shorthand
// arguments describe, inside the workload spec of its kind. Pure.
import type * as pulumi from '@pulumi/pulumi';
import type { HeapDumpEnabledAppArgs, WorkloadKind } from './args.ts';
import { FieldError } from './errors.ts';
import type { PodTemplateSpec } from './k8s-types.ts';
import type { UploaderSetup } from './uploader-container.ts';
import { checkReplicas, type PreparedWorkload, prepareWorkload, shorthandTemplate } from './workload.ts';

export type PlainAppArgs = pulumi.Unwrap<HeapDumpEnabledAppArgs>;

/** The shorthand arguments that describe the pod: a pod template replaces them all. */
export const SHORTHAND_POD_FIELDS = [
  'image',
  'command',
  'args',
  'env',
  'ports',
  'resources',
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'securityContext',
  'podSecurityContext',
  'containerName',
  'imagePullSecrets',
  'labels',
  'podAnnotations',
  'terminationGracePeriodSeconds',
] as const;

/** Refuses a shorthand pod argument beside a pod template, and replicas on kinds that have none. */
export function checkPodArgs(
  args: Pick<HeapDumpEnabledAppArgs, 'podTemplate' | 'replicas' | (typeof SHORTHAND_POD_FIELDS)[number]>,
  kind: WorkloadKind,
): void {
  if (args.podTemplate !== undefined) {
    for (const key of SHORTHAND_POD_FIELDS) {
      if (args[key] !== undefined) {
        throw new FieldError(
          key,
          `is a shorthand for the pod; with podTemplate, give it in the pod template instead`,
        );
      }
    }
  } else if (args.image === undefined) {
    throw new FieldError('image', 'is required: the Java app image (or give podTemplate)');
  }
  if (args.replicas !== undefined && kind !== 'Deployment' && kind !== 'StatefulSet') {
    throw new FieldError('replicas', `a ${kind} has no replicas`);
  }
}

/** What the app's workload needs besides its arguments and the store: the uploader's image and settings. */
export type AppUploader = Pick<UploaderSetup, 'uploader' | 'defaultUploaderImage'>;

/** The app's workload from its arguments, checked and rendered once; the store is wired in later. */
export function prepareAppWorkload(
  kind: WorkloadKind,
  args: PlainAppArgs,
  uploader: AppUploader,
): PreparedWorkload {
  checkReplicas(args.replicas);
  const heapDumps = args.heapDumps ?? {};
  const given = (args.workloadSpec ?? {}) as Record<string, unknown>;
  const replicas = args.replicas !== undefined ? { replicas: args.replicas } : {};
  const base = { uploader: uploader.uploader, defaultUploaderImage: uploader.defaultUploaderImage };
  if (args.podTemplate !== undefined) {
    return prepareWorkload({
      ...base,
      kind,
      heapDumps,
      podTemplate: args.podTemplate as PodTemplateSpec,
      workloadSpec: { ...replicas, ...given },
      field: 'podTemplate',
    });
  }
  const defaultReplicas = kind === 'Deployment' || kind === 'StatefulSet' ? { replicas: 1 } : {};
  return prepareWorkload({
    ...base,
    kind,
    heapDumps,
    podTemplate: shorthandTemplate(args, kind),
    workloadSpec: { ...defaultReplicas, ...replicas, ...given },
    field: '',
    specField: '',
    containerField: () => '',
  });
}
