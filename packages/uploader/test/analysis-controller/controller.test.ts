// The controller's decisions (controller.ts) over fake ports: the stubs, the Event, and idempotence across
// repeats and restarts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AnalysisReport, reportKey } from '@kube-heapdump/contract';
import { Event } from 'kubernetes-models/v1/Event';
import pino from 'pino';
import {
  AnalysisController,
  type JobApi,
  type ReportStore,
} from '../../src/analysis-controller/controller.ts';
import type { AnalyzedEvent } from '../../src/analysis-controller/events.ts';
import { type AnalysisJob, analysisJobName } from '../../src/analysis-controller/job-spec.ts';
import type { JobStatus } from '../../src/analysis-controller/outcome.ts';
import { GI, KEY, MI, POD, SETTINGS, SIZING } from './fixtures.ts';

function fakes() {
  const jobs = new Map<string, { job: AnalysisJob; status: JobStatus }>();
  const objects = new Map<string, unknown>();
  const events: AnalyzedEvent[] = [];
  const api: JobApi = {
    async postEvent(event) {
      events.push(event);
    },
    async createJob(job) {
      if (jobs.has(job.metadata.name)) return 'exists';
      jobs.set(job.metadata.name, { job, status: {} });
      return 'created';
    },
    async jobStatus(_ns, name) {
      return jobs.get(name)?.status;
    },
  };
  const store: ReportStore = {
    async exists(key) {
      return objects.has(key);
    },
    async getJson(key) {
      return objects.get(key);
    },
    async putJson(key, value) {
      objects.set(key, value);
    },
  };
  return { jobs, objects, events, api, store };
}

function controller(f: ReturnType<typeof fakes>, now = new Date('2026-12-07T12:00:00Z')) {
  return new AnalysisController({
    settings: { jobs: SETTINGS, sizing: SIZING },
    api: f.api,
    store: f.store,
    log: pino({ level: 'silent' }),
    now: () => now,
  });
}

const DUMP = { bucket: 'dumps', key: KEY, namespace: 'shop', pod: { name: POD.name, uid: 'u-1' } };
const summary = (objects: number, bytes: number) => ({ bytes, totals: { objects } });

describe('the controller', () => {
  it('one Job per dump when the Event repeats and when the controller restarts', async () => {
    const f = fakes();
    f.objects.set(`${KEY}.summary.json`, summary(1_000_000, GI));
    const first = controller(f);
    await first.handle(DUMP);
    await first.handle(DUMP);
    const restarted = controller(f);
    await restarted.handle(DUMP);
    assert.equal(f.jobs.size, 1);
    assert.ok(
      restarted.following.has(analysisJobName(KEY)),
      'the restarted controller follows the Job it found',
    );
  });

  it('a dump with a report gets no Job', async () => {
    const f = fakes();
    f.objects.set(`${KEY}.summary.json`, summary(1_000_000, GI));
    f.objects.set(reportKey(KEY), { status: 'analysed' });
    await controller(f).handle(DUMP);
    assert.equal(f.jobs.size, 0);
  });

  it('a dump needing more than maxMemory gets a too-large stub and no Job', async () => {
    const f = fakes();
    f.objects.set(`${KEY}.summary.json`, summary(400_000_000, 60 * GI));
    await controller(f).handle(DUMP);
    assert.equal(f.jobs.size, 0);
    const r = f.objects.get(reportKey(KEY)) as AnalysisReport;
    assert.equal(r.status, 'too-large');
    assert.equal(r.maxMemoryBytes, 16 * GI);
    assert.match(r.reason ?? '', /more than maxMemory 16\.0 GiB/);
  });

  it('a Job failed after its retries leaves a failure stub with the reason; a finished one is let go', async () => {
    const f = fakes();
    f.objects.set(`${KEY}.summary.json`, summary(1_000_000, GI));
    const c = controller(f);
    await c.handle(DUMP);
    await c.poll();
    assert.equal(f.objects.has(reportKey(KEY)), false, 'no stub while the Job runs');
    const entry = f.jobs.get(analysisJobName(KEY));
    assert.ok(entry);
    entry.status = {
      failed: 3,
      conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }],
    };
    await c.poll();
    const r = f.objects.get(reportKey(KEY)) as AnalysisReport;
    assert.equal(r.status, 'failed');
    assert.match(r.reason ?? '', /BackoffLimitExceeded \(3 failed attempts\)/);
    assert.equal(c.following.size, 0);
    assert.equal(f.events.length, 1);
    assert.equal(f.events[0]?.type, 'Warning');
    assert.match(f.events[0]?.message ?? '', /not analysed \(failed\)/);
  });

  it('a Job that completed: HeapDumpAnalyzed on the pod with the top suspect (a valid Event)', async () => {
    const f = fakes();
    f.objects.set(`${KEY}.summary.json`, summary(1_000_000, GI));
    const c = controller(f);
    await c.handle(DUMP);
    const entry = f.jobs.get(analysisJobName(KEY));
    assert.ok(entry);
    entry.status = { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] };
    const object = { id: '1', className: 'com.shop.Cart', shallowBytes: 16, retainedBytes: 300 * MI };
    f.objects.set(reportKey(KEY), {
      status: 'analysed',
      analysis: {
        suspects: [{ className: 'com.shop.Cart', retainedBytes: 300 * MI, percent: 61.2, object }],
      },
    });
    await c.poll();
    assert.equal(f.events.length, 1);
    const e = f.events[0];
    assert.ok(e);
    new Event(e as ConstructorParameters<typeof Event>[0]).validate();
    assert.equal(e.reason, 'HeapDumpAnalyzed');
    assert.equal(e.type, 'Normal');
    assert.deepEqual(e.involvedObject, {
      apiVersion: 'v1',
      kind: 'Pod',
      name: POD.name,
      namespace: 'shop',
      uid: 'u-1',
    });
    assert.match(e.message, /top suspect com\.shop\.Cart retains 300\.0 MiB \(61% of the heap\)/);
    assert.match(e.message, new RegExp(`heapdump report ${KEY.replace(/\./g, '\\.')}`));
  });

  it('a dump without a summary gets a failure stub saying so', async () => {
    const f = fakes();
    await controller(f).handle(DUMP);
    assert.equal(f.jobs.size, 0);
    assert.match((f.objects.get(reportKey(KEY)) as AnalysisReport).reason ?? '', /no summary/);
  });
});
