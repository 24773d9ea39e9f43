// `heapdump summary`: the summary the uploader stored beside a dump (verdict, provenance, timings, top
// classes), without downloading the dump.
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { STORED_FILE_SUMMARY_SCHEMA, type StoredDumpSummary, summaryKey } from '@kube-heapdump/contract';
import { DataError, describeStoreError } from './errors.ts';
import { humanBytes, printable } from './format.ts';
import { render } from './inspect.ts';
import type { Store } from './store.ts';
import { type CheckedSummary, checkStoredSummary, SUMMARY_MAX_BYTES } from './summary-check.ts';

export interface FetchedSummary extends CheckedSummary {
  /** The object as stored (what `summary --json` prints). */
  text: string;
  /** `s3://bucket/key.summary.json`, for messages. */
  where: string;
  /** The summary of a file that is not a heap dump (`hs-err`, `jfr`): only `dump` and `timings` are there. */
  otherKind?: string;
}

/**
 * The summary beside `key`: at most SUMMARY_MAX_BYTES read, its fields checked (checkStoredSummary). Not JSON,
 * or too large: one line, exit 1. Malformed fields are in `problems`; the caller says so and goes on.
 */
export async function fetchSummary(store: Store, key: string): Promise<FetchedSummary> {
  const k = summaryKey(key);
  const where = `s3://${store.bucket}/${printable(k)}`;
  let text: string;
  try {
    const res = await store.client.send(new GetObjectCommand({ Bucket: store.bucket, Key: k }));
    text = await readAtMost(res.Body as AsyncIterable<Uint8Array> & { destroy?: () => void }, where);
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw describeStoreError(err, `s3://${store.bucket}/${k}`, store.endpoint);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new DataError(`${where} is malformed: not JSON (${printable((err as Error).message)})`);
  }
  const checked = checkStoredSummary(value);
  const schema = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  if (schema.storedSchema !== STORED_FILE_SUMMARY_SCHEMA) return { ...checked, text, where };
  // No HPROF fields to miss: only what a file summary has is checked.
  const problems = checked.problems.filter((p) => /^(dump|timings)\b/.test(p));
  const kind = typeof schema.kind === 'string' ? printable(schema.kind) : '?';
  return { ...checked, problems, text, where, otherKind: kind };
}

async function readAtMost(
  body: (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined,
  where: string,
): Promise<string> {
  if (!body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > SUMMARY_MAX_BYTES) {
      body.destroy?.();
      throw new DataError(
        `${where} is larger than a summary can be (${humanBytes(SUMMARY_MAX_BYTES)}): not read`,
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Where and when the file went: the lines every kind's summary has. */
function renderStored(s: Pick<StoredDumpSummary, 'dump' | 'timings'>): string[] {
  const d = s.dump;
  const t = s.timings;
  return [
    `Key       ${printable(d.key)}`,
    `Pod       ${printable(`${d.namespace}/${d.pod} (app ${d.app}, node ${d.node})`)}`,
    `Stored    ${humanBytes(d.storedBytes)} ${printable(d.compression)} of ${humanBytes(d.originalBytes)}, sha256 ${printable(d.sha256)}`,
    `Timings   dump ${seconds(t.dumpSeconds)} s (from ${printable(t.firstByteSeen)}), durable ${seconds(t.uploadAfterDumpSeconds)} s after it`,
  ];
}

/** A crash log's or Flight Recorder file's summary: its kind, where and when; no HPROF summary. */
export function renderFileSummary(s: Pick<StoredDumpSummary, 'dump' | 'timings'>, kind: string): string {
  return [
    ...renderStored(s),
    `Kind      ${kind}: not a heap dump, no verdict; heapdump get writes ${printable(s.dump.file)} as it was`,
  ].join('\n');
}

export function renderStoredSummary(s: StoredDumpSummary, top: number): string {
  const d = s.dump;
  const head = renderStored(s);
  const inspected = render(d.file, { ...s, compression: d.compression, storedBytes: d.storedBytes }, top);
  return [...head, inspected].join('\n');
}

const seconds = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '?');
