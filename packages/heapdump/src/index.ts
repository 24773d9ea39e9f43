// @kube-heapdump/heapdump: the Pulumi component HeapDumpEnabledApp and the pure builders behind it.
export * from './args.ts';
export { HEAPDUMP_ENABLED_APP_TYPE, HeapDumpEnabledApp, listCommand } from './component.ts';
export { DEFAULT_REGISTRY, UPLOADER_IMAGE_NAME, uploaderImage, VERSION } from './image.ts';
export { planResources } from './plan.ts';
export {
  ArgsError,
  appEnv,
  computeSizing,
  heapDumpJvmFlags,
  type PodInputs,
  type RenderedDeployment,
  renderDeployment,
  type UploaderCredentials,
  type UploadTarget,
  uploaderEnv,
} from './pod-spec.ts';
export * from './policies.ts';
export { formatMi, maxHeapBytes, parseJvmSize, parseQuantity, readHeapFlags, splitOptions } from './sizes.ts';
