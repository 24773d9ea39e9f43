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
