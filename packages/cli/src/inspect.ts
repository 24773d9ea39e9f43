// `heapdump inspect <file>`: verdict, header facts, totals and the top classes of a heap dump.
import { type AnalyzedDump, analyzeFile } from '@kube-heapdump/hprof';
import { UsageError } from './errors.ts';
import { humanBytes, table, thousands } from './format.ts';

export interface InspectOptions {
  top: number;
  json: boolean;
}

/** Exit status: 0 for a complete dump, 1 for an incomplete or invalid one (its summary is still printed). */
export async function inspect(
  path: string,
  options: InspectOptions,
  out: (s: string) => void,
): Promise<number> {
  let dump: AnalyzedDump;
  try {
    dump = await analyzeFile(path, { top: options.top });
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${describeFileError(err as NodeJS.ErrnoException)}`);
  }
  out(options.json ? JSON.stringify(dump, null, 2) : render(path, dump));
  return dump.verdict === 'complete' ? 0 : 1;
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

export function render(name: string, d: AnalyzedDump): string {
  const stored = d.compression === 'none' ? 'raw' : `${d.compression}, ${humanBytes(d.bytes)} uncompressed`;
  const lines = [
    `File      ${name} (${humanBytes(d.storedBytes)}, ${stored})`,
    `Verdict   ${d.verdict}${d.reason ? `: ${d.reason}` : ''}`,
  ];
  if (d.format) {
    lines.push(`Format    ${d.format}, ${d.idSize}-byte identifiers, written ${d.timestamp}`);
  }
  const t = d.totals;
  if (t.objects > 0) {
    lines.push(
      `Objects   ${thousands(t.objects)} (${thousands(t.instances)} instances, ${thousands(t.objectArrays)} object arrays, ${thousands(t.primitiveArrays)} primitive arrays) of ${thousands(t.classes)} classes`,
      `Shallow   ${humanBytes(t.shallowBytes)}`,
      `Roots     ${thousands(t.gcRoots)} GC roots, ${thousands(t.threads)} threads`,
      '',
      table(
        ['#', 'instances', 'bytes', 'class'],
        d.topClasses.map((c, i) => [String(i + 1), thousands(c.instances), humanBytes(c.bytes), c.name]),
        new Set([0, 1, 2]),
      ),
    );
    if (d.largestArrays.length > 0) {
      lines.push(
        '',
        'Largest arrays',
        table(
          ['length', 'bytes', 'type'],
          d.largestArrays.map((a) => [thousands(a.length), humanBytes(a.bytes), a.className]),
          new Set([0, 1]),
        ),
      );
    }
    lines.push('', `Sizes: ${d.sizeConvention}`);
  }
  return lines.join('\n');
}
