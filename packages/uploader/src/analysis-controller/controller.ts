// The controller's decisions for each stored dump, over two small ports (the API server, the store) so tests
// drive it with fakes: a dump with a report already is done; one that fits gets its Job (AlreadyExists means a
// previous run made it: it is followed like a new one); one that does not fit gets a too-large stub. Followed
// Jobs are polled; one that failed after its retries leaves a failure stub with the reason.
import { type AnalysisReport, reportKey, type StoredDumpSummary, summaryKey } from '@kube-heapdump/contract';
import type { Logger } from '../log.ts';
import { type AnalyzedEvent, analyzedEvent, type StoredDump } from './events.ts';
import { analysisJob, analysisJobName, type JobSettings } from './job-spec.ts';
import { type JobStatus, jobOutcome, reportStub, tooLargeStub } from './outcome.ts';
import { type SizingSettings, sizeAnalysis } from './sizing.ts';

export interface JobApi {
  /** `exists` when a Job of that name is there already (409 AlreadyExists). */
  createJob(job: ReturnType<typeof analysisJob>): Promise<'created' | 'exists'>;
  /** undefined when there is no such Job (never made, or its TTL removed it). */
  jobStatus(namespace: string, name: string): Promise<JobStatus | undefined>;
  postEvent(event: AnalyzedEvent): Promise<void>;
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
        continue;
      }
      log.info({ key: dump.key, job: name, gone: outcome === undefined }, 'analysis job finished');
      const report = (await this.o.store.getJson(reportKey(dump.key))) as AnalysisReport | undefined;
      if (report) await this.announce(dump, report);
    }
  }

  private async stub(dump: StoredDump, report: AnalysisReport): Promise<void> {
    await this.o.store.putJson(reportKey(dump.key), report);
    this.o.log.warn({ key: dump.key, status: report.status, reason: report.reason }, 'report stub stored');
    await this.announce(dump, report);
  }

  /** HeapDumpAnalyzed on the dump's pod; a refusal is logged, never retried (the report is what counts). */
  private async announce(dump: StoredDump, report: AnalysisReport): Promise<void> {
    if (!dump.pod) return;
    const event = analyzedEvent({ ...dump, pod: dump.pod }, report, this.o.now());
    await this.o.api.postEvent(event).then(
      () => this.o.log.info({ key: dump.key, status: report.status }, 'analyzed event posted'),
      (err: Error) => this.o.log.warn({ key: dump.key, error: err.message }, 'analyzed event not posted'),
    );
  }
}
