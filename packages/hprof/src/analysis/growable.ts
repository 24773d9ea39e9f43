// Typed arrays that grow by doubling while a pass appends to them, then are trimmed to their length.

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

  /** The values pushed, in an array of exactly that length (a copy only when it must shrink). */
  trimmed(): T {
    return this.length === this.data.length ? this.data : (this.data.slice(0, this.length) as T);
  }
}
