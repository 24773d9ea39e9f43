// The controller's and the Job's environment (settings.ts, run-job.ts): defaults from the contract, one line
// naming a bad variable.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ANALYSIS_ENV } from '@kube-heapdump/contract';
import { parseJobEnv } from '../../src/analysis-controller/run-job.ts';
import { AnalysisEnvError, parseControllerEnv } from '../../src/analysis-controller/settings.ts';
import { GI, KEY, MI } from './fixtures.ts';

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
