// What the verbs share: the writers they print with, flag parsers, the store and filter flags, and running a
// verb against the store with whatever the SDK throws turned into one line.
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { DumpFilters, Resolved } from './catalog.ts';
import { DataError, describeStoreError, StoreError, UsageError } from './errors.ts';
import { parseSince } from './since.ts';
import { STORE_FLAGS, type Store, type StoreOptions } from './store.ts';

/** Where a verb prints: results on stdout, notices on stderr, and its exit status. */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  setExit: (code: number) => void;
}

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError(`"${value}" is not a positive integer.`);
  return n;
}

export interface FilterFlags {
  namespace?: string;
  app?: string;
  pod?: string;
  since?: string;
}

export function withStoreFlags(command: Command): Command {
  for (const [flags, description] of STORE_FLAGS) command.addOption(new Option(flags, description));
  return command;
}

export function withFilterFlags(command: Command, since: boolean): Command {
  command
    .option('-n, --namespace <namespace>', 'only dumps of this namespace')
    .option('--app <app>', 'only dumps of this app')
    .option('--pod <pod>', 'only dumps of this pod');
  if (since) command.option('--since <when>', 'only dumps started since: 7d, 24h, 30m, or a date');
  return command;
}

/** `latest` and `latest~N` pick complete dumps; this flag lets them pick any. */
export function withIncompleteFlag(command: Command): Command {
  return command.option(
    '--include-incomplete',
    'let latest pick incomplete dumps and dumps without a summary too (said on stderr)',
    false,
  );
}

/** What a verb acting on one stored dump (`<key|latest>`) is given: the store, the filters, --include-incomplete. */
export type RefFlags = StoreOptions & FilterFlags & { includeIncomplete: boolean };

/** The flags of a verb acting on one stored dump: the store's, the filters but --since, --include-incomplete. */
export function withRefFlags(command: Command): Command {
  return withIncompleteFlag(withFilterFlags(withStoreFlags(command), false));
}

/** The key `ref` (a key, latest or latest~N) names in the store; what `latest` chose or passed over on stderr. */
export async function resolveRef(store: Store, ref: string, options: RefFlags, io: Io): Promise<Resolved> {
  const { resolveKey } = await import('./catalog.ts');
  const resolved = await resolveKey(store, ref, filtersOf(options), options.includeIncomplete);
  if (resolved.notice) io.err(`heapdump: note: ${resolved.notice}`);
  return resolved;
}

export function filtersOf(f: FilterFlags): DumpFilters {
  return {
    ...(f.namespace !== undefined ? { namespace: f.namespace } : {}),
    ...(f.app !== undefined ? { app: f.app } : {}),
    ...(f.pod !== undefined ? { pod: f.pod } : {}),
    ...(f.since !== undefined ? { since: parseSince(f.since) } : {}),
  };
}

/** Runs `work` against the store, turning whatever the SDK throws into one line. */
export async function withStore<T>(options: StoreOptions, work: (store: Store) => Promise<T>): Promise<T> {
  const { openStore } = await import('./store.ts');
  const store = await openStore(options);
  try {
    return await work(store);
  } catch (err) {
    if (err instanceof StoreError || err instanceof UsageError || err instanceof DataError) throw err;
    throw describeStoreError(err, `s3://${store.bucket}/${store.prefix}`, store.endpoint);
  } finally {
    store.client.destroy();
  }
}

/** A store only when one is configured (a bucket by flag or environment): verbs that also read files. */
export async function optionalStore(options: StoreOptions): Promise<Store | undefined> {
  if (options.bucket === undefined && !process.env.HEAPDUMP_BUCKET) return undefined;
  const { openStore } = await import('./store.ts');
  return openStore(options);
}
