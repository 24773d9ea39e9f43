// Crafted dumps that must not wedge a reader: millions of distinct classes or names (bounded memory, and a
// summary that says what it left out), a header timestamp no Date can hold (a verdict, not a RangeError).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeStream, HISTOGRAM_LIMITS, HprofParser, Sub, summarize, Tag } from '../src/index.ts';
import { HprofWriter } from './synthetic.ts';

const MAX = HISTOGRAM_LIMITS.classes;

/** A heap dump segment of `n` instances of 0-field classes, each a class of its own (4-byte ids). */
function distinctInstances(first: number, n: number): Buffer {
  const b = Buffer.alloc(9 + n * 17);
  b[0] = Tag.HEAP_DUMP_SEGMENT;
  b.writeUInt32BE(n * 17, 5);
  for (let i = 0; i < n; i++) {
    const o = 9 + i * 17;
    b[o] = Sub.INSTANCE_DUMP;
    b.writeUInt32BE(first + i, o + 1);
    b.writeUInt32BE(0x100000 + first + i, o + 9);
  }
  return b;
}

describe('crafted dumps and the histogram limits', () => {
  it('tracks at most the class limit, counts the rest in the totals, and says so in the summary', () => {
    const extra = 5000;
    const w = new HprofWriter(4);
    w.raw(distinctInstances(0, MAX + extra));
    const arrays = Array.from({ length: 3 }, (_, i) => w.objectArray(0x9000000 + i, 0x8000000 + i, 1));
    w.segment(...arrays);
    const bytes = w.end().toBuffer();
    const p = new HprofParser();
    for (let i = 0; i < bytes.length; i += 1 << 20) p.push(bytes.subarray(i, i + (1 << 20)));
    assert.equal(p.heap.instances.size, MAX);
    const s = summarize(p);
    assert.equal(s.verdict, 'complete');
    assert.equal(s.totals.instances, MAX + extra);
    assert.equal(s.totals.objectArrays, 3);
    assert.deepEqual(s.capped, {
      maxClasses: MAX,
      untrackedObjects: extra,
      untrackedBytes: extra * 8,
      namesDropped: 0,
    });
    const listed = s.topClasses.reduce((n, c) => n + c.bytes, 0);
    assert.ok(s.totals.shallowBytes > listed, 'untracked bytes are in the total');
  });

  it('drops names past the limit on their count, and a summary within the limits has no `capped`', () => {
    const w = new HprofWriter(8);
    for (let i = 0; i < HISTOGRAM_LIMITS.names + 7; i++) w.utf8(i + 1, 'n');
    const p = new HprofParser();
    p.push(w.end().toBuffer());
    assert.equal(p.heap.strings.size, HISTOGRAM_LIMITS.names);
    assert.equal(summarize(p).capped?.namesDropped, 7);
    const small = new HprofParser();
    small.push(new HprofWriter(8).utf8(1, 'x').end().toBuffer());
    assert.equal(summarize(small).capped, undefined);
  });

  it('drops a name that would pass the limit on characters', () => {
    const w = new HprofWriter(4);
    w.utf8(1, 'a'.repeat(HISTOGRAM_LIMITS.nameChars - 1))
      .utf8(2, 'bb')
      .utf8(3, 'c');
    const p = new HprofParser();
    p.push(w.end().toBuffer());
    assert.deepEqual([...p.heap.strings.keys()], [1, 3]);
    assert.equal(p.heap.namesDropped, 1);
  });
});

describe('a header timestamp no Date can hold', () => {
  const dump = () => {
    const b = new HprofWriter(8).end().toBuffer();
    b.writeUInt32BE(0x7fffffff, 23); // the timestamp's high word: ~9.2e18 ms
    return b;
  };

  it('is the verdict invalid, naming it, and the summary is made without a RangeError', () => {
    const p = new HprofParser();
    p.push(dump());
    const s = summarize(p);
    assert.equal(s.verdict, 'invalid');
    assert.match(s.reason!, /header timestamp \d+ ms is not a date at offset 23/);
    assert.equal(s.timestamp, undefined);
  });

  it('gives the same verdict through analyzeStream (what `heapdump inspect` runs)', async () => {
    const a = await analyzeStream([dump()], 'none');
    assert.equal(a.verdict, 'invalid');
    assert.match(a.reason!, /is not a date/);
  });

  it('accepts the largest timestamp a Date holds', () => {
    const b = new HprofWriter(8).end().toBuffer();
    b.writeUInt32BE(Math.floor(8.64e15 / 2 ** 32), 23);
    b.writeUInt32BE(8.64e15 % 2 ** 32, 27);
    const p = new HprofParser();
    p.push(b);
    assert.equal(summarize(p).timestamp, '+275760-09-13T00:00:00.000Z');
  });
});
