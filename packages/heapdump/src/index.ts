// @kube-heapdump/heapdump: the Pulumi components HeapDumpEnabledApp and HeapDumpStorage, and the pure
// builders behind them (addHeapDumps on plain core/v1 pod specs).
import type * as pulumi from '@pulumi/pulumi';
import { HeapDumpEnabledApp as HeapDumpEnabledAppComponent } from './component.ts';
import type { TypedHeapDumpEnabledAppArgs } from './typed-args.ts';

export {
  DEFAULT_MEMORY_THRESHOLD,
  defaultHeapPercentage,
  formatMi,
  maxHeapBytes,
  parseJvmSize,
  parseQuantity,
  readHeapFlags,
  splitOptions,
} from '@kube-heapdump/contract';
export {
  addHeapDumps,
  addHeapDumpsToPodSpec,
  addHeapDumpsToTemplate,
  type HeapDumpOptions,
  type HeapDumpsAdded,
  WORKLOAD_KINDS,
  type WorkloadKindName,
} from './add-heap-dumps.ts';
export { type AppSettings, appEnv } from './app-container.ts';
export * from './args.ts';
export { HEAPDUMP_ENABLED_APP_TYPE, listCommand } from './component.ts';
export { ArgsError, FieldError } from './errors.ts';
export { eventsRoleRules } from './events-rbac.ts';
export { DEFAULT_REGISTRY, UPLOADER_IMAGE_NAME, uploaderImage, VERSION } from './image.ts';
export { heapDumpJvmFlags, withJavaToolOptions } from './jvm.ts';
export type * from './k8s-types.ts';
export { DEFAULT_MOUNT_PATH, DUMP_VOLUME, UPLOADER_CONTAINER } from './names.ts';
export { planResources } from './plan.ts';
export * from './policies.ts';
export { computeSizing, gracePeriodSeconds, type Sizing } from './sizing.ts';
export {
  HEAPDUMP_STORAGE_TYPE,
  HeapDumpStorage,
  type HeapDumpStorageArgs,
  type PodPlacement,
  type TransformOptions,
} from './storage.ts';
export type { TypedHeapDumpEnabledAppArgs, WorkloadSpecInput } from './typed-args.ts';
export {
  type UploaderCredentials,
  type UploaderSettings,
  type UploadTarget,
  uploaderEnv,
} from './uploader-container.ts';
export { watchdogJvmFlags } from './watchdog.ts';
export {
  type PodInputs,
  type RenderedDeployment,
  type RenderedWorkload,
  renderDeployment,
  renderWorkload,
} from './workload.ts';
export { selectWorkload, WORKLOAD_TYPES, type WorkloadSelector, wrapWorkloadSpec } from './wrap-workload.ts';

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
