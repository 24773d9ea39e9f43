// The Job for one dump (job-spec.ts), validated against the Kubernetes schema.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ANALYSIS_ENV, parseQuantity, UPLOADER_ENV } from '@kube-heapdump/contract';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { analysisJob, analysisJobName } from '../../src/analysis-controller/job-spec.ts';
import { GI, KEY, SETTINGS } from './fixtures.ts';

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
