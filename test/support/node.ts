// Running the workspace's TypeScript entry points in a child process: the packages they import resolve to
// their src/ through this export condition (package.json "exports"), as in `npm test`.
export const SOURCE_CONDITION = '@kube-heapdump/source';

/** Node flags for a child that runs a `.ts` entry point of the workspace. */
export const RUN_SOURCE: readonly string[] = [`--conditions=${SOURCE_CONDITION}`];
