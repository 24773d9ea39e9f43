// `heapdump summary`: the summary the uploader stored beside a dump (verdict, provenance, timings, top
// classes), without downloading the dump.
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { type StoredDumpSummary, summaryKey } from '@kube-heapdump/contract';
import { describeStoreError, StoreError } from './errors.ts';
import { humanBytes, printable } from './format.ts';
import { render } from './inspect.ts';
import type { Store } from './store.ts';

export async function fetchSummary(store: Store, key: string): Promise<StoredDumpSummary> {
  const k = summaryKey(key);
  let text: string;
  try {
    const res = await store.client.send(new GetObjectCommand({ Bucket: store.bucket, Key: k }));
    text = (await res.Body?.transformToString()) ?? '';
  } catch (err) {
    throw describeStoreError(err, `s3://${store.bucket}/${k}`, store.endpoint);
  }
  try {
    return JSON.parse(text) as StoredDumpSummary;
  } catch {
    throw new StoreError(`s3://${store.bucket}/${k} is not a summary (not JSON)`);
  }
}

export function renderStoredSummary(s: StoredDumpSummary, top: number): string {
  const d = s.dump;
  const t = s.timings;
  const head = [
    `Key       ${printable(d.key)}`,
    `Pod       ${printable(`${d.namespace}/${d.pod} (app ${d.app}, node ${d.node})`)}`,
    `Stored    ${humanBytes(d.storedBytes)} ${d.compression} of ${humanBytes(d.originalBytes)}, sha256 ${d.sha256}`,
    `Timings   dump ${t.dumpSeconds.toFixed(1)} s (from ${t.firstByteSeen}), durable ${t.uploadAfterDumpSeconds.toFixed(1)} s after it`,
  ];
  const inspected = render(d.file, { ...s, compression: d.compression, storedBytes: d.storedBytes }, top);
  return [...head, inspected].join('\n');
}
