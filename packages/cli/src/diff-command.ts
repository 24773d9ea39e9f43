// `heapdump diff <old> <new>`, the shell: each side is a local file (parsed in full) or a stored dump (its
// summary, fetched without the dump); then the comparison as a table or JSON. Retained sizes come from the
// analysis stored beside a dump (`<key>.report.json`), or from analysing the side now (--analyze).
import { existsSync } from 'node:fs';
import type { HeapAnalysis } from '@kube-heapdump/contract';
import { analyzeFile, analyzeHeap, fileSource, HeapWalkError } from '@kube-heapdump/hprof';
import { objectSource } from './analyze.ts';
import { type DumpFilters, resolveKey } from './catalog.ts';
import type { Io } from './cli-flags.ts';
import { optionalStore } from './cli-flags.ts';
import { type ClassChange, type Count, type DiffSide, type DumpDiff, diffDumps } from './diff.ts';
import { DataError, UsageError } from './errors.ts';
import { humanBytes, paint, printable, signed, table, thousands, verdictText } from './format.ts';
import { fetchReport } from './report.ts';
import type { Store, StoreOptions } from './store.ts';
import { fetchSummary } from './stored-summary.ts';
import { malformedNote } from './summary-check.ts';

export interface DiffOptions extends StoreOptions {
  filters: DumpFilters;
  top: number;
  json: boolean;
  includeIncomplete: boolean;
  /** Analyse both sides now (a file is read twice, a key streamed twice) rather than use stored reports. */
  analyze: boolean;
}

/** A side's retained bytes per class from an analysis: in full when made now, top classes when stored. */
function retainedOf(a: HeapAnalysis, full: boolean, from: string): DiffSide['retained'] {
  return { classes: a.retainedByClass, full, heapBytes: a.totals.reachableBytes, from };
}

async function analyseNow(
  open: () => AsyncIterable<Uint8Array>,
  label: string,
): Promise<DiffSide['retained']> {
  try {
    return retainedOf(await analyzeHeap(open, { top: Number.POSITIVE_INFINITY }), true, 'analysed now');
  } catch (err) {
    if (err instanceof HeapWalkError) throw new DataError(`${printable(label)}: ${err.message}`);
    throw err;
  }
}

async function loadSide(
  ref: string,
  options: DiffOptions,
  store: () => Promise<Store | undefined>,
  io: Io,
): Promise<DiffSide> {
  if (existsSync(ref)) {
    const d = await analyzeFile(ref, { top: Number.POSITIVE_INFINITY });
    // A truncated dump or another file would count its missing classes as shrinking (or all as growth).
    if (d.verdict !== 'complete') {
      const what = d.verdict === 'invalid' ? 'is not a heap dump' : 'is an incomplete heap dump';
      throw new DataError(
        `${printable(ref)} ${what}${d.reason ? ` (${printable(d.reason)})` : ''}: nothing to compare`,
      );
    }
    return {
      label: ref,
      verdict: d.verdict,
      timestamp: d.timestamp,
      classes: d.topClasses,
      full: true,
      totals: d.totals,
      ...(options.analyze ? { retained: await analyseNow(await fileSource(ref), ref) } : {}),
    };
  }
  const s = await store();
  if (!s) throw new UsageError(`${printable(ref)}: no such file (and no bucket to look it up in)`);
  const resolved = await resolveKey(s, ref, options.filters, options.includeIncomplete);
  if (resolved.notice) io.err(`heapdump: note: ${resolved.notice}`);
  const { summary, problems, where, otherKind } = await fetchSummary(s, resolved.key);
  if (otherKind !== undefined)
    throw new DataError(
      `${printable(resolved.key)} is a ${otherKind} file, not a heap dump: it has no histogram to diff`,
    );
  if (problems.length > 0) io.err(`heapdump: note: ${malformedNote(where, problems)}`);
  let retained: DiffSide['retained'];
  if (options.analyze) retained = await analyseNow(objectSource(s, resolved.key), resolved.key);
  else {
    const report = await fetchReport(s, resolved.key, true);
    if (report?.status === 'analysed' && report.analysis)
      retained = retainedOf(report.analysis, false, 'stored report');
  }
  return {
    ...(retained ? { retained } : {}),
    label: resolved.key,
    verdict: summary.verdict,
    timestamp: summary.timestamp,
    classes: summary.topClasses,
    full: summary.histogramClasses !== undefined && summary.topClasses.length >= summary.histogramClasses,
    totals: summary.totals,
  };
}

export async function diffCommand(
  before: string,
  after: string,
  options: DiffOptions,
  io: Io,
): Promise<void> {
  let store: Store | undefined;
  let opened = false;
  const lazyStore = async () => {
    if (!opened) {
      opened = true;
      store = await optionalStore(options);
    }
    return store;
  };
  try {
    const old = await loadSide(before, options, lazyStore, io);
    const now = await loadSide(after, options, lazyStore, io);
    const d = diffDumps(old, now);
    io.out(
      options.json
        ? JSON.stringify({ ...d, classes: d.classes.slice(0, options.top) }, null, 2)
        : renderDiff(d, options.top),
    );
  } finally {
    store?.client.destroy();
  }
}

const count = (c: Count | undefined, show: (n: number) => string) =>
  c === undefined ? '?' : show(c.instances);
const bytes = (c: Count | undefined) => (c === undefined ? '?' : humanBytes(c.bytes));

function change(c: ClassChange): [string, string] {
  if (c.delta) {
    const text: [string, string] = [signed(c.delta.instances), signed(c.delta.bytes, humanBytes)];
    return c.delta.bytes > 0 ? [paint(text[0], 'bold'), paint(text[1], 'bold')] : text;
  }
  if (c.bound === undefined) return ['?', '?'];
  const bound = c.bound;
  return [
    '?',
    c.before === undefined ? `>= ${signed(bound, humanBytes)}` : `<= ${signed(bound, humanBytes)}`,
  ];
}

export function renderDiff(d: DumpDiff, top: number): string {
  const side = (what: string, s: DumpDiff['before']) =>
    `${what}  ${printable(s.label)} (${verdictText(s.verdict)}${s.timestamp ? `, written ${s.timestamp}` : ''})`;
  const kept = (n: number | undefined) => (n === undefined ? '?' : humanBytes(n));
  const retainedCells = (r: ClassChange['retained']) =>
    d.retained
      ? [kept(r?.before), kept(r?.after), r?.delta === undefined ? '?' : signed(r.delta, humanBytes)]
      : [];
  const rows = d.classes.slice(0, top).map((c) => {
    const [di, db] = change(c);
    return [
      count(c.before, thousands),
      count(c.after, thousands),
      di,
      bytes(c.before),
      bytes(c.after),
      db,
      ...retainedCells(c.retained),
      printable(c.name),
    ];
  });
  const t = d.totals;
  const r = d.retained;
  const lines = [side('Old', d.before), side('New', d.after), ''];
  if (rows.length === 0) lines.push('No class changed.');
  else
    lines.push(
      table(
        [
          'instances',
          '->',
          'change',
          'bytes',
          '->',
          'change',
          ...(r ? ['retained', '->', 'change'] : []),
          'class',
        ],
        rows,
        new Set(r ? [0, 1, 2, 3, 4, 5, 6, 7, 8] : [0, 1, 2, 3, 4, 5]),
        [
          thousands(t.before.instances),
          thousands(t.after.instances),
          signed(t.delta.instances),
          humanBytes(t.before.bytes),
          humanBytes(t.after.bytes),
          signed(t.delta.bytes, humanBytes),
          ...(r ? [humanBytes(r.before), humanBytes(r.after), signed(r.delta, humanBytes)] : []),
          `total (${thousands(d.classes.length)} classes changed${d.classes.length > top ? `, top ${top} shown` : ''})`,
        ],
      ),
    );
  if (r)
    lines.push(
      '',
      `Retained: bytes only reachable through the class's instances (old: ${r.from.before}, new: ${r.from.after}); ` +
        `the total is the reachable heap. ${r.from.before === 'stored report' || r.from.after === 'stored report' ? 'A stored report lists its top classes only: "?" is a class outside the list; rows sorted by shallow growth.' : 'Rows sorted by retained growth.'}`,
    );
  if (!d.before.full || !d.after.full) {
    lines.push(
      '',
      'From stored summaries, which list only their top classes: "?" is a count outside a list, and a change ' +
        'is then a bound. Compare downloaded files (heapdump get) for every class.',
    );
  }
  return lines.join('\n');
}
