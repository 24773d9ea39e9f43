// The component's arguments as TypeScript programs see them: the untyped Kubernetes objects of the schema
// (`KubernetesObject`) with their real @pulumi/kubernetes input types.
import type * as k8s from '@pulumi/kubernetes';
import type * as pulumi from '@pulumi/pulumi';
import type { HeapDumpEnabledAppArgs } from './args.ts';

type WithoutTemplate<T> = Partial<Omit<T, 'template'>>;

/** The fields of the five workload specs the component creates, without their pod template. */
export type WorkloadSpecInput = WithoutTemplate<k8s.types.input.apps.v1.DeploymentSpec> &
  WithoutTemplate<k8s.types.input.apps.v1.StatefulSetSpec> &
  WithoutTemplate<k8s.types.input.apps.v1.DaemonSetSpec> &
  WithoutTemplate<k8s.types.input.batch.v1.JobSpec> &
  Partial<Omit<k8s.types.input.batch.v1.CronJobSpec, 'jobTemplate'>> & {
    /** A CronJob's Job template, without its pod template (that is `podTemplate`). */
    jobTemplate?: pulumi.Input<{
      metadata?: pulumi.Input<k8s.types.input.meta.v1.ObjectMeta>;
      spec?: pulumi.Input<WithoutTemplate<k8s.types.input.batch.v1.JobSpec>>;
    }>;
  };

/** HeapDumpEnabledAppArgs with the pod template, workload spec and metadata typed. */
export interface TypedHeapDumpEnabledAppArgs
  extends Omit<HeapDumpEnabledAppArgs, 'podTemplate' | 'workloadSpec' | 'workloadMetadata'> {
  /** See HeapDumpEnabledAppArgs.podTemplate. */
  podTemplate?: pulumi.Input<k8s.types.input.core.v1.PodTemplateSpec>;
  /** See HeapDumpEnabledAppArgs.workloadSpec. */
  workloadSpec?: pulumi.Input<WorkloadSpecInput>;
  /** See HeapDumpEnabledAppArgs.workloadMetadata. */
  workloadMetadata?: pulumi.Input<k8s.types.input.meta.v1.ObjectMeta>;
}
