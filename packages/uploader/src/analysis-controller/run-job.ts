// `heapdump-uploader analysis-job`: the analysis of one stored dump, streamed from the store (one GET per
// pass, decompressed on the fly, nothing on disk), stored as `<key>.report.json`. A dump the analysis cannot
// read, or one that needs more memory than the Job has, gets a stub saying so and the Job succeeds (retrying
// cannot change either); anything else (the store unreachable) fails the Job, which Kubernetes retries.
import type { Readable } from 'node:stream';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import {
  ANALYSIS_ENV,
  type AnalysisReport,
  parseDumpKey,
  REPORT_SCHEMA,
  reportKey,
  type StoreSettings,
} from '@kube-heapdump/contract';
import { AnalysisMemoryError, analyzeHeap, decompressed, HeapWalkError } from '@kube-heapdump/hprof';
import type { Logger } from '../log.ts';
import { createS3Client } from '../s3.ts';
import { reportStub, tooLargeStub } from './outcome.ts';
import { S3Reports } from './s3-reports.ts';
import { AnalysisEnvError } from './settings.ts';

export interface JobConfig {
  store: StoreSettings;
  key: string;
  memoryLimit: number;
}

export function parseJobEnv(
  env: Readonly<Record<string, string | undefined>>,
  store: StoreSettings,
): JobConfig {
  const key = env[ANALYSIS_ENV.key]?.trim();
  if (!key) throw new AnalysisEnvError(`${ANALYSIS_ENV.key} is required: the dump to analyse`);
  const text = env[ANALYSIS_ENV.memoryLimit]?.trim() ?? '';
  const memoryLimit = Number(text);
  if (!/^\d+$/.test(text) || memoryLimit <= 0)
    throw new AnalysisEnvError(`${ANALYSIS_ENV.memoryLimit} "${text}" must be a byte count`);
  return { store, key, memoryLimit };
}

export async function runJob(cfg: JobConfig, log: Logger): Promise<void> {
  const { store, key } = cfg;
  const s3 = createS3Client(
    {
      region: store.region,
      endpoint: store.endpoint,
      forcePathStyle: store.forcePathStyle,
      maxSockets: 2,
      idleTimeoutMs: 120_000,
    },
    log,
  );
  const compression = parseDumpKey(store.prefix, key)?.compression ?? 'none';
  const open = () =>
    (async function* () {
      const res = await s3.send(new GetObjectCommand({ Bucket: store.bucket, Key: key }));
      yield* decompressed(res.Body as Readable, compression);
    })();
  const dump = { bucket: store.bucket, key };
  const started = Date.now();
  log.info({ key, memoryLimit: cfg.memoryLimit, compression }, 'analysis starting');
  let report: AnalysisReport;
  try {
    const analysis = await analyzeHeap(open, {
      maxMemoryBytes: cfg.memoryLimit,
      progress: (phase, bytesRead) => log.debug({ phase, bytesRead }, 'analysis progress'),
    });
    report = { schema: REPORT_SCHEMA, status: 'analysed', dump, at: new Date().toISOString(), analysis };
  } catch (err) {
    if (err instanceof AnalysisMemoryError)
      report = tooLargeStub(dump, err.neededBytes, cfg.memoryLimit, new Date());
    else if (err instanceof HeapWalkError) report = reportStub(dump, 'failed', err.message, new Date());
    else throw err;
  }
  try {
    await new S3Reports(s3, store.bucket).putJson(reportKey(key), report);
  } finally {
    s3.destroy();
  }
  log.info(
    {
      key,
      report: reportKey(key),
      status: report.status,
      reason: report.reason,
      suspects: report.analysis?.suspects.length,
      seconds: (Date.now() - started) / 1000,
    },
    'report stored',
  );
}
