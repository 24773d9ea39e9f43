// Second pass: every strong reference between objects, as dense indices in CSR form (object i's references
// are targets[offsets[i] .. offsets[i+1]]), plus the GC roots as the references of a virtual root, node n.
// Objects come in the same order as in the first pass (checked). References to objects the dump does not
// hold (null, or cut from a partial dump) are dropped. `slots` remembers which field each reference came
// from (1 byte per reference), so a path can name its fields.
import { Sub } from '../format.ts';
import { CLASS_OBJECTS, type ClassDef } from './classes.ts';
import { CollectionRecords, collectionSpec } from './collections.ts';
import type { IdIndex } from './id-index.ts';
import type { ObjectTable } from './object-pass.ts';
import type { HeapWalker, WalkHandler } from './walker.ts';

/** Slots of a thread's references to what its frames and JNI locals hold. */
export const SLOT_JAVA_LOCAL = 254;
export const SLOT_JNI_LOCAL = 253;
/** A class object's reference to its loader (its links: super, loader, signers, protection domain). */
export const LINK_LOADER = 1;
/** Slots of fields past this one are not told apart (named `?`). */
export const SLOT_UNKNOWN = 252;
const fieldSlot = (k: number) => Math.min(k, SLOT_UNKNOWN);

export interface Graph {
  /** Objects; node `n` is the virtual root whose references are the GC roots. */
  n: number;
  offsets: Uint32Array;
  targets: Int32Array;
  /** Instances: 0 = its class, k = the k-th reference field, SLOT_*_LOCAL; classes: index in links + statics. */
  slots: Uint8Array;
}

export class EdgePass implements WalkHandler {
  private readonly t: ObjectTable;
  private readonly index: IdIndex;
  private readonly walker: () => HeapWalker;
  readonly offsets: Uint32Array;
  private readonly targets: Int32Array;
  private readonly slots: Uint8Array;
  private e = 0;
  private next = 0;
  readonly collections = new CollectionRecords();

  constructor(table: ObjectTable, index: IdIndex, walker: () => HeapWalker) {
    this.t = table;
    this.index = index;
    this.walker = walker;
    this.offsets = new Uint32Array(table.ids.length + 2);
    this.targets = new Int32Array(table.maxEdges);
    this.slots = new Uint8Array(table.maxEdges);
  }

  /** Starts the next object; checks it is the one the first pass saw at this position. */
  private begin(id: number): number {
    const i = this.next++;
    if (this.t.ids.at(i) !== id) {
      throw new Error(`the dump changed between the two passes (object ${i} is 0x${id.toString(16)})`);
    }
    this.offsets[i] = this.e;
    return i;
  }

  private edge(id: number, slot: number): void {
    if (id === 0) return;
    const j = this.index.get(id);
    if (j < 0) return;
    this.targets[this.e] = j;
    this.slots[this.e++] = slot;
  }

  instance(id: number, classId: number, buf: Buffer, fieldsStart: number, fieldBytes: number): void {
    const i = this.begin(id);
    this.edge(classId, 0);
    const def = this.t.classTable.get(classId);
    const offsets = def?.refOffsets;
    if (offsets) {
      const w = this.walker();
      const idSize = w.idSize;
      for (let k = 0; k < offsets.length; k++) {
        const at = offsets[k]!;
        if (at + idSize <= fieldBytes) this.edge(w.readId(buf, fieldsStart + at), fieldSlot(k + 1));
      }
    }
    if (def) this.collection(i, def, buf, fieldsStart, fieldBytes);
    const thread = this.t.threads.get(id);
    if (thread) {
      thread.index = i;
      for (const l of thread.locals) {
        l.index = l.id === 0 ? -1 : this.index.get(l.id);
        this.edge(l.id, l.tag === Sub.ROOT_JAVA_FRAME ? SLOT_JAVA_LOCAL : SLOT_JNI_LOCAL);
      }
    }
  }

  /** A collection's size and its array's length, for the under-filled collections. */
  private collection(i: number, def: ClassDef, buf: Buffer, start: number, fieldBytes: number): void {
    const w = this.walker();
    if (def.collection === undefined) def.collection = collectionSpec(this.t.classTable, def, w.idSize);
    const spec = def.collection;
    if (spec === null || spec.storage + w.idSize > fieldBytes) return;
    if (spec.size + 4 > fieldBytes || spec.tail + 4 > fieldBytes) return;
    const storageId = w.readId(buf, start + spec.storage);
    const j = storageId === 0 ? -1 : this.index.get(storageId);
    if (spec.set) {
      if (j < 0) this.collections.note(i, 0, 0);
      else this.collections.noteSet(i, j);
      return;
    }
    const capacity = j < 0 ? 0 : this.t.aux[j]!;
    let size = buf.readInt32BE(start + spec.size);
    if (spec.tail >= 0)
      size =
        capacity > 0 ? (((buf.readInt32BE(start + spec.tail) - size) % capacity) + capacity) % capacity : 0;
    this.collections.note(i, size, capacity);
  }

  objectArray(id: number): void {
    this.begin(id);
  }

  elements(buf: Buffer, start: number, count: number): void {
    const w = this.walker();
    const idSize = w.idSize;
    for (let k = 0; k < count; k++) this.edge(w.readId(buf, start + k * idSize), 0);
  }

  primitiveArray(id: number): void {
    this.begin(id);
  }

  /** A String's value array: its contents are read for the duplicate strings. */
  wantsBytes(id: number, type: number, length: number): boolean {
    return this.t.strings.begin(id, type, length);
  }

  bytes(buf: Buffer, start: number, count: number): void {
    this.t.strings.bytes(buf, start, count);
  }

  classDump(buf: Buffer, start: number): void {
    const classId = this.walker().readId(buf, start);
    this.begin(classId);
    const def = this.t.classTable.get(classId)!;
    const links = def.linkIds.length;
    for (let k = 0; k < links; k++) this.edge(def.linkIds[k]!, fieldSlot(k));
    for (let k = 0; k < def.staticRefs.length; k++) this.edge(def.staticRefs[k]!.id, fieldSlot(links + k));
  }

  /** The graph, with the virtual root's references: the GC roots, and classes of the bootstrap loader. */
  finish(): Graph {
    const n = this.t.ids.length;
    if (this.next !== n) throw new Error(`the second pass saw ${this.next} objects, the first ${n}`);
    this.offsets[n] = this.e;
    const rootIds = this.t.rootIds;
    for (let r = 0; r < rootIds.length; r++) this.edge(rootIds[r]!, 0);
    const { classes, aux, classTable } = this.t;
    for (let i = 0; i < n; i++) {
      // System classes are roots, as in MAT: the bootstrap loader never unloads them.
      if (classes[i] === CLASS_OBJECTS && classTable.defs[aux[i]!]!.loaderId === 0) {
        this.targets[this.e] = i;
        this.slots[this.e++] = 0;
      }
    }
    this.offsets[n + 1] = this.e;
    // Sized for every reference field, null or not; the part never written is never resident either.
    return {
      n,
      offsets: this.offsets,
      targets: this.targets.subarray(0, this.e),
      slots: this.slots.subarray(0, this.e),
    };
  }
}
