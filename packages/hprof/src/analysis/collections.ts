// Under-filled collections: how many elements a collection holds against the slots its array has. Pass 2
// reads, for each instance of HashMap, ArrayList, Vector, ArrayDeque (and their subclasses), its size field
// and the length of its array (from pass 1); a HashSet is its HashMap's numbers under the HashSet's name.
// The waste: the slots no element uses, at the reference size (for a HashMap a lower bound: keys that share
// a bucket leave more slots empty).
import type { CollectionFill, Collections, UnderfilledCollection } from '@kube-heapdump/contract';
import type { ClassDef, ClassTable } from './classes.ts';
import { GrowArray } from './growable.ts';

export const COLLECTION_CONVENTION =
  'capacity: the length of the array behind the collection (HashMap.table, ArrayList and Vector elementData, ' +
  "ArrayDeque elements; a HashSet its map's); wasted: (capacity - size) x the reference size; a collection " +
  'whose array is not allocated yet has capacity 0. Reachable collections only.';

export interface CollectionSpec {
  /** Dump offsets in the instance's fields: the array (or a HashSet's map), the size (ArrayDeque: head; -1 for a HashSet). */
  storage: number;
  size: number;
  /** ArrayDeque: tail (its size is tail - head, modulo the capacity); -1 otherwise. */
  tail: number;
  /** A HashSet: `storage` is its map. */
  set: boolean;
}

const SPECS: { owner: string; storage: string; size?: string; tail?: string; set?: boolean }[] = [
  { owner: 'java/util/HashMap', storage: 'table', size: 'size' },
  { owner: 'java/util/ArrayList', storage: 'elementData', size: 'size' },
  { owner: 'java/util/Vector', storage: 'elementData', size: 'elementCount' },
  { owner: 'java/util/ArrayDeque', storage: 'elements', size: 'head', tail: 'tail' },
  { owner: 'java/util/HashSet', storage: 'map', set: true },
];

/** What pass 2 reads from instances of `def`, or null when it is none of the collections above. */
export function collectionSpec(table: ClassTable, def: ClassDef, idSize: number): CollectionSpec | null {
  for (const spec of SPECS) {
    if (table.isA(def, spec.owner) !== true) continue;
    const storage = table.fieldAt(def, spec.owner, spec.storage, idSize);
    const field = (name: string | undefined) =>
      name === undefined ? { offset: -1, type: 10 } : table.fieldAt(def, spec.owner, name, idSize);
    const size = field(spec.size);
    const tail = field(spec.tail);
    if (storage?.type !== 2 || size?.type !== 10 || tail?.type !== 10) return null;
    return { storage: storage.offset, size: size.offset, tail: tail.offset, set: spec.set === true };
  }
  return null;
}

export interface CollectionTally {
  classes: Int32Array;
  idom: Int32Array;
  refBytes: number;
  top: number;
  className(c: number): string;
  summary(v: number): UnderfilledCollection['object'];
}

/** Pass 2's records, one per collection in object order; a HashSet's refer to its map's. */
export class CollectionRecords {
  private readonly objects = new GrowArray(Int32Array, 1 << 12);
  private readonly sizes = new GrowArray(Int32Array, 1 << 12);
  /** Capacity; for a HashSet, -1 - the index of its map. */
  private readonly capacities = new GrowArray(Int32Array, 1 << 12);

  note(v: number, size: number, capacity: number): void {
    this.objects.push(v);
    this.sizes.push(size);
    this.capacities.push(capacity);
  }

  noteSet(v: number, map: number): void {
    this.note(v, 0, -1 - map);
  }

  private find(v: number): number {
    const objects = this.objects.data;
    let lo = 0;
    let hi = this.objects.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (objects[mid] === v) return mid;
      if (objects[mid]! < v) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  tally(t: CollectionTally): Collections {
    const n = this.objects.length;
    const objects = this.objects.data;
    const sizes = this.sizes.data;
    const caps = this.capacities.data;
    // A HashSet takes its map's numbers; the map is then not counted as a HashMap of its own.
    const owned = new Uint8Array(n);
    const size = Int32Array.from(sizes.subarray(0, n));
    const capacity = Int32Array.from(caps.subarray(0, n));
    for (let r = 0; r < n; r++) {
      if (caps[r]! >= 0) continue;
      const m = this.find(-1 - caps[r]!);
      size[r] = m < 0 ? 0 : sizes[m]!;
      capacity[r] = m < 0 || caps[m]! < 0 ? 0 : caps[m]!;
      if (m >= 0) owned[m] = 1;
    }
    const byClass = new Map<number, CollectionFill>();
    const rows: number[] = [];
    const waste = (r: number) => Math.max(0, capacity[r]! - size[r]!) * t.refBytes;
    for (let r = 0; r < n; r++) {
      const v = objects[r]!;
      if (owned[r] === 1 || t.idom[v] === -1) continue;
      const c = t.classes[v]!;
      let row = byClass.get(c);
      if (!row) {
        row = { className: t.className(c), instances: 0, empty: 0, elements: 0, capacity: 0, wastedBytes: 0 };
        byClass.set(c, row);
      }
      row.instances++;
      if (size[r] === 0) row.empty++;
      row.elements += size[r]!;
      row.capacity += capacity[r]!;
      row.wastedBytes += waste(r);
      if (waste(r) > 0) rows.push(r);
    }
    rows.sort((a, b) => waste(b) - waste(a));
    return {
      convention: COLLECTION_CONVENTION,
      classes: [...byClass.values()].sort((a, b) => b.wastedBytes - a.wastedBytes).slice(0, t.top),
      top: rows.slice(0, t.top).map((r) => ({
        object: t.summary(objects[r]!),
        size: size[r]!,
        capacity: capacity[r]!,
        wastedBytes: waste(r),
      })),
    };
  }
}
