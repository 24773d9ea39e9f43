// What `heapdump list` and `heapdump report` say of a stored report, whatever its status (the stored
// reports themselves are made and read end to end in test/analysis-in-cluster.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type AnalysisReport, type HeapAnalysis, REPORT_SCHEMA } from '@kube-heapdump/contract';
import { renderReport, suspectCell } from '../src/report.ts';

const base = {
  schema: REPORT_SCHEMA,
  dump: { bucket: 'dumps', key: 'k' },
  at: '2026-12-07T12:00:00.000Z',
} as const;
const object = { id: '1', className: 'com.shop.Cart', shallowBytes: 16, retainedBytes: 300 * 2 ** 20 };
const analysed = (suspects: unknown[]): AnalysisReport => ({
  ...base,
  status: 'analysed',
  analysis: { suspects } as unknown as HeapAnalysis,
});

test('the list cell: the top suspect, or what the report says instead', () => {
  assert.equal(suspectCell(undefined), '-');
  assert.equal(
    suspectCell(
      analysed([{ className: 'com.shop.Cart', retainedBytes: 300 * 2 ** 20, percent: 61.4, object }]),
    ),
    'com.shop.Cart 300.0 MiB (61%)',
  );
  assert.equal(suspectCell(analysed([])), 'no suspect');
  assert.equal(suspectCell({ ...base, status: 'too-large', reason: 'r' }), 'too-large');
  assert.equal(suspectCell({ ...base, status: 'failed', reason: 'r' }), 'failed');
});

test('a class name with control characters is printed escaped', () => {
  const cell = suspectCell(analysed([{ className: 'Evil\u001b[2J', retainedBytes: 1, percent: 50, object }]));
  assert.ok(!cell.includes('\u001b'), cell);
});

test('a stub is one line with its status, time and reason', () => {
  assert.equal(
    renderReport('k', { ...base, status: 'too-large', reason: 'needs 40 GiB' }, 20),
    'k: too-large (2026-12-07T12:00:00.000Z): needs 40 GiB',
  );
});
