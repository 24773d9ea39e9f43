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

  private constructor(keys: Uint32Array | Float64Array, base: number, scale: number) {
    this.length = keys.length;
    this.keys = keys;
    this.base = base;
    this.scale = scale;
  }

  /** The ids `ids`, lowest `min` and highest `max`: as words when they fit, else the doubles themselves. */
  static of(ids: Float64Array, min: number, max: number): ObjectIds {
    let aligned = ids.length > 0 && (max - min) / 8 < WORDS;
    const words = new Uint32Array(aligned ? ids.length : 0);
    // One loop, no modulo: a word that does not read back as stored was not a whole multiple of 8.
    for (let i = 0; aligned && i < ids.length; i++) {
      const w = (ids[i]! - min) / 8;
      words[i] = w;
      if (words[i] !== w) aligned = false;
    }
    return aligned ? new ObjectIds(words, min, 8) : new ObjectIds(ids, 0, 1);
  }

  /**
   * Ids held as id / 8 (all 8-aligned, under 2^35), lowest `min`: the words are rebased in place, the same
   * keys `of` gives.
   */
  static ofWords(words: Uint32Array, min: number): ObjectIds {
    if (words.length === 0) return new ObjectIds(new Float64Array(0), 0, 1);
    const low = min / 8;
    for (let i = 0; i < words.length; i++) words[i] = words[i]! - low;
    return new ObjectIds(words, min, 8);
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
