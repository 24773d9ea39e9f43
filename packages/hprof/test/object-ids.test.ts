// Object ids kept as 4-byte words when they fit, and the id index over them: the same answers either way.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ObjectColumns } from '../src/analysis/growable.ts';
import { IdIndex } from '../src/analysis/id-index.ts';
import { ObjectIds } from '../src/analysis/object-ids.ts';

function idsOf(values: number[]): ObjectIds {
  return ObjectIds.of(Float64Array.from(values), Math.min(...values), Math.max(...values));
}

describe('object ids', () => {
  const cases: [string, number[], string][] = [
    [
      '8-aligned, spanning under 32 GiB: words',
      [0x7ff000010, 0x6867b18f8, 0x6867b1900, 0x6ffff0000],
      'Uint32Array',
    ],
    ['spanning over 32 GiB: doubles', [0x10, 0x9_0000_0000, 0x20], 'Float64Array'],
    ['not 8-aligned: doubles', [0x10, 0x14, 0x20], 'Float64Array'],
  ];
  for (const [what, values, kind] of cases) {
    it(what, () => {
      const ids = idsOf(values);
      assert.equal(ids.keys.constructor.name, kind);
      assert.deepEqual(
        values.map((_, v) => ids.at(v)),
        values,
      );
      const index = new IdIndex(ids);
      values.forEach((id, v) => {
        assert.equal(index.get(id), v);
      });
      // Ids no object has: between two, below, above, unaligned, past 2^32 words.
      for (const absent of [values[0]! + 8, 0x8, 0x3, values[0]! + 4, 2 ** 40 + 8]) {
        if (!values.includes(absent)) assert.equal(index.get(absent), -1, `0x${absent.toString(16)}`);
      }
    });
  }

  // Pass 1 appends ids as id / 8 words while they fit: the same keys as from doubles, and doubles exactly
  // once one does not fit.
  it('pass 1 columns: words while ids fit, then doubles', () => {
    const fits = [0x7ff000010, 0x6867b18f8, 0x6867b1900, 0x6ffff0000];
    const columns = new ObjectColumns(2);
    for (const id of fits) columns.push(id, 1, 0);
    assert.ok(columns.words !== null);
    const fromWords = ObjectIds.ofWords(columns.words.subarray(0, columns.length), Math.min(...fits));
    assert.deepEqual(fromWords.keys, idsOf(fits).keys);
    for (const wide of [
      [...fits, 0x9_0000_0000, 0x20],
      [...fits, 0x6ffff0004],
    ]) {
      const c = new ObjectColumns(2);
      for (const [i, id] of wide.entries()) c.push(id, i, 2 * i);
      assert.equal(c.words, null);
      assert.deepEqual([...c.wide!.subarray(0, c.length)], wide);
      assert.deepEqual(
        [...c.classes.subarray(0, c.length)],
        wide.map((_, i) => i),
      );
      assert.deepEqual(
        [...c.aux.subarray(0, c.length)],
        wide.map((_, i) => 2 * i),
      );
    }
  });
});
