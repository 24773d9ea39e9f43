// `heapdump diff`'s pure part in-process (diff.ts: diffDumps, stableClassName) on hand-made histograms: full
// and top-list sides, bounds, hidden-class names. (diff-command.test.ts runs the verb on real dumps of a
// leaking JVM.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClassStats } from '@kube-heapdump/contract';
import { type DiffSide, diffDumps, stableClassName } from '../src/diff.ts';

function side(label: string, classes: ClassStats[], full: boolean): DiffSide {
  const objects = classes.reduce((n, c) => n + c.instances, 0);
  const shallowBytes = classes.reduce((n, c) => n + c.bytes, 0);
  return {
    label,
    verdict: 'complete',
    timestamp: undefined,
    classes,
    full,
    totals: { objects, shallowBytes },
  };
}

test('two full histograms: exact changes, unchanged classes left out, largest growth first', () => {
  const d = diffDumps(
    side(
      'a',
      [
        { name: 'Session', instances: 10, bytes: 1000 },
        { name: 'byte[]', instances: 5, bytes: 500 },
        { name: 'Same', instances: 1, bytes: 16 },
      ],
      true,
    ),
    side(
      'b',
      [
        { name: 'Session', instances: 110, bytes: 11_000 },
        { name: 'Same', instances: 1, bytes: 16 },
        { name: 'New', instances: 2, bytes: 64 },
      ],
      true,
    ),
  );
  assert.deepEqual(
    d.classes.map((c) => [c.name, c.delta, c.bound]),
    [
      ['Session', { instances: 100, bytes: 10_000 }, undefined],
      ['New', { instances: 2, bytes: 64 }, undefined],
      ['byte[]', { instances: -5, bytes: -500 }, undefined],
    ],
  );
  assert.deepEqual(d.totals.delta, { instances: 113 - 16, bytes: 11_080 - 1516 });
  assert.equal(d.before.label, 'a');
  assert.equal('classes' in d.before, false);
});

test("top lists: a class missing from one side is known only as a bound from that list's smallest entry", () => {
  const d = diffDumps(
    side(
      'a',
      [
        { name: 'Old', instances: 3, bytes: 900 },
        { name: 'Kept', instances: 1, bytes: 100 },
      ],
      false,
    ),
    side(
      'b',
      [
        { name: 'Rising', instances: 9, bytes: 700 },
        { name: 'Kept', instances: 2, bytes: 200 },
      ],
      false,
    ),
  );
  const byName = new Map(d.classes.map((c) => [c.name, c]));
  // Rising had at most 100 bytes before (a's smallest entry): it grew by at least 600.
  assert.deepEqual(byName.get('Rising'), {
    name: 'Rising',
    before: undefined,
    after: { instances: 9, bytes: 700 },
    delta: undefined,
    bound: 600,
  });
  // Old has at most 200 bytes after (b's smallest entry): it changed by at most 200 - 900.
  assert.equal(byName.get('Old')?.bound, -700);
  assert.deepEqual(byName.get('Kept')?.delta, { instances: 1, bytes: 100 });
  assert.deepEqual(
    d.classes.map((c) => c.name),
    ['Rising', 'Kept', 'Old'],
  );
});

test('hidden classes compare by their stable name, counts of one name added up', () => {
  assert.equal(stableClassName('Main$$Lambda$14+0x0000000800c03000'), 'Main$$Lambda');
  assert.equal(stableClassName('Main$$Lambda/0x00007f0012345678'), 'Main$$Lambda');
  assert.equal(
    stableClassName('java.lang.invoke.LambdaForm$MH+0x0000000800c04400'),
    'java.lang.invoke.LambdaForm$MH',
  );
  assert.equal(stableClassName('com.example.Plain'), 'com.example.Plain');
  const d = diffDumps(
    side('a', [{ name: 'Main$$Lambda$14+0x0000000800c03000', instances: 1, bytes: 16 }], true),
    side(
      'b',
      [
        { name: 'Main$$Lambda$15+0x0000000800c05000', instances: 2, bytes: 32 },
        { name: 'Main$$Lambda$16+0x0000000800c06000', instances: 1, bytes: 16 },
      ],
      true,
    ),
  );
  assert.deepEqual(
    d.classes.map((c) => [c.name, c.before, c.after]),
    [['Main$$Lambda', { instances: 1, bytes: 16 }, { instances: 3, bytes: 48 }]],
  );
});
