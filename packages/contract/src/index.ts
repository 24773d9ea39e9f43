// @kube-heapdump/contract: what the uploader, the CLI and the component agree on. No dependencies.

export * from './analysis.ts';
export * from './analysis-jobs.ts';
export * from './compression.ts';
export * from './evidence.ts';
export * from './jvm-options.ts';
export * from './keys.ts';
export * from './sizes.ts';
export * from './store.ts';
export * from './summary.ts';
export * from './units.ts';
export * from './uploader-env.ts';
