// `heapdump inspect <file|key>`: verdict, header facts, totals and the top classes of a heap dump.
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { type AnalyzedDump, analyzeFile, analyzeStream } from '@kube-heapdump/hprof';
import { storedCompression } from './catalog.ts';
import { describeStoreError, UsageError } from './errors.ts';
import { humanBytes, table, thousands } from './format.ts';
import type { Store } from './store.ts';

export interface InspectOptions {
  top: number;
  json: boolean;
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
      throw new UsageError(`cannot read ${target}: ${describeFileError(err as NodeJS.ErrnoException)}`);
    }
  } else {
    const s = await store();
    if (!s) throw new UsageError(`cannot read ${target}: no such file`);
    dump = await inspectObject(s, target, options.top);
  }
  out(options.json ? JSON.stringify(dump, null, 2) : render(target, dump));
  return dump.verdict === 'complete' ? 0 : 1;
}

async function inspectObject(store: Store, key: string, top: number): Promise<AnalyzedDump> {
  const what = `s3://${store.bucket}/${key}`;
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
      ...(d.capped
        ? [
            `Capped    ${thousands(d.capped.untrackedObjects)} objects of classes past the ${thousands(d.capped.maxClasses)} tracked are in the totals only; ${thousands(d.capped.namesDropped)} names not kept`,
          ]
        : []),
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
