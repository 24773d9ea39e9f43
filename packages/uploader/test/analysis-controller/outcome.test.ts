// A Job's outcome (outcome.ts) from its status.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jobOutcome } from '../../src/analysis-controller/outcome.ts';

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
