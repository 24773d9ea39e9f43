// The dumps in the bucket: listed page by page, described from their summaries' metadata (HEAD, no body),
// never by downloading a dump.
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
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
import { UsageError } from './errors.ts';
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

const SUMMARY_HEADS_AT_ONCE = 8;

/** The narrowest key prefix the filters allow (namespace, then app, then pod are path segments). */
function listPrefix(store: Store, f: DumpFilters): string {
  return originPrefix(store.prefix, f);
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
      originalBytes: size ? Number(size) : undefined,
      sha256: m[SUMMARY_METADATA.sha256],
    };
  } catch (err) {
    const status = s3HttpStatus(err);
    if (status === 404) return { summary: 'missing', ...none };
    if (status === 403) return { summary: 'unreadable', ...none };
    throw err;
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

async function describe(store: Store, parsed: ParsedDumpKey, storedBytes: number): Promise<DumpEntry> {
  return { ...parsed, storedBytes, ...(await summaryFacts(store, parsed.key)) };
}

/** Dumps matching the filters, newest first; only the newest `limit` are described. */
export async function listDumps(
  store: Store,
  filters: DumpFilters,
  limit = Number.POSITIVE_INFINITY,
): Promise<DumpEntry[]> {
  const found: { parsed: ParsedDumpKey; size: number }[] = [];
  let token: string | undefined;
  do {
    const page = await store.client.send(
      new ListObjectsV2Command({
        Bucket: store.bucket,
        Prefix: listPrefix(store, filters),
        ContinuationToken: token,
      }),
    );
    for (const o of page.Contents ?? []) {
      const parsed = o.Key ? parseDumpKey(store.prefix, o.Key) : undefined;
      if (!parsed) continue;
      if (filters.namespace !== undefined && parsed.namespace !== filters.namespace) continue;
      if (filters.app !== undefined && parsed.app !== filters.app) continue;
      if (filters.pod !== undefined && parsed.pod !== filters.pod) continue;
      if (filters.since !== undefined && parsed.startedAt < filters.since) continue;
      found.push({ parsed, size: o.Size ?? 0 });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);

  found.sort(
    (a, b) =>
      b.parsed.startedAt.getTime() - a.parsed.startedAt.getTime() || (a.parsed.key < b.parsed.key ? 1 : -1),
  );
  found.splice(limit);
  const entries: DumpEntry[] = new Array(found.length);
  let next = 0;
  const worker = async () => {
    while (next < found.length) {
      const i = next++;
      const f = found[i] as (typeof found)[number];
      entries[i] = await describe(store, f.parsed, f.size);
    }
  };
  await Promise.all(Array.from({ length: Math.min(SUMMARY_HEADS_AT_ONCE, found.length) }, worker));
  return entries;
}

/** A key as given, or `latest`: the newest dump matching the filters. */
export async function resolveKey(store: Store, keyOrLatest: string, filters: DumpFilters): Promise<string> {
  if (keyOrLatest !== 'latest') return keyOrLatest;
  const [newest] = await listDumps(store, filters, 1);
  if (!newest) throw new UsageError(`no dumps under s3://${store.bucket}/${listPrefix(store, filters)}`);
  return newest.key;
}
