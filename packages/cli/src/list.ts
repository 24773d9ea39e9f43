// `heapdump list`: the dumps in the bucket, newest first, as a table or JSON.
import { type DumpEntry, type DumpFilters, listDumps, nothingMatches, verdictOf } from './catalog.ts';
import { humanBytes, printable, table, thousands, verdictText } from './format.ts';
import { fetchReports, suspectCell } from './report.ts';
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
  options: { json: boolean; top?: number },
  out: (s: string) => void,
): Promise<void> {
  const dumps = await listDumps(store, filters, options.top);
  if (options.json) {
    out(JSON.stringify(dumps.map(toJson), null, 2));
    return;
  }
  if (dumps.length === 0) {
    out(await nothingMatches(store, filters));
    return;
  }
  // The top suspect, when the analysis in the cluster stored a report for any of them.
  const reports = await fetchReports(
    store,
    dumps.map((d) => d.key),
  );
  const suspects = reports.some(Boolean) ? reports.map(suspectCell) : undefined;
  const sum = (pick: (d: DumpEntry) => number | undefined) => dumps.reduce((n, d) => n + (pick(d) ?? 0), 0);
  // Every dump listed counts: sizes not known (no summary yet, or not a size) make the total a lower bound.
  const unknownSize = dumps.some((d) => d.originalBytes === undefined);
  const verdicts = new Map<string, number>();
  const kinds = new Map<string, number>();
  for (const d of dumps) {
    kinds.set(d.kind, (kinds.get(d.kind) ?? 0) + 1);
    // Crash logs and recordings have no verdict: only heap dumps count in the verdict total.
    if (d.kind === 'heap-dump') verdicts.set(verdictOf(d), (verdicts.get(verdictOf(d)) ?? 0) + 1);
  }
  // The kind column shows only when there is more than heap dumps to tell apart.
  const showKind = dumps.some((d) => d.kind !== 'heap-dump');
  out(
    table(
      [
        'time',
        'namespace/app/pod',
        ...(showKind ? ['kind'] : []),
        'size',
        'stored',
        'verdict',
        ...(suspects ? ['top suspect'] : []),
        'key',
      ],
      dumps.map((d, i) => [
        shortTime(d.startedAt),
        printable(`${d.namespace}/${d.app}/${d.pod}`),
        ...(showKind ? [d.kind] : []),
        d.originalBytes !== undefined ? humanBytes(d.originalBytes) : d.summary === 'stored' ? '?' : '-',
        `${humanBytes(d.storedBytes)}${d.compression === 'none' ? '' : ` ${d.compression}`}`,
        d.kind === 'heap-dump' || d.summary !== 'stored'
          ? verdictText(d.verdict, verdictOf(d))
          : verdictText(undefined, '-'),
        ...(suspects ? [suspects[i] ?? '-'] : []),
        printable(d.key),
      ]),
      new Set([showKind ? 3 : 2]),
      [
        'total',
        counted(dumps.length, showKind ? 'file' : 'dump'),
        ...(showKind ? [[...kinds].map(([kind, n]) => `${thousands(n)} ${kind}`).join(', ')] : []),
        `${unknownSize ? '>= ' : ''}${humanBytes(sum((d) => d.originalBytes))}`,
        humanBytes(sum((d) => d.storedBytes)),
        [...verdicts].map(([verdict, n]) => `${thousands(n)} ${verdict}`).join(', '),
        ...(suspects ? [''] : []),
        '',
      ],
    ),
  );
}

/** `1 dump`, `2 dumps`. */
export function counted(n: number, noun: string): string {
  return `${thousands(n)} ${noun}${n === 1 ? '' : 's'}`;
}

function toJson(d: DumpEntry) {
  return { ...d, startedAt: d.startedAt.toISOString() };
}
