// Typed arrays that grow by doubling while a pass appends to them, then are viewed at their length.

type TypedArrayCtor<T> = new (length: number) => T;
type Growable = Float64Array | Int32Array | Uint32Array | Uint8Array;

export class GrowArray<T extends Growable> {
  data: T;
  length = 0;
  private readonly Ctor: TypedArrayCtor<T>;

  constructor(Ctor: TypedArrayCtor<T>, initial = 1 << 16) {
    this.Ctor = Ctor;
    this.data = new Ctor(initial);
  }

  push(value: number): void {
    if (this.length === this.data.length) this.grow();
    this.data[this.length++] = value;
  }

  private grow(): void {
    const next = new this.Ctor(this.data.length * 2);
    next.set(this.data);
    this.data = next;
  }

  /**
   * The values pushed, as a view of exactly that length: not a copy. The memory past it was never written,
   * and untouched pages of a large typed array cost no resident memory (the allocator maps zero pages lazily).
   */
  trimmed(): T {
    return this.data.subarray(0, this.length) as T;
  }
}

/**
 * Pass 1's per-object columns, appended together: one capacity check per object, not three. Ids are kept as
 * id / 8 in 32 bits while every one is 8-aligned and under 2^35 (HotSpot's addresses in a heap under 32 GiB):
 * half the bytes of doubles, and no conversion at the end (ObjectIds.ofWords); the first id that is not
 * turns them into doubles.
 */
export class ObjectColumns {
  /** id / 8 per object, or null once an id did not fit (then `wide`). */
  words: Uint32Array | null;
  wide: Float64Array | null = null;
  classes: Int32Array;
  aux: Uint32Array;
  length = 0;

  constructor(initial: number) {
    this.words = new Uint32Array(initial);
    this.classes = new Int32Array(initial);
    this.aux = new Uint32Array(initial);
  }

  push(id: number, classNo: number, aux: number): void {
    const n = this.length;
    if (n === this.classes.length) this.grow();
    const words = this.words;
    if (words !== null) {
      const w = id / 8;
      words[n] = w;
      // Stored as it reads back only when a whole number under 2^32.
      if (words[n] !== w) this.widen(n, id);
    } else this.wide![n] = id;
    this.classes[n] = classNo;
    this.aux[n] = aux;
    this.length = n + 1;
  }

  private widen(n: number, id: number): void {
    const words = this.words!;
    const wide = new Float64Array(words.length);
    for (let i = 0; i < n; i++) wide[i] = words[i]! * 8;
    wide[n] = id;
    this.wide = wide;
    this.words = null;
  }

  // By 4, not 2: fewer copies (each touches fresh pages), and the last, largest one happens at a smaller size;
  // the room never written stays unresident (see GrowArray.trimmed).
  private grow(): void {
    const size = this.classes.length * 4;
    if (this.words !== null) {
      const words = new Uint32Array(size);
      words.set(this.words);
      this.words = words;
    } else {
      const wide = new Float64Array(size);
      wide.set(this.wide!);
      this.wide = wide;
    }
    const classes = new Int32Array(size);
    classes.set(this.classes);
    this.classes = classes;
    const aux = new Uint32Array(size);
    aux.set(this.aux);
    this.aux = aux;
  }
}
