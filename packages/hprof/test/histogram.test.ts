// The histogram's tables in-process (histogram.ts): what it counts, and its bounds (HISTOGRAM_LIMITS) fed
// directly, without a dump. (hostile.test.ts drives the same bounds through the parser with crafted dumps.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeapHistogram, HISTOGRAM_LIMITS } from '../src/histogram.ts';

test('instances, arrays and roots count per class; runs of one class and interleaved classes alike', () => {
  const h = new HeapHistogram();
  for (const classId of [7, 7, 9, 7]) h.addInstance(classId, 16);
  h.addObjectArray(11, 3, 40);
  h.addObjectArray(11, 1, 24);
  h.addPrimitiveArray(8, 100, 120);
  h.addRoot(false);
  h.addRoot(true);
  h.addStackTrace();
  assert.deepEqual(
    [...h.instances],
    [
      [7, { count: 3, bytes: 48 }],
      [9, { count: 1, bytes: 16 }],
    ],
  );
  assert.deepEqual([...h.objectArrays], [[11, { count: 2, bytes: 64 }]]);
  assert.deepEqual([...h.primitiveArrays], [[8, { count: 1, bytes: 120 }]]);
  assert.deepEqual([h.gcRoots, h.threads, h.stackTraces], [2, 1, 1]);
});

test('the ten largest arrays are kept, largest first', () => {
  const h = new HeapHistogram();
  for (let i = 1; i <= 25; i++) h.addPrimitiveArray(8, i, i * 8 + 16);
  h.addObjectArray(3, 1000, 8016);
  assert.equal(h.largestArrays.length, 10);
  assert.deepEqual(h.largestArrays[0], { classKey: 'o3', length: 1000, bytes: 8016 });
  assert.deepEqual(
    h.largestArrays.slice(1).map((a) => a.length),
    [25, 24, 23, 22, 21, 20, 19, 18, 17],
  );
});

test('past the class limit objects count as untracked; a class dumped again stays tracked', () => {
  const h = new HeapHistogram();
  for (let id = 0; id < HISTOGRAM_LIMITS.classes; id++) {
    h.addInstance(id, 16);
    h.addClassDump(id, { superId: 0, instanceSize: 8, staticBytes: 0 }, 16);
  }
  h.addInstance(HISTOGRAM_LIMITS.classes, 24);
  h.addInstance(HISTOGRAM_LIMITS.classes + 1, 24);
  h.addClassDump(HISTOGRAM_LIMITS.classes, { superId: 0, instanceSize: 8, staticBytes: 0 }, 32);
  h.addClassDump(5, { superId: 1, instanceSize: 12, staticBytes: 4 }, 24);
  assert.equal(h.instances.size, HISTOGRAM_LIMITS.classes);
  assert.deepEqual(h.untracked.instances, { count: 2, bytes: 48 });
  assert.deepEqual(h.untracked.classes, { count: 1, bytes: 32 });
  assert.deepEqual(h.classes.get(5), { superId: 1, instanceSize: 12, staticBytes: 4 });
});

test('names past their count or character budget are dropped and counted, not read', () => {
  const h = new HeapHistogram();
  let read = 0;
  const text = (s: string) => () => {
    read++;
    return s;
  };
  h.addName(1, HISTOGRAM_LIMITS.nameChars - 3, text('big'));
  h.addName(2, 4, text('over'));
  h.addName(3, 3, text('fit'));
  assert.deepEqual(
    [...h.strings],
    [
      [1, 'big'],
      [3, 'fit'],
    ],
  );
  assert.equal(h.namesDropped, 1);
  assert.equal(read, 2);
  const many = new HeapHistogram();
  for (let id = 0; id <= HISTOGRAM_LIMITS.names; id++) many.addName(id, 1, () => 'x');
  assert.equal(many.strings.size, HISTOGRAM_LIMITS.names);
  assert.equal(many.namesDropped, 1);
  for (let id = 0; id <= HISTOGRAM_LIMITS.classes; id++) many.addClassName(id, 0);
  assert.equal(many.classNames.size, HISTOGRAM_LIMITS.classes);
  assert.equal(many.namesDropped, 2);
});
