// Object identifiers (64-bit addresses, held as doubles: exact below 2^53) to dense indices, through an
// open-addressing hash of Int32 slots that store the index, not the id: 4 bytes x 1.4-2.9 slots per object on
// top of the id array itself.
import type { ObjectIds } from './object-ids.ts';

const TWO_32 = 4294967296;

export class IdIndex {
  private readonly ids: ObjectIds;
  private readonly slots: Int32Array;
  private readonly mask: number;

  constructor(ids: ObjectIds) {
    this.ids = ids;
    // Load at most 0.7: probes stay short with linear probing, and the slots take 6-11 bytes per object.
    let cap = 16;
    while (cap * 0.7 < ids.length) cap *= 2;
    this.slots = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
    for (let i = 0; i < ids.length; i++) {
      let s = hash(ids.at(i)) & this.mask;
      while (this.slots[s] !== -1) s = (s + 1) & this.mask;
      this.slots[s] = i;
    }
  }

  /** Bytes the index itself takes. */
  get bytes(): number {
    return this.slots.byteLength;
  }

  /** The dense index of `id`, or -1 when the dump holds no such object. */
  get(id: number): number {
    const slots = this.slots;
    const keys = this.ids.keys;
    const key = this.ids.keyOf(id);
    let s = hash(id) & this.mask;
    for (;;) {
      const i = slots[s]!;
      if (i === -1 || keys[i] === key) return i;
      s = (s + 1) & this.mask;
    }
  }
}

/** Addresses are 8-aligned: drop those bits, mix high and low words. */
function hash(id: number): number {
  const lo = id >>> 0;
  const hi = (id / TWO_32) >>> 0;
  let h = Math.imul((lo >>> 3) | (hi << 29), 0x9e3779b1) ^ Math.imul(hi, 0x85ebca6b);
  h ^= h >>> 15;
  return h;
}
