// First pass: every object's identifier, class and (for arrays) length in typed arrays, the classes with
// their fields and statics, the GC roots, and how many references the second pass can find at most.
import { BASIC_TYPES, Sub } from '../format.ts';
import { CLASS_OBJECTS, ClassTable, Kind } from './classes.ts';
import { GrowArray, ObjectColumns } from './growable.ts';
import { ObjectIds } from './object-ids.ts';
import { type StringContents, StringValues } from './strings.ts';
import { type Local, StackRecords, type ThreadInfo } from './threads.ts';
import type { HeapWalker, WalkHandler } from './walker.ts';

export interface Root {
  tag: number;
  threadSerial: number;
}

export interface ObjectTable {
  idSize: 4 | 8;
  /** Object i's identifier (its address). */
  ids: ObjectIds;
  /** Object i's class number (ClassTable). */
  classes: Int32Array;
  /** Array length, or for class objects their class number. */
  aux: Uint32Array;
  classTable: ClassTable;
  rootIds: Float64Array;
  rootTags: Uint8Array;
  /**
   * Thread object id -> its stack and the objects its frames (and JNI locals) hold. As in MAT, those are
   * references of the thread, so a thread retains what only its locals hold; roots of an unknown thread stay
   * GC roots.
   */
  threads: Map<number, ThreadInfo>;
  /** Upper bound of the second pass's references, roots included. */
  maxEdges: number;
  minAddress: number;
  maxAddress: number;
  /** The String value arrays whose contents pass 2 reads. */
  strings: StringContents;
  /** Class number of java.lang.String (-1: none of its instances could be read). */
  stringClass: number;
}

/** What pass 1 reads from the fields of an instance of a class (-1: no such field). */
interface Probe {
  /** String.value and String.coder (JDK 9+; -1 before: char[] values). */
  value: number;
  coder: number;
  /** Thread.name. */
  threadName: number;
}

export class ObjectPass implements WalkHandler {
  readonly table = new ClassTable();
  private readonly walker: () => HeapWalker;
  // Room for 4 M objects from the start: reserved, not resident until written (see GrowArray.trimmed).
  private objects = new ObjectColumns(1 << 22);
  private rootIds = new GrowArray(Float64Array, 1024);
  private rootTags = new GrowArray(Uint8Array, 1024);
  private arrayElements = 0;
  private lastClassId = Number.NaN;
  private lastClass = 0;
  private lastProbe: Probe | null = null;
  /** Per class number: undefined until known (its class dump and its supers' seen), null when nothing. */
  private readonly probes: (Probe | null | undefined)[] = [];
  private readonly strings = new StringValues();
  private stringClass = -1;
  private minAddress = Number.POSITIVE_INFINITY;
  private maxAddress = 0;

  constructor(walker: () => HeapWalker) {
    this.walker = walker;
  }

  utf8(id: number, buf: Buffer, start: number, end: number): void {
    this.table.strings.set(id, buf.toString('utf8', start, end));
  }

  loadClass(classId: number, nameId: number, serial: number): void {
    this.table.nameIds.set(classId, nameId);
    this.stacks.loadClass(serial, classId);
  }

  stack(tag: number, buf: Buffer, start: number, end: number): void {
    const w = this.walker();
    this.stacks.record(tag, buf, start, end, (p) => w.readId(buf, p), w.idSize);
  }

  private readonly stacks = new StackRecords();
  private readonly threadBySerial = new Map<number, number>();
  private readonly traceOf = new Map<number, number>();
  private readonly threadNames = new Map<number, number>();
  private readonly locals: (Local & { serial: number })[] = [];

  root(tag: number, id: number, threadSerial: number, second: number): void {
    if (tag === Sub.ROOT_THREAD_OBJECT) {
      this.threadBySerial.set(threadSerial, id);
      this.traceOf.set(id, second);
    }
    if (tag === Sub.ROOT_JAVA_FRAME || tag === Sub.ROOT_JNI_LOCAL) {
      this.locals.push({ id, tag, serial: threadSerial, depth: second, index: -1 });
      return;
    }
    this.rootIds.push(id);
    this.rootTags.push(tag);
  }

  /** The threads with their stacks and locals; locals of a thread the dump does not name become GC roots. */
  private threads(): Map<number, ThreadInfo> {
    const names = this.strings.valuesOf(new Set(this.threadNames.values()));
    const byThread = new Map<number, ThreadInfo>();
    const nameIds = this.table.nameIds;
    for (const [id, trace] of this.traceOf) {
      const frames = this.stacks.framesOf(trace, this.table.strings, (c) => nameIds.get(c));
      const nameString = this.threadNames.get(id);
      const nameValue = nameString === undefined ? 0 : (names.get(nameString) ?? 0);
      byThread.set(id, { id, frames, locals: [], nameValue, index: -1 });
    }
    for (const l of this.locals) {
      const thread = this.threadBySerial.get(l.serial);
      const info = thread === undefined ? undefined : byThread.get(thread);
      if (!info) {
        this.rootIds.push(l.id);
        this.rootTags.push(l.tag);
        continue;
      }
      info.locals.push({ id: l.id, tag: l.tag, depth: l.depth, index: -1 });
    }
    return byThread;
  }

  private add(id: number, classNo: number, aux: number): void {
    this.objects.push(id, classNo, aux);
    if (id < this.minAddress) this.minAddress = id;
    if (id > this.maxAddress) this.maxAddress = id;
  }

  instance(id: number, classId: number, buf: Buffer, start: number, fieldBytes: number): void {
    if (classId !== this.lastClassId) this.switchClass(classId);
    this.table.defs[this.lastClass]!.instances++;
    this.add(id, this.lastClass, 0);
    if (this.lastProbe !== null) this.probe(this.lastProbe, id, buf, start, fieldBytes);
  }

  // The rare cases apart from `instance`, which stays small enough to be inlined into the walker's loop.
  private switchClass(classId: number): void {
    this.lastClassId = classId;
    this.lastClass = this.table.numberOf(classId);
    this.lastProbe = this.probeOf(this.lastClass);
  }

  private probe(probe: Probe, id: number, buf: Buffer, start: number, fieldBytes: number): void {
    const w = this.walker();
    if (probe.threadName >= 0 && probe.threadName + w.idSize <= fieldBytes)
      this.threadNames.set(id, w.readId(buf, start + probe.threadName));
    if (probe.value >= 0 && probe.value + w.idSize <= fieldBytes) {
      const utf16 = probe.coder >= 0 && probe.coder < fieldBytes && buf[start + probe.coder] === 1;
      this.strings.note(id, w.readId(buf, start + probe.value), utf16);
    }
  }

  /**
   * The fields pass 1 reads in instances of class `n`, from its class dump: a JVM dumps classes before their
   * instances (HotSpot does); instances seen before their class dump are not read.
   */
  private probeOf(n: number): Probe | null {
    const known = this.probes[n];
    if (known !== undefined) return known;
    const def = this.table.defs[n]!;
    if (def.linkIds.length === 0) return null;
    let probe: Probe | null = null;
    const idSize = this.walker().idSize;
    if (this.table.binaryName(def) === 'java/lang/String') {
      const value = this.table.fieldAt(def, 'java/lang/String', 'value', idSize);
      const coder = this.table.fieldAt(def, 'java/lang/String', 'coder', idSize);
      if (value?.type === 2) {
        probe = { value: value.offset, coder: coder?.type === 8 ? coder.offset : -1, threadName: -1 };
        this.stringClass = n;
      }
    } else if (this.table.isA(def, 'java/lang/Thread') === true) {
      const name = this.table.fieldAt(def, 'java/lang/Thread', 'name', idSize);
      if (name?.type === 2) probe = { value: -1, coder: -1, threadName: name.offset };
    }
    this.probes[n] = probe;
    return probe;
  }

  objectArray(id: number, classId: number, length: number): void {
    const n = this.table.numberOf(classId);
    const def = this.table.defs[n]!;
    def.kind = Kind.OBJECT_ARRAY;
    def.instances++;
    this.arrayElements += length;
    this.add(id, n, length);
  }

  primitiveArray(id: number, type: number, length: number): void {
    this.table.defs[type - 4]!.instances++;
    this.add(id, type - 4, length);
  }

  classDump(buf: Buffer, start: number, end: number): void {
    const w = this.walker();
    const id = w.idSize;
    const classId = w.readId(buf, start);
    const n = this.table.numberOf(classId);
    const def = this.table.defs[n]!;
    def.superId = w.readId(buf, start + id + 4);
    def.loaderId = w.readId(buf, start + 2 * id + 4);
    def.linkIds = [
      def.superId,
      def.loaderId,
      w.readId(buf, start + 3 * id + 4),
      w.readId(buf, start + 4 * id + 4),
    ];
    let q = start + 7 * id + 8;
    const size = (type: number) => (type === 2 ? id : BASIC_TYPES.get(type)!.size);
    const cp = buf.readUInt16BE(q);
    q += 2;
    for (let i = 0; i < cp; i++) q += 3 + size(buf[q + 2]!);
    const statics = buf.readUInt16BE(q);
    q += 2;
    for (let i = 0; i < statics; i++) {
      const nameId = w.readId(buf, q);
      const type = buf[q + id]!;
      if (type === 2) def.staticRefs.push({ name: this.name(nameId), id: w.readId(buf, q + id + 1) });
      else def.staticPrimitiveBytes += size(type);
      q += id + 1 + size(type);
    }
    const fields = buf.readUInt16BE(q);
    q += 2;
    for (let i = 0; i < fields; i++) {
      def.fields.push({ name: this.name(w.readId(buf, q)), type: buf[q + id]! });
      q += id + 1;
    }
    if (q !== end) throw new Error('class dump length');
    this.table.defs[CLASS_OBJECTS]!.instances++;
    this.add(classId, CLASS_OBJECTS, n);
  }

  private name(id: number): string {
    return this.table.strings.get(id) ?? `<name 0x${id.toString(16)}>`;
  }

  /**
   * The table, once the walk is done: references counted per class now that layouts are known.
   */
  finish(idSize: 4 | 8): ObjectTable {
    const threads = this.threads();
    let maxEdges = this.arrayElements + this.rootIds.length + this.locals.length;
    for (const def of this.table.defs) {
      if (def.id === 0) continue;
      maxEdges += def.linkIds.length + def.staticRefs.length + 1;
      if (def.kind !== Kind.INSTANCE) continue;
      let refs = 1; // the instance's class
      const seen = new Set<number>();
      for (let c = this.table.get(def.id); c && !seen.has(c.id); c = this.table.get(c.superId)) {
        seen.add(c.id);
        for (const f of c.fields) if (f.type === 2) refs++;
      }
      maxEdges += def.instances * refs;
    }
    const objects = this.objects;
    const n = objects.length;
    const table: ObjectTable = {
      idSize,
      ids:
        objects.words !== null
          ? ObjectIds.ofWords(objects.words.subarray(0, n), this.minAddress)
          : ObjectIds.of(objects.wide!.subarray(0, n), this.minAddress, this.maxAddress),
      classes: objects.classes.subarray(0, n),
      aux: objects.aux.subarray(0, n),
      classTable: this.table,
      rootIds: this.rootIds.trimmed(),
      rootTags: this.rootTags.trimmed(),
      threads,
      maxEdges,
      minAddress: this.minAddress,
      maxAddress: this.maxAddress,
      strings: this.strings.finish(),
      stringClass: this.stringClass,
    };
    for (const th of threads.values()) if (th.nameValue !== 0) table.strings.want(th.nameValue);
    this.objects = new ObjectColumns(1);
    this.rootIds = new GrowArray(Float64Array, 1);
    this.rootTags = new GrowArray(Uint8Array, 1);
    return table;
  }
}

export const isThreadRoot = (tag: number) =>
  tag === Sub.ROOT_JAVA_FRAME ||
  tag === Sub.ROOT_JNI_LOCAL ||
  tag === Sub.ROOT_NATIVE_STACK ||
  tag === Sub.ROOT_THREAD_BLOCK;
