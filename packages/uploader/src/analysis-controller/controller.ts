// The controller's decisions for each stored dump, over two small ports (the API server, the store) so tests
// drive it with fakes: a dump with a report already is done; one that fits gets its Job (AlreadyExists means a
// previous run made it: it is followed like a new one); one that does not fit gets a too-large stub. Followed
// Jobs are polled; one that failed after its retries leaves a failure stub with the reason.
import { type AnalysisReport, reportKey, type StoredDumpSummary, summaryKey } from '@kube-heapdump/contract';
import type { Logger } from '../log.ts';
import type { StoredDump } from './events.ts';
import { analysisJob, analysisJobName, type JobSettings } from './job-spec.ts';
import { type JobStatus, jobOutcome, reportStub, tooLargeStub } from './outcome.ts';
import { type SizingSettings, sizeAnalysis } from './sizing.ts';

export interface JobApi {
  /** `exists` when a Job of that name is there already (409 AlreadyExists). */
  createJob(job: ReturnType<typeof analysisJob>): Promise<'created' | 'exists'>;
  /** undefined when there is no such Job (never made, or its TTL removed it). */
  jobStatus(namespace: string, name: string): Promise<JobStatus | undefined>;
}

export interface ReportStore {
  exists(key: string): Promise<boolean>;
  /** undefined when there is no such object. */
  getJson(key: string): Promise<unknown>;
  putJson(key: string, value: AnalysisReport): Promise<void>;
}

export interface ControllerSettings {
  jobs: JobSettings;
  sizing: SizingSettings;
}

export class AnalysisController {
  /** Jobs being followed, by name: the dump each analyses. */
  readonly following = new Map<string, StoredDump>();
  private readonly o: {
    settings: ControllerSettings;
    api: JobApi;
    store: ReportStore;
    log: Logger;
    now: () => Date;
  };

  constructor(o: AnalysisController['o']) {
    this.o = o;
  }

  /** Acts on one stored dump (idempotent: Events repeat, the controller restarts). */
  async handle(dump: StoredDump): Promise<void> {
    const { settings, api, store, log } = this.o;
    const name = analysisJobName(dump.key);
    if (this.following.has(name)) return;
    if (dump.bucket !== settings.jobs.store.bucket) {
      log.warn({ key: dump.key, bucket: dump.bucket }, 'dump in another bucket: not analysed');
      return;
    }
    if (await store.exists(reportKey(dump.key))) {
      log.debug({ key: dump.key }, 'report exists');
      return;
    }
    const summary = (await store.getJson(summaryKey(dump.key))) as StoredDumpSummary | undefined;
    if (!summary?.totals) {
      await this.stub(
        dump,
        reportStub(dump, 'failed', 'no summary beside the dump: cannot size the analysis', this.o.now()),
      );
      return;
    }
    const size = sizeAnalysis(summary, settings.sizing);
    if (!size.fits) {
      await this.stub(dump, tooLargeStub(dump, size.neededBytes, size.maxMemoryBytes, this.o.now()));
      return;
    }
    const created = await api.createJob(analysisJob(dump.key, size.bytes, settings.jobs));
    this.following.set(name, dump);
    log.info(
      { key: dump.key, job: name, memoryBytes: size.bytes, created: created === 'created' },
      'analysis job',
    );
  }

  /** Polls the followed Jobs once; stops following finished ones. */
  async poll(): Promise<void> {
    const { settings, api, log } = this.o;
    for (const [name, dump] of this.following) {
      const status = await api.jobStatus(settings.jobs.namespace, name);
      const outcome = status === undefined ? undefined : jobOutcome(status);
      if (outcome?.state === 'running') continue;
      this.following.delete(name);
      if (outcome?.state === 'failed') {
        await this.stub(dump, reportStub(dump, 'failed', outcome.reason, this.o.now()));
      } else log.info({ key: dump.key, job: name, gone: outcome === undefined }, 'analysis job finished');
    }
  }

  private async stub(dump: StoredDump, report: AnalysisReport): Promise<void> {
    await this.o.store.putJson(reportKey(dump.key), report);
    this.o.log.warn({ key: dump.key, status: report.status, reason: report.reason }, 'report stub stored');
  }
}
