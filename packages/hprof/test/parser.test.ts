// The parser on hand-built dumps: both identifier sizes, any chunking, every truncation, bad input.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { classHistogram, HprofParser, readableClassName, summarize, Tag } from '../src/index.ts';
import { HprofWriter, sampleDump, u4 } from './synthetic.ts';

function parse(bytes: Buffer, chunkSizes: number[] = [bytes.length], histogram = true): HprofParser {
  const p = new HprofParser({ histogram });
  let pos = 0;
  let i = 0;
  while (pos < bytes.length) {
    const n = chunkSizes[i++ % chunkSizes.length]!;
    p.push(bytes.subarray(pos, pos + n));
    pos += n;
  }
  return p;
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

describe('HPROF parser on synthetic dumps', () => {
  for (const id of [4, 8] as const) {
    it(`reads a complete dump with ${id}-byte identifiers and applies the size convention`, () => {
      const p = parse(sampleDump(id));
      assert.deepEqual(p.verdict(), { verdict: 'complete' });
      assert.equal(p.header?.idSize, id);
      assert.equal(p.header?.timestampMs, 0x18c * 2 ** 32 + 0x12345678);
      const h = new Map(classHistogram(p).map((c) => [c.name, c]));
      const header = 2 * id;
      const arrayData = align8(header + 4);
      assert.deepEqual(h.get('com.example.Foo'), {
        name: 'com.example.Foo',
        instances: 3,
        bytes: 3 * align8(header + 12),
      });
      assert.deepEqual(h.get('com.example.Bar'), {
        name: 'com.example.Bar',
        instances: 2,
        bytes: 2 * align8(header + 13),
      });
      assert.deepEqual(h.get('com.example.Foo[]'), {
        name: 'com.example.Foo[]',
        instances: 1,
        bytes: align8(arrayData + 5 * id),
      });
      assert.deepEqual(h.get('int[]'), {
        name: 'int[]',
        instances: 2,
        bytes: align8(arrayData + 40) + align8(arrayData + 4000),
      });
      assert.deepEqual(h.get('java.lang.Class'), {
        name: 'java.lang.Class',
        instances: 4,
        bytes: 4 * align8(header + 4),
      });
      const s = summarize(p, 2);
      assert.equal(s.topClasses.length, 2);
      assert.equal(s.topClasses[0]?.name, 'int[]');
      assert.deepEqual(
        { ...s.totals },
        {
          objects: 8,
          instances: 5,
          objectArrays: 1,
          primitiveArrays: 2,
          classes: 4,
          shallowBytes: [...h.values()].reduce((n, c) => n + c.bytes, 0),
          gcRoots: 2,
          threads: 1,
          stackTraces: 1,
        },
      );
      assert.deepEqual(s.largestArrays[0], {
        className: 'int[]',
        length: 1000,
        bytes: align8(arrayData + 4000),
      });
    });

    it(`gives the same result for any chunking (${id}-byte identifiers)`, () => {
      const bytes = sampleDump(id);
      const whole = summarize(parse(bytes));
      for (const sizes of [[1], [2], [3], [7], [13, 1, 5], [64], [4096]]) {
        assert.deepEqual(summarize(parse(bytes, sizes)), whole, `chunks of ${sizes}`);
      }
      const random = Array.from({ length: 50 }, () => 1 + Math.floor(Math.random() * 40));
      assert.deepEqual(summarize(parse(bytes, random)), whole, `chunks of ${random}`);
    });

    it(`calls every proper prefix incomplete, never complete (${id}-byte identifiers)`, () => {
      const bytes = sampleDump(id);
      for (let n = 0; n < bytes.length; n++) {
        for (const histogram of [true, false]) {
          const v = parse(bytes.subarray(0, n), [Math.max(1, n)], histogram).verdict();
          assert.equal(v.verdict, 'incomplete', `prefix of ${n} bytes (histogram ${histogram}): ${v.reason}`);
          assert.ok(v.reason);
        }
      }
      assert.equal(parse(bytes, [bytes.length], false).verdict().verdict, 'complete');
    });
  }

  it('is not complete when anything follows HEAP_DUMP_END', () => {
    const bytes = Buffer.concat([sampleDump(8), Buffer.from([Tag.HEAP_DUMP_END])]);
    assert.notEqual(parse(bytes).verdict().verdict, 'complete');
  });

  it('accepts the 1.0.1 header', () => {
    const w = new HprofWriter(4, 'JAVA PROFILE 1.0.1');
    assert.equal(parse(w.end().toBuffer()).verdict().verdict, 'complete');
  });

  it('calls a file without a heap dump end incomplete, naming where it stops', () => {
    const w = new HprofWriter(8);
    w.utf8(1, 'x');
    const v = parse(w.toBuffer()).verdict();
    assert.equal(v.verdict, 'incomplete');
    assert.match(v.reason!, /no HEAP_DUMP_END record/);
  });

  const invalid: [string, () => Buffer, RegExp][] = [
    ['random bytes', () => randomBytes(4096), /not an HPROF file/],
    [
      'a PNG image',
      png,
      /not an HPROF file: it begins "\?", not "JAVA PROFILE 1.0.1" or "JAVA PROFILE 1.0.2" at offset 0/,
    ],
    [
      'text',
      () => Buffer.from('JAVA PROFILE 9.9\0rest of it'),
      /not an HPROF file: it begins "JAVA PROFILE 9".* at offset 13/,
    ],
    [
      'identifier size 5',
      () => Buffer.concat([Buffer.from('JAVA PROFILE 1.0.2\0'), u4(5), Buffer.alloc(8)]),
      /identifier size 5 is not 4 or 8 at offset 19/,
    ],
    [
      'an unknown record tag',
      () => new HprofWriter(8).record(0x99, Buffer.alloc(3)).toBuffer(),
      /unknown record tag 0x99 at offset 31/,
    ],
    [
      'an unknown sub-record tag',
      () => {
        const w = new HprofWriter(8);
        return w
          .segment(w.rootUnknown(1), Buffer.from([0x42, 0, 0]))
          .end()
          .toBuffer();
      },
      /unknown heap dump sub-record tag 0x42 at offset 49/,
    ],
    [
      'a primitive array of unknown type',
      () => {
        const w = new HprofWriter(8);
        return w
          .segment(w.primitiveArray(1, 3, 2, 1))
          .end()
          .toBuffer();
      },
      /primitive array of unknown element type 3 at offset 40/,
    ],
    [
      'a sub-record longer than its segment',
      () => {
        const w = new HprofWriter(8);
        const inst = w.instance(1, 2, 40);
        return w
          .raw(Buffer.concat([Buffer.from([Tag.HEAP_DUMP_SEGMENT]), u4(0), u4(20), inst]))
          .end()
          .toBuffer();
      },
      /sub-record runs past its segment end 60 at offset 40/,
    ],
    [
      'HEAP_DUMP_END with a body',
      () => new HprofWriter(4).record(Tag.HEAP_DUMP_END, Buffer.alloc(2)).toBuffer(),
      /HEAP_DUMP_END record with length 2/,
    ],
  ];
  for (const [what, make, reason] of invalid) {
    it(`calls ${what} invalid, with the reason and offset`, () => {
      const bytes = make();
      for (const sizes of [[bytes.length], [1], [5]]) {
        const v = parse(bytes, sizes).verdict();
        assert.equal(v.verdict, 'invalid', `${what} in chunks of ${sizes}: ${v.reason}`);
        assert.match(v.reason!, reason);
      }
    });
  }

  it('converts binary class names to the names developers read', () => {
    assert.equal(readableClassName('java/lang/String'), 'java.lang.String');
    assert.equal(readableClassName('[B'), 'byte[]');
    assert.equal(readableClassName('[[J'), 'long[][]');
    assert.equal(readableClassName('[Ljava/lang/Object;'), 'java.lang.Object[]');
    assert.equal(readableClassName('[[Ljava.util.HashMap$Node;'), 'java.util.HashMap$Node[][]');
    assert.equal(readableClassName('com/example/Outer$Inner'), 'com.example.Outer$Inner');
  });
});

/** A valid 1x1 PNG header: signature and IHDR chunk. */
function png(): Buffer {
  const ihdr = Buffer.concat([Buffer.from('IHDR'), u4(1), u4(1), Buffer.from([8, 2, 0, 0, 0])]);
  const crc = u4(crc32(ihdr));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), u4(13), ihdr, crc]);
}

describe('walking without reading skipped bodies', () => {
  /** Feeds `bytes` in `chunk`-sized pushes, passing over what the parser calls skippable; returns bytes pushed. */
  function walkSkipping(p: HprofParser, bytes: Buffer, chunk: number): number {
    let pushed = 0;
    for (let pos = 0; pos < bytes.length; ) {
      const skip = Math.min(p.skippable, bytes.length - pos);
      if (skip > 0) {
        p.skipUnread(skip);
        pos += skip;
        continue;
      }
      const piece = bytes.subarray(pos, pos + chunk);
      p.push(piece);
      pushed += piece.length;
      pos += piece.length;
    }
    return pushed;
  }

  for (const id of [4, 8] as const) {
    it(`reaches the same verdict and offset as reading everything (${id}-byte ids), reading less`, () => {
      const dump = sampleDump(id);
      for (const chunk of [1, 7, 64, dump.length]) {
        const read = parse(dump, [chunk], false);
        const skipping = new HprofParser({ histogram: false });
        const pushed = walkSkipping(skipping, dump, chunk);
        assert.deepEqual(skipping.verdict(), { verdict: 'complete' });
        assert.equal(skipping.records, read.records);
        assert.equal(skipping.bytesSeen, dump.length);
        if (chunk < dump.length)
          assert.ok(pushed < dump.length, `chunk ${chunk}: pushed ${pushed} of ${dump.length}`);
      }
    });
  }

  it('says where a dump cut inside a skipped segment stops, as reading would', () => {
    const dump = sampleDump(8);
    const cut = dump.subarray(0, dump.length - 40);
    const skipping = new HprofParser({ histogram: false });
    walkSkipping(skipping, cut, 16);
    assert.deepEqual(skipping.verdict(), parse(cut, [16], false).verdict());
    assert.equal(skipping.verdict().verdict, 'incomplete');
  });

  it('refuses to skip more than is skippable', () => {
    const p = new HprofParser({ histogram: false });
    p.push(sampleDump(8).subarray(0, 10));
    assert.equal(p.skippable, 0);
    assert.throws(() => p.skipUnread(1), /cannot skip 1 bytes: 0 are skippable/);
  });
});
