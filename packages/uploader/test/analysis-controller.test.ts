// The analysis controller's decisions as pure functions and over fake ports: which Events, the Job for one
// dump (validated against the Kubernetes schema), its sizing, the stubs, and idempotence across repeats and
// restarts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ANALYSIS_ENV,
  type AnalysisReport,
  EVENT_ANNOTATIONS,
  parseQuantity,
  reportKey,
  UPLOADER_ENV,
} from '@kube-heapdump/contract';
import { estimateMemory } from '@kube-heapdump/hprof';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Event } from 'kubernetes-models/v1/Event';
import pino from 'pino';
import { AnalysisController, type JobApi, type ReportStore } from '../src/analysis-controller/controller.ts';
import { type AnalyzedEvent, storedDumpOf } from '../src/analysis-controller/events.ts';
import {
  type AnalysisJob,
  analysisJob,
  analysisJobName,
  type JobSettings,
} from '../src/analysis-controller/job-spec.ts';
import { type JobStatus, jobOutcome } from '../src/analysis-controller/outcome.ts';
import { parseJobEnv } from '../src/analysis-controller/run-job.ts';
import { AnalysisEnvError, parseControllerEnv } from '../src/analysis-controller/settings.ts';
import { sizeAnalysis } from '../src/analysis-controller/sizing.ts';
import { dumpEvent } from '../src/kube-event.ts';
import { noticeText } from '../src/notify.ts';

const GI = 2 ** 30;
const MI = 2 ** 20;
const KEY = 'heapdumps/shop/cart/cart-7d9f-x2/20261128T070901Z-0a1b2c3d-java_pid1.hprof.zst';
const POD = { name: 'cart-7d9f-x2', namespace: 'shop', app: 'cart', node: 'n1' };
const NOTICE = {
  key: KEY,
  bucket: 'dumps',
  file: 'java_pid1.hprof',
  verdict: 'complete',
  originalBytes: 2 * GI,
  storedBytes: GI,
  compression: 'zstd',
  topClass: undefined,
};

const SETTINGS: JobSettings = {
  namespace: 'heapdump-analysis',
  image: 'registry.example/kube-heapdump-uploader:1.2.3',
  serviceAccount: 'heapdump-analysis-job',
  store: {
    bucket: 'dumps',
    prefix: 'heapdumps/',
    endpoint: 'http://rgw.storage:7480',
    region: 'us-east-1',
    forcePathStyle: true,
  },
  ttlSecondsAfterFinished: 3600,
  backoffLimit: 2,
  nodeSelector: { pool: 'big-memory' },
  tolerations: [{ key: 'big-memory', operator: 'Exists', effect: 'NoSchedule' }],
};
const SIZING = { memoryPerGiB: 512 * MI, maxMemory: 16 * GI };

describe('which Events', () => {
  const served = new Set(['shop']);
  const event = (n = NOTICE) => dumpEvent(POD, undefined, n, noticeText(POD, n), new Date());

  it("takes the uploader's HeapDumpStored Event in a served namespace, the object from its annotations", () => {
    assert.deepEqual(storedDumpOf(event(), served), {
      bucket: 'dumps',
      key: KEY,
      namespace: 'shop',
      pod: { name: POD.name },
    });
  });

  it('reads the object from the message when the Event has no annotations (older uploaders)', () => {
    const { metadata, ...rest } = event();
    const plain = { ...rest, metadata: { namespace: metadata.namespace } };
    assert.deepEqual(storedDumpOf(plain, served), {
      bucket: 'dumps',
      key: KEY,
      namespace: 'shop',
      pod: { name: POD.name },
    });
  });

  it('leaves incomplete dumps, other namespaces and other reasons alone', () => {
    assert.equal(storedDumpOf(event({ ...NOTICE, verdict: 'truncated' }), served), undefined);
    assert.equal(storedDumpOf(event(), new Set(['billing'])), undefined);
    assert.equal(storedDumpOf({ ...event(), reason: 'Pulled' }, served), undefined);
  });

  it('the annotations name the object exactly', () => {
    const a = event().metadata.annotations;
    assert.equal(a?.[EVENT_ANNOTATIONS.key], KEY);
    assert.equal(a?.[EVENT_ANNOTATIONS.bucket], 'dumps');
  });
});

describe('sizing', () => {
  it("is the analysis's per-object estimate plus memoryPerGiB per GiB of dump, in whole MiB", () => {
    const s = sizeAnalysis({ bytes: 4 * GI, totals: { objects: 10_000_000 } }, SIZING);
    assert.ok(s.fits);
    const expected = estimateMemory(10_000_000, 0) + 4 * 512 * MI;
    assert.equal(s.bytes, Math.ceil(expected / MI) * MI);
  });

  it('past maxMemory says how much it would need instead of sizing a Job', () => {
    const s = sizeAnalysis({ bytes: 40 * GI, totals: { objects: 300_000_000 } }, SIZING);
    assert.equal(s.fits, false);
    assert.ok(!s.fits && s.neededBytes > 16 * GI && s.maxMemoryBytes === 16 * GI);
  });
});

describe('the Job for one dump', () => {
  const job = analysisJob(KEY, 3 * GI, SETTINGS);

  it('is a valid batch/v1 Job', () => {
    new Job(job as ConstructorParameters<typeof Job>[0]).validate();
  });

  it('has a name from the key alone: the same for the same key, different for another, a DNS label', () => {
    assert.equal(analysisJobName(KEY), job.metadata.name);
    assert.equal(analysisJob(KEY, GI, { ...SETTINGS, backoffLimit: 5 }).metadata.name, job.metadata.name);
    assert.notEqual(analysisJobName(`${KEY}x`), job.metadata.name);
    assert.match(job.metadata.name, /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
  });

  it("runs the image's analysis-job command on the key, memory request = limit, retries, TTL, placement", () => {
    const pod = job.spec.template.spec;
    const c = pod.containers[0];
    assert.deepEqual(c?.args, ['analysis-job']);
    const env = Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]));
    assert.equal(env[ANALYSIS_ENV.key], KEY);
    assert.equal(env[ANALYSIS_ENV.memoryLimit], String(3 * GI));
    assert.equal(env[UPLOADER_ENV.bucket], 'dumps');
    assert.equal(env[UPLOADER_ENV.endpoint], 'http://rgw.storage:7480');
    assert.equal(parseQuantity(c?.resources.limits.memory ?? ''), 3 * GI);
    assert.equal(c?.resources.requests.memory, c?.resources.limits.memory);
    assert.equal(job.spec.backoffLimit, 2);
    assert.equal(job.spec.ttlSecondsAfterFinished, 3600);
    assert.equal(pod.restartPolicy, 'Never');
    assert.equal(pod.serviceAccountName, 'heapdump-analysis-job');
    assert.deepEqual(pod.nodeSelector, { pool: 'big-memory' });
    assert.equal(pod.tolerations?.length, 1);
    assert.equal(c?.securityContext.readOnlyRootFilesystem, true);
  });

  it('leaves out placement that was not asked for', () => {
    const plain = analysisJob(KEY, GI, { ...SETTINGS, nodeSelector: {}, tolerations: [] }).spec.template.spec;
    assert.equal('nodeSelector' in plain, false);
    assert.equal('tolerations' in plain, false);
  });
});

describe("a Job's outcome", () => {
  it('running until a Complete or Failed condition is True', () => {
    assert.deepEqual(jobOutcome(undefined), { state: 'running' });
    assert.deepEqual(jobOutcome({ failed: 1, conditions: [{ type: 'Failed', status: 'False' }] }), {
      state: 'running',
    });
    assert.deepEqual(jobOutcome({ succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] }), {
      state: 'succeeded',
    });
  });

  it('failed with the reason the Job gives and the attempts', () => {
    const o = jobOutcome({
      failed: 3,
      conditions: [
        {
          type: 'Failed',
          status: 'True',
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
        },
      ],
    });
    assert.deepEqual(o, {
      state: 'failed',
      reason: 'BackoffLimitExceeded: Job has reached the specified backoff limit (3 failed attempts)',
    });
  });
});

/** An API server that keeps Jobs by name, and a store of JSON objects: what survives a controller restart. */
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

describe("the controller's environment", () => {
  const base = {
    HEAPDUMP_BUCKET: 'dumps',
    AWS_REGION: 'us-east-1',
    [ANALYSIS_ENV.namespaces]: 'shop, billing',
    [ANALYSIS_ENV.namespace]: 'heapdump',
    [ANALYSIS_ENV.image]: 'img',
    [ANALYSIS_ENV.serviceAccount]: 'sa',
  };

  it('defaults from the contract', () => {
    const cfg = parseControllerEnv(base);
    assert.deepEqual([...cfg.namespaces], ['shop', 'billing']);
    assert.deepEqual(cfg.sizing, { memoryPerGiB: 512 * MI, maxMemory: 16 * GI });
    assert.equal(cfg.jobs.backoffLimit, 2);
    assert.equal(cfg.jobs.ttlSecondsAfterFinished, 86400);
    assert.equal(cfg.pollSeconds, 15);
    assert.deepEqual(cfg.jobs.tolerations, []);
  });

  it('a bad value is one line naming the variable', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ [ANALYSIS_ENV.namespaces]: '' }, /^HEAPDUMP_ANALYSIS_NAMESPACES is required/],
      [{ [ANALYSIS_ENV.maxMemory]: 'lots' }, /^HEAPDUMP_ANALYSIS_MAX_MEMORY "lots" is not a size/],
      [{ [ANALYSIS_ENV.backoffLimit]: '-1' }, /^HEAPDUMP_ANALYSIS_BACKOFF_LIMIT "-1" must be an integer/],
      [{ [ANALYSIS_ENV.nodeSelector]: '{"a":1}' }, /^HEAPDUMP_ANALYSIS_NODE_SELECTOR has the wrong shape/],
      [{ [ANALYSIS_ENV.tolerations]: '[' }, /^HEAPDUMP_ANALYSIS_TOLERATIONS is not JSON/],
      [{ HEAPDUMP_BUCKET: '' }, /^HEAPDUMP_BUCKET is required/],
    ];
    for (const [change, message] of cases)
      assert.throws(
        () => parseControllerEnv({ ...base, ...change }),
        (err: Error) => {
          assert.ok(err instanceof AnalysisEnvError, err.message);
          assert.match(err.message, message);
          return true;
        },
      );
  });

  it("the Job's: its key and a memory limit in bytes", () => {
    const store = parseControllerEnv(base).jobs.store;
    assert.deepEqual(
      parseJobEnv({ [ANALYSIS_ENV.key]: KEY, [ANALYSIS_ENV.memoryLimit]: '1073741824' }, store),
      {
        store,
        key: KEY,
        memoryLimit: GI,
      },
    );
    assert.throws(
      () => parseJobEnv({ [ANALYSIS_ENV.key]: KEY, [ANALYSIS_ENV.memoryLimit]: '1Gi' }, store),
      /must be a byte count/,
    );
    assert.throws(() => parseJobEnv({}, store), /HEAPDUMP_ANALYSIS_KEY is required/);
  });
});
