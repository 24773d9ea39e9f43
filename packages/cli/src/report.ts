// Reports the analysis controller stores beside dumps (`<key>.report.json`): fetched for `heapdump report`,
// and their top suspect for `heapdump list`.
import { GetObjectCommand } from '@aws-sdk/client-s3';
import {
  type AnalysisReport,
  humanBytes,
  REPORT_SCHEMA,
  reportKey,
  s3HttpStatus,
} from '@kube-heapdump/contract';
import { renderAnalysis } from './analyze-report.ts';
import { describeStoreError, StoreError } from './errors.ts';
import { printable } from './format.ts';
import type { Store } from './store.ts';

/** The report of the dump at `key`, or undefined when there is none (not analysed, or not yet). */
export async function fetchReport(
  store: Store,
  key: string,
  forbiddenIsNone = false,
): Promise<AnalysisReport | undefined> {
  const where = `s3://${store.bucket}/${printable(reportKey(key))}`;
  let text: string;
  try {
    const res = await store.client.send(new GetObjectCommand({ Bucket: store.bucket, Key: reportKey(key) }));
    text = (await res.Body?.transformToString('utf8')) ?? '';
  } catch (err) {
    const status = s3HttpStatus(err);
    if (status === 404 || (forbiddenIsNone && status === 403)) return undefined;
    throw describeStoreError(err, where, store.endpoint);
  }
  let report: AnalysisReport;
  try {
    report = JSON.parse(text) as AnalysisReport;
  } catch {
    throw new StoreError(`${where} is not JSON`);
  }
  if (report.schema !== REPORT_SCHEMA)
    throw new StoreError(`${where} has schema ${printable(String(report.schema))}, not ${REPORT_SCHEMA}`);
  return report;
}

/** One cell for `heapdump list`: the top suspect, or what the report says instead of one. */
export function suspectCell(report: AnalysisReport | undefined): string {
  if (report === undefined) return '-';
  if (report.status !== 'analysed') return report.status;
  const s = report.analysis?.suspects[0];
  if (!s) return 'no suspect';
  return `${printable(s.className)} ${humanBytes(s.retainedBytes)} (${s.percent.toFixed(0)}%)`;
}

/** The reports of `keys`, a few GETs at a time, in order; none where the credential may not read (list may). */
export async function fetchReports(store: Store, keys: string[]): Promise<(AnalysisReport | undefined)[]> {
  const reports: (AnalysisReport | undefined)[] = new Array(keys.length);
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const i = next++;
      reports[i] = await fetchReport(store, keys[i] as string, true);
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, keys.length) }, worker));
  return reports;
}

/** `heapdump report`: the stored analysis as `heapdump analyze` prints it, or why there is none. */
export function renderReport(key: string, report: AnalysisReport, top: number): string {
  if (report.status === 'analysed' && report.analysis) return renderAnalysis(key, report.analysis, top);
  return `${printable(key)}: ${report.status} (${report.at}): ${printable(report.reason ?? 'no reason given')}`;
}
