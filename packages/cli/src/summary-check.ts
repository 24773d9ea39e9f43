// A stored summary as data from the bucket, not trusted: every field the CLI reads is checked for its type;
// a malformed one is named (`dump.key is not a string`) and replaced by a placeholder the output shows as
// unknown, so the rest of the summary is still shown. Pure.
import type { ArrayStats, ClassStats, StoredDumpSummary } from '@kube-heapdump/contract';

/** The most bytes of a summary object read: the uploader's (200 classes, 10 arrays) are a few tens of KiB. */
export const SUMMARY_MAX_BYTES = 4 * 1024 * 1024;

export interface CheckedSummary {
  summary: StoredDumpSummary;
  /** What was malformed, by field path; empty when all is well. */
  problems: string[];
}

type Rec = Record<string, unknown>;
const isRecord = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

export function checkStoredSummary(value: unknown): CheckedSummary {
  const problems: string[] = [];
  // Stand-ins for objects that were not: their fields are not named again, one by one.
  const absent = new WeakSet<Rec>();
  const obj = (v: unknown, path: string): Rec => {
    if (isRecord(v)) return v;
    problems.push(`${path || 'the summary'} is not an object`);
    const none = {};
    absent.add(none);
    return none;
  };
  const num = (o: Rec, k: string, path: string): number => {
    const v = o[k];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
    if (!absent.has(o)) problems.push(`${path}${k} is not a number`);
    return Number.NaN;
  };
  const str = (o: Rec, k: string, path: string): string => {
    if (typeof o[k] === 'string') return o[k];
    if (!absent.has(o)) problems.push(`${path}${k} is not a string`);
    return '?';
  };
  const list = <T>(o: Rec, k: string, item: (v: Rec, path: string) => T): T[] => {
    const v = o[k];
    if (!Array.isArray(v)) {
      if (!absent.has(o)) problems.push(`${k} is not a list`);
      return [];
    }
    return v.map((e, i) => item(obj(e, `${k}[${i}]`), `${k}[${i}].`));
  };
  const root = obj(value, '');
  const dump = obj(root.dump, 'dump');
  const timings = obj(root.timings, 'timings');
  const totals = obj(root.totals, 'totals');
  const integrity = obj(dump.integrity, 'dump.integrity');
  const at = (o: Rec, p: string) => ({
    num: (k: string) => num(o, k, p),
    str: (k: string) => str(o, k, p),
  });
  const d = at(dump, 'dump.');
  const t = at(timings, 'timings.');
  const n = at(totals, 'totals.');
  const summary = {
    ...root,
    verdict: at(root, '').str('verdict'),
    ...(typeof root.reason === 'string' ? { reason: root.reason } : {}),
    totals: {
      objects: n.num('objects'),
      instances: n.num('instances'),
      objectArrays: n.num('objectArrays'),
      primitiveArrays: n.num('primitiveArrays'),
      classes: n.num('classes'),
      shallowBytes: n.num('shallowBytes'),
      gcRoots: n.num('gcRoots'),
      threads: n.num('threads'),
      stackTraces: n.num('stackTraces'),
    },
    topClasses: list(
      root,
      'topClasses',
      (c, p): ClassStats => ({
        name: str(c, 'name', p),
        instances: num(c, 'instances', p),
        bytes: num(c, 'bytes', p),
      }),
    ),
    largestArrays: list(
      root,
      'largestArrays',
      (a, p): ArrayStats => ({
        className: str(a, 'className', p),
        length: num(a, 'length', p),
        bytes: num(a, 'bytes', p),
      }),
    ),
    ...(typeof root.histogramClasses === 'number' ? { histogramClasses: root.histogramClasses } : {}),
    sizeConvention: typeof root.sizeConvention === 'string' ? root.sizeConvention : '',
    dump: {
      ...dump,
      bucket: d.str('bucket'),
      key: d.str('key'),
      file: d.str('file'),
      originalBytes: d.num('originalBytes'),
      storedBytes: d.num('storedBytes'),
      compression: d.str('compression'),
      sha256: d.str('sha256'),
      pod: d.str('pod'),
      namespace: d.str('namespace'),
      node: d.str('node'),
      app: d.str('app'),
      integrity,
    },
    timings: {
      ...timings,
      firstByteSeen: t.str('firstByteSeen'),
      dumpSeconds: t.num('dumpSeconds'),
      uploadAfterDumpSeconds: t.num('uploadAfterDumpSeconds'),
    },
  } as unknown as StoredDumpSummary; // the fields read are checked; the rest pass as stored
  if (root.capped === undefined) delete (summary as { capped?: unknown }).capped;
  else {
    const c = obj(root.capped, 'capped');
    summary.capped = {
      ...c,
      untrackedObjects: num(c, 'untrackedObjects', 'capped.'),
      maxClasses: num(c, 'maxClasses', 'capped.'),
      namesDropped: num(c, 'namesDropped', 'capped.'),
    } as NonNullable<StoredDumpSummary['capped']>;
  }
  return { summary, problems };
}

/** One line naming what was malformed (the first few). */
export function malformedNote(where: string, problems: readonly string[]): string {
  const shown = problems.slice(0, 3).join(', ');
  const more = problems.length > 3 ? ` and ${problems.length - 3} more` : '';
  return `${where} is malformed: ${shown}${more}; shown without ${problems.length === 1 ? 'it' : 'them'}`;
}
