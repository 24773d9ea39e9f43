// `heapdump list`: the dumps in the bucket, newest first, as a table or JSON.
import { type DumpEntry, type DumpFilters, listDumps } from './catalog.ts';
import { humanBytes, table } from './format.ts';
import type { Store } from './store.ts';

/** `2026-11-28 07:09:01Z` */
export function shortTime(d: Date): string {
  return d
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}

export async function list(
  store: Store,
  filters: DumpFilters,
  json: boolean,
  out: (s: string) => void,
): Promise<void> {
  const dumps = await listDumps(store, filters);
  if (json) {
    out(JSON.stringify(dumps.map(toJson), null, 2));
    return;
  }
  if (dumps.length === 0) {
    out(`no dumps under s3://${store.bucket}/${store.prefix}`);
    return;
  }
  out(
    table(
      ['time', 'namespace/app/pod', 'size', 'stored', 'verdict', 'key'],
      dumps.map((d) => [
        shortTime(d.startedAt),
        `${d.namespace}/${d.app}/${d.pod}`,
        d.originalBytes === undefined ? '-' : humanBytes(d.originalBytes),
        `${humanBytes(d.storedBytes)}${d.compression === 'none' ? '' : ` ${d.compression}`}`,
        d.summary === 'stored' ? (d.verdict ?? '?') : d.summary === 'missing' ? 'no summary' : 'unreadable',
        d.key,
      ]),
      new Set([2]),
    ),
  );
}

function toJson(d: DumpEntry) {
  return { ...d, startedAt: d.startedAt.toISOString() };
}
