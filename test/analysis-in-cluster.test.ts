// Analysis in the cluster end to end, on loopback: a real dump stored by the real uploader, whose HeapDumpStored
// Event goes to a stand-in API server (test/support/fake-api-server.ts: schema-validated bodies, RBAC per
// token from the component's rules); the controller (the uploader image's analysis-controller command, as a
// process) creates the Job; the Job's pod runs in the pod simulator (the image's analysis-job command) with the
// store credential the component's IAM policy allows; the report lands in the strict S3 store beside the dump.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  ANALYSIS_ENV,
  type AnalysisReport,
  type HeapAnalysis,
  reportKey,
  UPLOADER_ENV,
} from '@kube-heapdump/contract';
import { analyzeHeap, fileSource } from '@kube-heapdump/hprof';
import {
  analysisEventsRules,
  analysisJobsRules,
  analysisPolicy,
} from '../packages/heapdump/src/analysis-access.ts';
import { eventsRoleRules } from '../packages/heapdump/src/events-rbac.ts';
import { developerEnv } from './support/developer-env.ts';
import { FakeApiServer } from './support/fake-api-server.ts';
import { HeldJvm } from './support/java.ts';
import { RUN_SOURCE } from './support/node.ts';
import { SimulatedPod, type WorkloadSpec } from './support/pod-simulator.ts';
import { run } from './support/processes.ts';
import { DEFAULT_CREDENTIAL, type S3Credential } from './support/s3/server.ts';
import { type S3Fixture, startS3Fixture } from './support/s3-fixture.ts';
import { simulationImages } from './support/simulation.ts';
import { localUploaderEnv, UploaderProcess } from './support/uploader.ts';

const CLI = join(import.meta.dirname, '../packages/cli/src/main.ts');
const IMAGE = 'registry.example.com/kube-heapdump/kube-heapdump-uploader:test';
const JOBS_NS = 'heapdump-analysis';
const ANALYSIS: S3Credential = {
  accessKeyId: 'ANALYSISJOBS',
  secretAccessKey: 'analysis-secret-key-0123456789',
  // The component's policy as the strict store reads it (no conditions without KMS).
  policy: analysisPolicy({ bucketArn: 'arn:aws:s3:::dumps', prefix: 'heapdumps/' }) as S3Credential['policy'],
};

let dir: string;
let s3: S3Fixture;
let api: FakeApiServer;
let dumpPath: string;
let key: string;
let controllerSa: string;

function controllerEnv(): Record<string, string> {
  return {
    ...api.env(),
    [UPLOADER_ENV.bucket]: 'dumps',
    [UPLOADER_ENV.endpoint]: s3.server.endpoint,
    [UPLOADER_ENV.forcePathStyle]: 'true',
    [UPLOADER_ENV.region]: 'us-east-1',
    [UPLOADER_ENV.serviceAccountDir]: controllerSa,
    AWS_ACCESS_KEY_ID: ANALYSIS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: ANALYSIS.secretAccessKey,
    [ANALYSIS_ENV.namespaces]: 'prod',
    [ANALYSIS_ENV.namespace]: JOBS_NS,
    [ANALYSIS_ENV.image]: IMAGE,
    [ANALYSIS_ENV.serviceAccount]: 'heapdump-analysis-job',
    [ANALYSIS_ENV.credentialsSecret]: 'heapdump-analysis-store',
    [ANALYSIS_ENV.pollSeconds]: '1',
  };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kh-analysis-'));
  s3 = await startS3Fixture({ credentials: [DEFAULT_CREDENTIAL, ANALYSIS] });
  api = await FakeApiServer.start(dir);
  controllerSa = await api.serviceAccount('controller', [
    { namespace: 'prod', rules: analysisEventsRules() },
    { namespace: JOBS_NS, rules: analysisJobsRules() },
  ]);
  const podDir = join(dir, 'pod');
  await mkdir(podDir);
  dumpPath = join(podDir, 'java_pid1.hprof');
  const jvm = await HeldJvm.startMain('RetainFixture', ['known'], ['-Xmx256m', '-XX:+UseSerialGC']);
  try {
    await jvm.dump(dumpPath, undefined, true);
  } finally {
    await jvm.close();
  }
});

after(async () => {
  await api?.close();
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a stored dump is analysed in the cluster', () => {
  let job: WorkloadSpec & { metadata: { name: string; namespace: string } };
  let local: HeapAnalysis;

  it('the uploader stores it and posts HeapDumpStored', async () => {
    local = await analyzeHeap(await fileSource(dumpPath));
    const uploaderSa = await api.serviceAccount('uploader', [
      { namespace: 'prod', rules: eventsRoleRules() },
    ]);
    const uploader = new UploaderProcess(
      localUploaderEnv(s3, join(dir, 'pod'), {
        ...api.env(),
        HEAPDUMP_QUIET_SECONDS: '1',
        HEAPDUMP_COMPRESSION: 'zstd',
        HEAPDUMP_DELETE_AFTER_UPLOAD: 'false',
        [UPLOADER_ENV.serviceAccountDir]: uploaderSa,
      }),
      ['--once'],
    );
    assert.equal(await uploader.exited, 0, uploader.stderr);
    key = String((await uploader.waitForLog((l) => l.msg === 'dump stored')).key);
    await uploader.waitForLog((l) => l.msg === 'notification sent' && l.channel === 'event');
    assert.equal(api.events.length, 1);
    assert.equal(api.events[0]?.reason, 'HeapDumpStored');
  });

  it('the controller creates one Job for it, also after a restart', async () => {
    const controller = new UploaderProcess(controllerEnv(), ['analysis-controller']);
    try {
      const line = await controller.waitForLog((l) => l.msg === 'analysis job', 30_000);
      assert.equal(line.created, true);
      assert.equal(line.key, key);
    } finally {
      await controller.stop();
    }
    const restarted = new UploaderProcess(controllerEnv(), ['analysis-controller']);
    try {
      const again = await restarted.waitForLog((l) => l.msg === 'analysis job', 30_000);
      assert.equal(again.created, false, 'the restarted controller found the Job it had made');
    } finally {
      await restarted.stop();
    }
    assert.equal(api.jobs.size, 1);
    job = [...api.jobs.values()][0] as unknown as typeof job;
    assert.equal(job.metadata.namespace, JOBS_NS);
    assert.deepEqual(api.invalid, [], 'every body the API server got is schema-valid');
  });

  it("the Job's pod stores the report beside the dump; the controller sees the Job complete", async () => {
    const controller = new UploaderProcess(controllerEnv(), ['analysis-controller']);
    try {
      await controller.waitForLog((l) => l.msg === 'analysis job', 30_000);
      const sandbox = join(dir, 'job');
      await mkdir(sandbox);
      const pod = new SimulatedPod({
        deployment: job,
        images: await simulationImages(IMAGE),
        sandbox,
        secrets: {
          'heapdump-analysis-store': {
            AWS_ACCESS_KEY_ID: ANALYSIS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: ANALYSIS.secretAccessKey,
          },
        },
      });
      const lines: string[] = [];
      pod.on('line', (_c: string, line: string) => lines.push(line));
      await pod.start();
      assert.equal(await pod.waitForCompletion(), 'Succeeded', lines.join('\n'));
      api.setJobStatus(JOBS_NS, job.metadata.name, {
        succeeded: 1,
        conditions: [{ type: 'Complete', status: 'True' }],
      });
      await controller.waitForLog((l) => l.msg === 'analysis job finished', 30_000);
    } finally {
      await controller.stop();
    }
    const res = await s3.client().send(new GetObjectCommand({ Bucket: 'dumps', Key: reportKey(key) }));
    const report = JSON.parse(await res.Body!.transformToString()) as AnalysisReport;
    assert.equal(report.status, 'analysed');
    assert.deepEqual(report.dump, { bucket: 'dumps', key });
    assert.ok(local.suspects.length > 0, 'the fixture has a leak suspect');
    assert.deepEqual(report.analysis, local, 'the streamed analysis in the Job is the local one');
    const analyzed = api.events.filter((e) => e.reason === 'HeapDumpAnalyzed');
    assert.equal(analyzed.length, 1);
    assert.equal(analyzed[0]?.metadata.namespace, 'prod');
    assert.ok(String(analyzed[0]?.message).includes(`top suspect ${local.suspects[0]?.className}`));
    assert.deepEqual(api.denied, [], 'the controller needed nothing its Roles do not allow');
  });

  it('the developer sees the top suspect in heapdump list and reads the report without downloading the dump', async () => {
    const env = developerEnv({
      home: dir,
      credential: DEFAULT_CREDENTIAL,
      bucket: 'dumps',
      endpoint: s3.server.endpoint,
    });
    const heapdump = (...args: string[]) =>
      run(process.execPath, [...RUN_SOURCE, CLI, ...args], env, 120_000);
    const top = local.suspects[0];
    assert.ok(top);
    const list = await heapdump('list', '--region', 'us-east-1');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /top suspect/);
    assert.ok(list.stdout.includes(top.className), list.stdout);
    const report = await heapdump('report', 'latest', '--region', 'us-east-1');
    assert.equal(report.code, 0, report.stderr);
    assert.ok(report.stdout.includes(top.className), report.stdout);
  });

  it("the Job's command: a stub, and success, for a dump past its memory or one it cannot read", async () => {
    const job = (dumpKey: string, memoryLimit: number) =>
      new UploaderProcess(
        {
          ...controllerEnv(),
          [ANALYSIS_ENV.key]: dumpKey,
          [ANALYSIS_ENV.memoryLimit]: String(memoryLimit),
        },
        ['analysis-job'],
      );
    const reportOf = async (dumpKey: string) => {
      const res = await s3.client().send(new GetObjectCommand({ Bucket: 'dumps', Key: reportKey(dumpKey) }));
      return JSON.parse(await res.Body!.transformToString()) as AnalysisReport;
    };
    const small = job(key, 2 ** 20);
    assert.equal(await small.exited, 0, small.stderr);
    const tooLarge = await reportOf(key);
    assert.equal(tooLarge.status, 'too-large');
    assert.equal(tooLarge.maxMemoryBytes, 2 ** 20);
    assert.ok((tooLarge.neededBytes ?? 0) > 2 ** 20);

    const junkKey = 'heapdumps/prod/shop/shop-7d9f-abcde/20261207T000000Z-deadbeef-java_pid9.hprof';
    await s3
      .client()
      .send(new PutObjectCommand({ Bucket: 'dumps', Key: junkKey, Body: 'not a heap dump at all' }));
    const junk = job(junkKey, 2 ** 30);
    assert.equal(await junk.exited, 0, junk.stderr);
    const failed = await reportOf(junkKey);
    assert.equal(failed.status, 'failed');
    assert.ok(failed.reason, 'the reason is stored');
  });

  it("the Jobs' credential writes reports only and deletes nothing", async () => {
    const jobs = s3.client(ANALYSIS);
    await assert.rejects(
      jobs.send(new PutObjectCommand({ Bucket: 'dumps', Key: `${key}.x`, Body: 'x' })),
      /AccessDenied|not authorized/,
    );
    await assert.rejects(
      jobs.send(new DeleteObjectCommand({ Bucket: 'dumps', Key: key })),
      /AccessDenied|not authorized/,
    );
  });
});
