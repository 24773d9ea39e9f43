// summary-check.ts in-process: a stored summary read as untrusted data. What is well-formed passes as stored;
// each malformed field the CLI reads is named once and shown as unknown, the rest of the summary kept.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkStoredSummary, malformedNote } from '../src/summary-check.ts';

function wellFormed(): Record<string, unknown> {
  return {
    schema: 'kube-heapdump/hprof-summary/v1',
    verdict: 'complete',
    totals: {
      objects: 10,
      instances: 7,
      objectArrays: 1,
      primitiveArrays: 2,
      classes: 3,
      shallowBytes: 4096,
      gcRoots: 5,
      threads: 2,
      stackTraces: 2,
    },
    topClasses: [{ name: 'byte[]', instances: 2, bytes: 2048 }],
    largestArrays: [{ className: 'byte[]', length: 1000, bytes: 1016 }],
    sizeConvention: 'as MAT counts them',
    storedSchema: 'kube-heapdump/stored-summary/v1',
    dump: {
      bucket: 'dumps',
      key: 'heapdumps/shop/orders/orders-1/20260101T000000Z-0a1b2c3d-java_pid1.hprof.zst',
      file: 'java_pid1.hprof',
      originalBytes: 8192,
      storedBytes: 2048,
      compression: 'zstd',
      sha256: 'ab'.repeat(32),
      pod: 'orders-1',
      namespace: 'shop',
      node: 'node-a',
      app: 'orders',
      integrity: { crc32: 'proven' },
    },
    timings: { firstByteSeen: '2026-01-01T00:00:00Z', dumpSeconds: 1.5, uploadAfterDumpSeconds: 0.5 },
  };
}

describe('checkStoredSummary', () => {
  it('a well-formed summary: no problems, every field as stored', () => {
    const stored = wellFormed();
    const { summary, problems } = checkStoredSummary(structuredClone(stored));
    assert.deepEqual(problems, []);
    assert.deepEqual(summary, stored);
  });

  it('a malformed field is named with its path and shown as unknown; the others are kept', () => {
    const stored = wellFormed();
    (stored.dump as Record<string, unknown>).key = 42;
    (stored.totals as Record<string, unknown>).objects = -1;
    (stored.topClasses as unknown[]).push('not a class');
    const { summary, problems } = checkStoredSummary(stored);
    assert.deepEqual(problems, [
      'totals.objects is not a number',
      'topClasses[1] is not an object',
      'dump.key is not a string',
    ]);
    assert.equal(summary.dump.key, '?');
    assert.ok(Number.isNaN(summary.totals.objects));
    assert.equal(summary.topClasses[0]?.name, 'byte[]');
    assert.equal(summary.dump.pod, 'orders-1');
  });

  it('an object that is not one is named once, not each of its fields', () => {
    const stored = wellFormed();
    stored.timings = 'soon';
    stored.largestArrays = {};
    assert.deepEqual(checkStoredSummary(stored).problems, [
      'timings is not an object',
      'largestArrays is not a list',
    ]);
    assert.deepEqual(checkStoredSummary(null).problems.slice(0, 2), [
      'the summary is not an object',
      'dump is not an object',
    ]);
  });
});

describe('malformedNote', () => {
  it('names the first three problems and counts the rest', () => {
    assert.equal(
      malformedNote('k.summary.json', ['a is not a string']),
      'k.summary.json is malformed: a is not a string; shown without it',
    );
    assert.equal(
      malformedNote('k.summary.json', ['a', 'b', 'c', 'd', 'e']),
      'k.summary.json is malformed: a, b, c and 2 more; shown without them',
    );
  });
});
