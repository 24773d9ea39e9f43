// The dumps in the bucket: listed page by page, described from their summaries' metadata (HEAD, no body),
// never by downloading a dump. `latest` and `latest~N` name the newest complete dumps.
import {
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import {
  type Compression,
  DUMP_METADATA,
  isCompression,
  originPrefix,
  type ParsedDumpKey,
  parseDumpKey,
  SUMMARY_METADATA,
  s3HttpStatus,
  summaryKey,
} from '@kube-heapdump/contract';
import { describeStoreError, isForeignAnswer, notS3Endpoint, StoreError, UsageError } from './errors.ts';
import { printable } from './format.ts';
import type { Store } from './store.ts';

export interface DumpFilters {
  namespace?: string;
  app?: string;
  pod?: string;
  /** Only dumps started at or after this time. */
  since?: Date;
}

/**
 * The summary beside a dump: `stored` (its facts below), `missing` (the upload is finishing, or its summary
 * was lost), or `unreadable` (this credential may not read it: on stores where each user owns what it writes,
 * the uploader's objects may not be the reader's).
 */
export type SummaryState = 'stored' | 'missing' | 'unreadable';

export interface SummaryFacts {
  summary: SummaryState;
  /** From the summary; undefined unless it is stored. */
  verdict: string | undefined;
  originalBytes: number | undefined;
  sha256: string | undefined;
}

export interface DumpEntry extends ParsedDumpKey, SummaryFacts {
  storedBytes: number;
}

interface Found {
  parsed: ParsedDumpKey;
  size: number;
}

const SUMMARY_HEADS_AT_ONCE = 8;

/** The filters as the flags that set them: `-n shop --app cart`. */
export function filterFlags(f: DumpFilters): string {
  return [
    f.namespace !== undefined ? `-n ${f.namespace}` : '',
    f.app !== undefined ? `--app ${f.app}` : '',
    f.pod !== undefined ? `--pod ${f.pod}` : '',
    f.since !== undefined ? `--since ${f.since.toISOString()}` : '',
  ]
    .filter(Boolean)
    .map(printable)
    .join(' ');
}

/** What a verdict-less state shows: `no summary`, `unreadable`, or the verdict. */
export function verdictOf(d: SummaryFacts): string {
  return d.summary === 'stored' ? (d.verdict ?? '?') : d.summary === 'missing' ? 'no summary' : 'unreadable';
}

/** No JVM heap comes near 1 PiB (the uploader itself stops at ~1 TiB). */
const LARGEST_POSSIBLE_DUMP = 2 ** 50;

/**
 * A size from metadata, or undefined when no dump can have it (not digits, over LARGEST_POSSIBLE_DUMP), so a
 * forged value is unknown rather than `90949470177292.8 TiB`.
 */
export function possibleSize(text: string): number | undefined {
  if (!/^\d{1,16}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= LARGEST_POSSIBLE_DUMP ? n : undefined;
}

/** What a dump's summary object says in its metadata (HEAD, no body). */
export async function summaryFacts(store: Store, key: string): Promise<SummaryFacts> {
  const none = { verdict: undefined, originalBytes: undefined, sha256: undefined };
  try {
    const head = await store.client.send(
      new HeadObjectCommand({ Bucket: store.bucket, Key: summaryKey(key) }),
    );
    const m = head.Metadata ?? {};
    const size = m[SUMMARY_METADATA.originalSize];
    return {
      summary: 'stored',
      verdict: m[SUMMARY_METADATA.verdict],
      originalBytes: size === undefined ? undefined : possibleSize(size),
      sha256: m[SUMMARY_METADATA.sha256],
    };
  } catch (err) {
    const status = s3HttpStatus(err);
    if (status === 404) return { summary: 'missing', ...none };
    if (status === 403) return { summary: 'unreadable', ...none };
    throw err;
  }
}

/** One listing page; a 200 that is not a ListBucketResult (a web server) is not an S3 endpoint. */
async function listPage(store: Store, prefix: string, token?: string, max?: number) {
  let page: ListObjectsV2CommandOutput;
  try {
    page = await store.client.send(
      new ListObjectsV2Command({
        Bucket: store.bucket,
        Prefix: prefix,
        ContinuationToken: token,
        MaxKeys: max,
      }),
    );
  } catch (err) {
    if (isForeignAnswer(err)) throw notS3Endpoint(store.endpoint, s3HttpStatus(err));
    throw describeStoreError(err, `s3://${store.bucket}/${prefix}`, store.endpoint);
  }
  if (page.Name === undefined && page.MaxKeys === undefined) throw notS3Endpoint(store.endpoint, 200);
  return page;
}

/**
 * HEAD of a dump object. A 404, or an answer without the ETag every object has, is checked with a one-key listing, since a HEAD answer has no body to tell a
 * store's NotFound from a web server's: then "not an S3 endpoint" rather than "no such object".
 */
export async function headDump(store: Store, key: string): Promise<HeadObjectCommandOutput> {
  const what = `s3://${store.bucket}/${printable(key)}`;
  try {
    const head = await store.client.send(new HeadObjectCommand({ Bucket: store.bucket, Key: key }));
    // Every S3 object has an ETag and a date; an answer without them came from something else.
    if (head.ETag === undefined && head.LastModified === undefined) await listPage(store, key, undefined, 1);
    return head;
  } catch (err) {
    if (err instanceof StoreError) throw err;
    if (s3HttpStatus(err) === 404) await listPage(store, key, undefined, 1);
    throw describeStoreError(err, what, store.endpoint);
  }
}

/**
 * How a stored dump is compressed: the object's `compression` metadata (the uploader sets it), else the key's
 * suffix.
 */
export function storedCompression(
  store: Store,
  key: string,
  metadata: Record<string, string> | undefined,
): Compression {
  const declared = metadata?.[DUMP_METADATA.compression];
  if (isCompression(declared)) return declared;
  return (
    parseDumpKey(store.prefix, key)?.compression ??
    (key.endsWith('.gz') ? 'gzip' : key.endsWith('.zst') ? 'zstd' : 'none')
  );
}

function matches(parsed: ParsedDumpKey, f: DumpFilters): boolean {
  return (
    (f.namespace === undefined || parsed.namespace === f.namespace) &&
    (f.app === undefined || parsed.app === f.app) &&
    (f.pod === undefined || parsed.pod === f.pod) &&
    (f.since === undefined || parsed.startedAt >= f.since)
  );
}

/** The dump keys matching the filters, newest first (the narrowest prefix the filters allow is listed). */
async function findDumps(store: Store, filters: DumpFilters): Promise<Found[]> {
  const found: Found[] = [];
  const prefix = originPrefix(store.prefix, filters);
  let token: string | undefined;
  do {
    const page = await listPage(store, prefix, token);
    for (const o of page.Contents ?? []) {
      const parsed = o.Key ? parseDumpKey(store.prefix, o.Key) : undefined;
      if (parsed && matches(parsed, filters)) found.push({ parsed, size: o.Size ?? 0 });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return found.sort(
    (a, b) =>
      b.parsed.startedAt.getTime() - a.parsed.startedAt.getTime() || (a.parsed.key < b.parsed.key ? 1 : -1),
  );
}

/** Describes found dumps from their summaries, a few HEADs at a time, keeping the order. */
async function describeAll(store: Store, found: Found[]): Promise<DumpEntry[]> {
  const entries: DumpEntry[] = new Array(found.length);
  let next = 0;
  const worker = async () => {
    while (next < found.length) {
      const i = next++;
      const f = found[i] as Found;
      entries[i] = { ...f.parsed, storedBytes: f.size, ...(await summaryFacts(store, f.parsed.key)) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(SUMMARY_HEADS_AT_ONCE, found.length) }, worker));
  return entries;
}

/** Dumps matching the filters, newest first; only the newest `limit` are described. */
export async function listDumps(
  store: Store,
  filters: DumpFilters,
  limit = Number.POSITIVE_INFINITY,
): Promise<DumpEntry[]> {
  const found = await findDumps(store, filters);
  return describeAll(store, found.slice(0, limit));
}

/**
 * "No dumps" that names the filter that matched nothing, and what the bucket does hold, so a typo in
 * `--app` is not mistaken for an empty bucket.
 */
export async function nothingMatches(store: Store, filters: DumpFilters): Promise<string> {
  const where = `s3://${store.bucket}/${store.prefix}`;
  const flags = filterFlags(filters);
  if (flags === '') return `no dumps under ${where}`;
  const all = await findDumps(store, {});
  if (all.length === 0) return `no dumps under ${where} (none at all, so none matching ${flags})`;
  const values = (pick: (p: ParsedDumpKey) => string) =>
    [...new Set(all.map((f) => pick(f.parsed)))].sort().slice(0, 10).map(printable).join(', ');
  const hint =
    filters.pod !== undefined
      ? `pods: ${values((p) => p.pod)}`
      : filters.app !== undefined
        ? `apps: ${values((p) => p.app)}`
        : filters.namespace !== undefined
          ? `namespaces: ${values((p) => p.namespace)}`
          : `newest ${all[0]?.parsed.startedAt.toISOString()}`;
  return `no dumps matching ${flags} under ${where} (${all.length} others there; ${hint})`;
}

/** `latest` -> 0, `latest~2` -> 2; anything else is a key. */
export function latestIndex(ref: string): number | undefined {
  if (ref === 'latest') return 0;
  const m = /^latest~(\d+)$/.exec(ref);
  return m ? Number(m[1]) : undefined;
}

export interface Resolved {
  key: string;
  /** What the summary says (known when the key came from `latest`). */
  facts?: SummaryFacts;
  /** Said on stderr: an incomplete dump was chosen, and why. */
  notice?: string;
}

/**
 * A key as given, or `latest` / `latest~N`: the newest (N+1-th newest) complete dump matching the filters.
 * Dumps not known complete (incomplete, invalid, no summary yet) count only with `includeIncomplete`.
 */
export async function resolveKey(
  store: Store,
  ref: string,
  filters: DumpFilters,
  includeIncomplete = false,
): Promise<Resolved> {
  const back = latestIndex(ref);
  if (back === undefined) return { key: ref };
  const found = await findDumps(store, filters);
  if (found.length === 0) throw new UsageError(await nothingMatches(store, filters));
  let seen = 0;
  const skipped: DumpEntry[] = [];
  for (let i = 0; i < found.length; i += SUMMARY_HEADS_AT_ONCE) {
    for (const entry of await describeAll(store, found.slice(i, i + SUMMARY_HEADS_AT_ONCE))) {
      const complete = entry.summary === 'stored' && entry.verdict === 'complete';
      if (!complete && !includeIncomplete) {
        skipped.push(entry);
        continue;
      }
      if (seen++ < back) continue;
      const { key, ...rest } = entry;
      return {
        key,
        facts: rest,
        ...(complete
          ? {}
          : {
              notice: `${printable(key)} is ${verdictOf(entry)}, not a complete dump (--include-incomplete)`,
            }),
      };
    }
  }
  const flags = filterFlags(filters);
  const which = `${flags === '' ? '' : ` matching ${flags}`} under s3://${store.bucket}/${store.prefix}`;
  const newestSkipped = skipped[0];
  if (seen === 0 && newestSkipped) {
    throw new StoreError(
      `no complete dump${which}: the ${skipped.length} there ${skipped.length === 1 ? 'is' : 'are'} not (the newest, ${printable(newestSkipped.key)}, ` +
        `is ${verdictOf(newestSkipped)}); name a key, or pass --include-incomplete`,
    );
  }
  const dumps = `${seen} ${includeIncomplete ? '' : 'complete '}dump${seen === 1 ? '' : 's'}`;
  throw new UsageError(`${ref}: there ${seen === 1 ? 'is' : 'are'} only ${dumps}${which}`);
}
