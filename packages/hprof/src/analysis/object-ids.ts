// Object identifiers by index, 4 bytes each when they fit: HotSpot's are 8-aligned addresses, and a heap under
// 32 GiB spans under 2^35 bytes, so (id - lowest) / 8 is a 32-bit word; otherwise (or unaligned) as doubles.
// `keys` and `keyOf` compare in the stored form, so a lookup does not convert each candidate.

const WORDS = 2 ** 32;

export class ObjectIds {
  readonly length: number;
  /** Each object's id in the stored form. */
  readonly keys: Uint32Array | Float64Array;
  private readonly base: number;
  private readonly scale: number;

  constructor(ids: Float64Array, min: number, max: number) {
    this.length = ids.length;
    let aligned = ids.length > 0 && (max - min) / 8 < WORDS;
    const words = new Uint32Array(aligned ? ids.length : 0);
    // One loop, no modulo: a word that does not read back as stored was not a whole multiple of 8.
    for (let i = 0; aligned && i < ids.length; i++) {
      const w = (ids[i]! - min) / 8;
      words[i] = w;
      if (words[i] !== w) aligned = false;
    }
    if (aligned) {
      this.keys = words;
      this.base = min;
      this.scale = 8;
    } else {
      this.keys = ids;
      this.base = 0;
      this.scale = 1;
    }
  }

  /** Object v's id. */
  at(v: number): number {
    return this.base + this.keys[v]! * this.scale;
  }

  /** `id` in the stored form (not an integer, or out of range, when no object can have it). */
  keyOf(id: number): number {
    return (id - this.base) / this.scale;
  }
}
