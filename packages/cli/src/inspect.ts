// `heapdump inspect <file|key>`: verdict, header facts, totals and the top classes of a heap dump.
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { type AnalyzedDump, type ArrayStats, analyzeFile, analyzeStream } from '@kube-heapdump/hprof';
import { storedCompression } from './catalog.ts';
import { describeStoreError, UsageError } from './errors.ts';
import { humanBytes, printable, table, thousands, verdictText } from './format.ts';
import type { Store } from './store.ts';

export interface InspectOptions {
  top: number;
  json: boolean;
  /** Add how shallow sizes are counted. */
  explain: boolean;
}

/**
 * Inspects a local file, or, when no such file exists and a bucket is configured, the object with that key,
 * streamed (never saved). Exit status: 0 for a complete dump, 1 for an incomplete or invalid one (its summary
 * is still printed).
 */
export async function inspect(
  target: string,
  options: InspectOptions,
  out: (s: string) => void,
  store: () => Promise<Store | undefined>,
): Promise<number> {
  let dump: AnalyzedDump;
  if (existsSync(target)) {
    try {
      dump = await analyzeFile(target, { top: options.top });
    } catch (err) {
      throw new UsageError(
        `cannot read ${printable(target)}: ${describeFileError(err as NodeJS.ErrnoException)}`,
      );
    }
  } else {
    const s = await store();
    if (!s) throw new UsageError(`cannot read ${printable(target)}: no such file`);
    dump = await inspectObject(s, target, options.top);
  }
  if (options.json) out(JSON.stringify(dump, null, 2));
  else out(render(target, dump) + (options.explain ? `\n\nSizes: ${dump.sizeConvention}` : ''));
  return dump.verdict === 'complete' ? 0 : 1;
}

async function inspectObject(store: Store, key: string, top: number): Promise<AnalyzedDump> {
  const what = `s3://${store.bucket}/${printable(key)}`;
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  try {
    const res = await store.client.send(new GetObjectCommand({ Bucket: store.bucket, Key: key }));
    return await analyzeStream(res.Body as Readable, storedCompression(store, key, res.Metadata), { top });
  } catch (err) {
    throw describeStoreError(err, what, store.endpoint);
  }
}

function describeFileError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
      return 'permission denied (the JVM writes dumps with mode 0600, readable by its user only)';
    case 'EISDIR':
      return 'it is a directory';
    default:
      return err.message;
  }
}

/** Identical largest arrays (same type and length) as one row with their count, largest first. */
export function groupArrays(arrays: readonly ArrayStats[]): { array: ArrayStats; count: number }[] {
  const groups = new Map<string, { array: ArrayStats; count: number }>();
  for (const a of arrays) {
    const id = `${a.className}\u0000${a.length}\u0000${a.bytes}`;
    const g = groups.get(id);
    if (g) g.count++;
    else groups.set(id, { array: a, count: 1 });
  }
  return [...groups.values()].sort((x, y) => y.array.bytes - x.array.bytes);
}

/**
 * The dump as a developer reads it: verdict, header facts, totals, the `top` classes with a total row, and the
 * largest arrays (grouped, at most `top` rows). The size convention is under --help / --explain.
 */
export function render(name: string, d: AnalyzedDump, top = d.topClasses.length): string {
  const stored = d.compression === 'none' ? 'raw' : `${d.compression}, ${humanBytes(d.bytes)} uncompressed`;
  const lines = [
    `File      ${printable(name)} (${humanBytes(d.storedBytes)}, ${stored})`,
    `Verdict   ${verdictText(d.verdict)}${d.reason ? `: ${printable(d.reason)}` : ''}`,
  ];
  if (d.format) {
    lines.push(`Format    ${printable(d.format)}, ${d.idSize}-byte identifiers, written ${d.timestamp}`);
  }
  const t = d.totals;
  // NaN: a stored summary's totals were malformed; its classes are still shown.
  if (t.objects > 0 || Number.isNaN(t.objects)) {
    const shown = d.topClasses.slice(0, top);
    const rest = t.classes > shown.length ? ` (top ${shown.length} of the classes shown)` : '';
    lines.push(
      `Objects   ${thousands(t.objects)} (${thousands(t.instances)} instances, ${thousands(t.objectArrays)} object arrays, ${thousands(t.primitiveArrays)} primitive arrays) of ${thousands(t.classes)} classes`,
      `Shallow   ${humanBytes(t.shallowBytes)}`,
      `Roots     ${thousands(t.gcRoots)} GC roots, ${thousands(t.threads)} threads`,
      ...(d.capped
        ? [
            `Capped    ${thousands(d.capped.untrackedObjects)} objects of classes past the ${thousands(d.capped.maxClasses)} tracked are in the totals only; ${thousands(d.capped.namesDropped)} names not kept`,
          ]
        : []),
      '',
      table(
        ['#', 'instances', 'bytes', 'class'],
        shown.map((c, i) => [String(i + 1), thousands(c.instances), humanBytes(c.bytes), printable(c.name)]),
        new Set([0, 1, 2]),
        [
          'total',
          thousands(t.objects),
          humanBytes(t.shallowBytes),
          `all ${thousands(t.classes)} classes${rest}`,
        ],
      ),
    );
    const arrays = groupArrays(d.largestArrays).slice(0, top);
    if (arrays.length > 0) {
      lines.push(
        '',
        'Largest arrays',
        table(
          ['arrays', 'length', 'bytes each', 'type'],
          arrays.map((g) => [
            thousands(g.count),
            thousands(g.array.length),
            humanBytes(g.array.bytes),
            printable(g.array.className),
          ]),
          new Set([0, 1, 2]),
        ),
      );
    }
  }
  return lines.join('\n');
}
