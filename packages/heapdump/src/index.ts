// @kube-heapdump/heapdump: the Pulumi components HeapDumpEnabledApp and HeapDumpStorage, their arguments, the
// pure addHeapDumps builders behind them (on plain core/v1 pod specs) and the error they throw. Named one by
// one: everything else is the package's own (tests import it from its module).
import type * as pulumi from '@pulumi/pulumi';
import { HeapDumpEnabledApp as HeapDumpEnabledAppComponent } from './component.ts';
import type { TypedHeapDumpEnabledAppArgs } from './typed-args.ts';

export {
  addHeapDumps,
  addHeapDumpsToPodSpec,
  addHeapDumpsToTemplate,
  type HeapDumpOptions,
  type HeapDumpsAdded,
} from './add-heap-dumps.ts';
export type { AnalysisArgs, AnalysisTolerationArgs } from './analysis-args.ts';
export {
  Compression,
  type ContainerPortArgs,
  type ContainerSecurityContextArgs,
  type EnvVarArgs,
  type ExistingBucketArgs,
  type ExistingSecretArgs,
  type HeapDumpEnabledAppArgs,
  type HeapDumpsArgs,
  type IdentityArgs,
  IdentityKind,
  type IrsaArgs,
  type KeyRefArgs,
  type KubernetesObject,
  OnOutOfMemory,
  type PodIdentityArgs,
  type PodSecurityContextArgs,
  type ProbeArgs,
  type ProvisionedBucketArgs,
  Redaction,
  type ResourcesArgs,
  SidecarMode,
  type StorageArgs,
  type UploaderArgs,
  type WebhookSecretArgs,
  WorkloadKind,
} from './args.ts';
export { FieldError } from './errors.ts';
export type { PodSpec, PodTemplateSpec } from './k8s-types.ts';
export {
  HeapDumpStorage,
  type HeapDumpStorageArgs,
  type PodPlacement,
  type TransformOptions,
} from './storage.ts';
export type { TypedHeapDumpEnabledAppArgs, WorkloadSpecInput } from './typed-args.ts';
export type { UploaderCredentials, UploadTarget } from './uploader-container.ts';
export type { WorkloadSelector } from './wrap-workload.ts';

/** HeapDumpEnabledApp's constructor as TypeScript programs see it: the pod template and workload typed. */
export interface HeapDumpEnabledAppConstructor {
  new (
    name: string,
    args: TypedHeapDumpEnabledAppArgs,
    opts?: pulumi.ComponentResourceOptions,
  ): HeapDumpEnabledAppComponent;
}

/**
 * A Java workload on Kubernetes whose heap dumps reach S3-compatible storage (see component.ts). The class
 * Pulumi's analyzer reads for other languages, typed for TypeScript.
 */
export const HeapDumpEnabledApp = HeapDumpEnabledAppComponent as unknown as HeapDumpEnabledAppConstructor &
  Pick<typeof HeapDumpEnabledAppComponent, 'isInstance'>;
export type HeapDumpEnabledApp = HeapDumpEnabledAppComponent;
