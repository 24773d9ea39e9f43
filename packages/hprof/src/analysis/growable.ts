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

/** Pass 1's per-object columns, appended together: one capacity check per object, not three. */
export class ObjectColumns {
  ids: Float64Array;
  classes: Int32Array;
  aux: Uint32Array;
  length = 0;

  constructor(initial: number) {
    this.ids = new Float64Array(initial);
    this.classes = new Int32Array(initial);
    this.aux = new Uint32Array(initial);
  }

  push(id: number, classNo: number, aux: number): void {
    const n = this.length;
    if (n === this.ids.length) this.grow();
    this.ids[n] = id;
    this.classes[n] = classNo;
    this.aux[n] = aux;
    this.length = n + 1;
  }

  private grow(): void {
    const ids = new Float64Array(this.ids.length * 2);
    ids.set(this.ids);
    this.ids = ids;
    const classes = new Int32Array(ids.length);
    classes.set(this.classes);
    this.classes = classes;
    const aux = new Uint32Array(ids.length);
    aux.set(this.aux);
    this.aux = aux;
  }
}
