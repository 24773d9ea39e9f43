// The evidence file is written by the app container's JVM: input like any other.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evidenceKey, isAgentDumpFile, parseEvidence } from '../src/index.ts';
import { evidenceFor } from './evidence-fixture.ts';

const good = evidenceFor('heapdump-threshold-20261207T113526Z.hprof');

test('a valid evidence file keeps only the known fields', () => {
  const e = parseEvidence(JSON.stringify(good));
  assert.ok(!('error' in e));
  assert.equal(e.takenAt, '2026-12-07T11:35:26.300Z');
  assert.equal(e.container?.limitBytes, 268435456);
  assert.equal(e.jvm.heapDumpStackBytes, 132_644_864);
  assert.equal((e as unknown as Record<string, unknown>).injected, undefined);
  assert.equal(evidenceKey('p/a.hprof.zst'), 'p/a.hprof.zst.evidence.json');
});

test('each wrong field is named', () => {
  const cases: [unknown, RegExp][] = [
    ['{', /not JSON/],
    [[], /not a JSON object/],
    [{ ...good, schema: 'x' }, /schema/],
    [{ ...good, trigger: 'rm -rf' }, /trigger/],
    [{ ...good, takenAt: 'yesterday' }, /takenAt/],
    [{ ...good, container: { ...good.container, limitBytes: '1' } }, /container.limitBytes/],
    [{ ...good, container: { ...good.container, cgroupVersion: 3 } }, /cgroupVersion/],
    [{ ...good, jvm: { ...good.jvm, threads: 1.5 } }, /jvm.threads/],
    [{ ...good, jvm: { ...good.jvm, heapDumpStackBytes: 'lots' } }, /jvm.heapDumpStackBytes/],
    [{ ...good, threadDump: 1 }, /threadDump/],
  ];
  for (const [doc, why] of cases) {
    const e = parseEvidence(typeof doc === 'string' ? doc : JSON.stringify(doc));
    assert.ok('error' in e, JSON.stringify(doc).slice(0, 60));
    assert.match(e.error, why);
  }
});

test("the agent's dumps (whose evidence follows them) are told from the JVM's own", () => {
  assert.ok(isAgentDumpFile('heapdump-threshold-20261207T145708Z.hprof'));
  assert.ok(isAgentDumpFile('heapdump-ondemand-20261207T145708Z-2.hprof'));
  assert.ok(!isAgentDumpFile('java_pid42.hprof'));
  assert.ok(!isAgentDumpFile('heapdump-threshold-20261207T145708Z.hprof.evidence.json'));
});
