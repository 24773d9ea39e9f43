// Builds small HPROF files by hand, for identifier sizes and corruptions no JVM here produces.
import { Sub, Tag } from '../src/format.ts';

export class HprofWriter {
  readonly idSize: 4 | 8;
  private readonly parts: Buffer[] = [];
  constructor(idSize: 4 | 8, magic = 'JAVA PROFILE 1.0.2') {
    this.idSize = idSize;
    const h = Buffer.alloc(magic.length + 1 + 12);
    h.write(magic, 'latin1');
    h.writeUInt32BE(idSize, magic.length + 1);
    h.writeUInt32BE(0x18c, magic.length + 5); // timestamp high word
    h.writeUInt32BE(0x12345678, magic.length + 9);
    this.parts.push(h);
  }

  id(n: number): Buffer {
    const b = Buffer.alloc(this.idSize);
    if (this.idSize === 8) {
      b.writeUInt32BE(Math.floor(n / 2 ** 32), 0);
      b.writeUInt32BE(n >>> 0, 4);
    } else {
      b.writeUInt32BE(n, 0);
    }
    return b;
  }

  record(tag: number, body: Buffer): this {
    const h = Buffer.alloc(9);
    h[0] = tag;
    h.writeUInt32BE(body.length, 5);
    this.parts.push(h, body);
    return this;
  }

  utf8(id: number, text: string): this {
    return this.record(Tag.UTF8, Buffer.concat([this.id(id), Buffer.from(text)]));
  }

  loadClass(serial: number, classId: number, nameId: number): this {
    return this.record(Tag.LOAD_CLASS, Buffer.concat([u4(serial), this.id(classId), u4(0), this.id(nameId)]));
  }

  segment(...subs: Buffer[]): this {
    return this.record(Tag.HEAP_DUMP_SEGMENT, Buffer.concat(subs));
  }

  end(): this {
    return this.record(Tag.HEAP_DUMP_END, Buffer.alloc(0));
  }

  classDump(
    classId: number,
    superId: number,
    fields: { nameId: number; type: number }[],
    instanceSize: number,
  ): Buffer {
    return Buffer.concat([
      Buffer.from([Sub.CLASS_DUMP]),
      this.id(classId),
      u4(0),
      this.id(superId),
      ...[0, 0, 0, 0, 0].map(() => this.id(0)),
      u4(instanceSize),
      u2(0), // constant pool
      u2(1), // one static int field
      this.id(999),
      Buffer.from([10]),
      u4(7),
      u2(fields.length),
      ...fields.map((f) => Buffer.concat([this.id(f.nameId), Buffer.from([f.type])])),
    ]);
  }

  instance(objectId: number, classId: number, fieldBytes: number): Buffer {
    return Buffer.concat([
      Buffer.from([Sub.INSTANCE_DUMP]),
      this.id(objectId),
      u4(0),
      this.id(classId),
      u4(fieldBytes),
      Buffer.alloc(fieldBytes, 0xab),
    ]);
  }

  objectArray(objectId: number, arrayClassId: number, length: number): Buffer {
    return Buffer.concat([
      Buffer.from([Sub.OBJ_ARRAY_DUMP]),
      this.id(objectId),
      u4(0),
      u4(length),
      this.id(arrayClassId),
      Buffer.alloc(length * this.idSize),
    ]);
  }

  primitiveArray(objectId: number, type: number, length: number, elementSize: number): Buffer {
    return Buffer.concat([
      Buffer.from([Sub.PRIM_ARRAY_DUMP]),
      this.id(objectId),
      u4(0),
      u4(length),
      Buffer.from([type]),
      Buffer.alloc(length * elementSize, 1),
    ]);
  }

  rootThreadObject(objectId: number): Buffer {
    return Buffer.concat([Buffer.from([Sub.ROOT_THREAD_OBJECT]), this.id(objectId), u4(1), u4(1)]);
  }

  rootUnknown(objectId: number): Buffer {
    return Buffer.concat([Buffer.from([Sub.ROOT_UNKNOWN]), this.id(objectId)]);
  }

  raw(b: Buffer): this {
    this.parts.push(b);
    return this;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export function u4(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

export function u2(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/**
 * A small dump: classes Foo (12 field bytes: int + reference for 4-byte ids, or int + long for 8) and
 * Bar extends Foo; 3 Foo, 2 Bar, one Foo[] of 5, two int[] (10 and 1000 elements), one thread, one root.
 * Split over two heap dump segments.
 */
export function sampleDump(idSize: 4 | 8): Buffer {
  const w = new HprofWriter(idSize);
  w.utf8(1, 'com/example/Foo')
    .utf8(2, 'com/example/Bar')
    .utf8(3, '[Lcom/example/Foo;')
    .utf8(4, 'java/lang/Object');
  w.loadClass(1, 100, 1).loadClass(2, 200, 2).loadClass(3, 300, 3).loadClass(4, 400, 4);
  w.record(Tag.TRACE, Buffer.concat([u4(1), u4(1), u4(0)]));
  w.segment(
    w.classDump(400, 0, [], 0),
    w.classDump(
      100,
      400,
      [
        { nameId: 10, type: 10 },
        { nameId: 11, type: 11 },
      ],
      12,
    ),
    w.classDump(200, 100, [{ nameId: 12, type: 8 }], 1),
    w.classDump(300, 400, [], 0),
    w.rootUnknown(1000),
    w.rootThreadObject(1001),
    w.instance(1000, 100, 12),
    w.instance(1001, 100, 12),
    w.instance(1002, 100, 12),
  );
  w.segment(
    w.instance(1003, 200, 13),
    w.instance(1004, 200, 13),
    w.objectArray(1005, 300, 5),
    w.primitiveArray(1006, 10, 10, 4),
    w.primitiveArray(1007, 10, 1000, 4),
  );
  return w.end().toBuffer();
}

/**
 * A valid dump of about `mib` MiB, mostly byte[] arrays of 1 MiB: random bytes (what compresses badly, so
 * compressed uploads get several parts too) or a repeated pattern.
 */
export function bulkyDump(mib: number, fill: 'random' | 'pattern' = 'random', seed = 1): Buffer {
  const w = new HprofWriter(8);
  w.utf8(1, 'java/lang/Object').loadClass(1, 100, 1);
  let state = seed >>> 0 || 1;
  const arrays: Buffer[] = [];
  for (let i = 0; i < mib; i++) {
    const head = Buffer.concat([
      Buffer.from([Sub.PRIM_ARRAY_DUMP]),
      w.id(5000 + i),
      u4(0),
      u4(1 << 20),
      Buffer.from([8]),
    ]);
    const body = Buffer.allocUnsafe(1 << 20);
    if (fill === 'random') {
      for (let j = 0; j < body.length; j += 4) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        body.writeUInt32LE(state >>> 0, j);
      }
    } else {
      for (let j = 0; j < body.length; j++) body[j] = (j * 7 + i) & 0xff;
    }
    arrays.push(head, body);
  }
  const half = 2 * Math.floor(mib / 2); // a head and its body stay in one segment
  w.segment(w.classDump(100, 0, [], 0), ...arrays.slice(0, half));
  w.segment(...arrays.slice(half));
  return w.end().toBuffer();
}
