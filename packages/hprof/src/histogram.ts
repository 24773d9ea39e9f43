// What the parser counts in a heap dump's records, for the summary: names, class dumps, objects per class,
// the largest arrays, roots. Filled by HprofParser as it walks, read by summary.ts. Bounded (HISTOGRAM_LIMITS):
// a crafted dump of millions of distinct classes or names cannot grow it past the limits; beyond them,
// objects count in the totals as `untracked` and names are dropped (counted).

export interface Counter {
  count: number;
  bytes: number;
}

export interface ClassInfo {
  superId: number;
  instanceSize: number;
  staticBytes: number;
}

export interface LargeArray {
  /** `o<array class id>` or `p<basic type code>`. */
  classKey: string;
  length: number;
  bytes: number;
}

/**
 * What the histogram keeps at most, so the summary's memory is bounded whatever the dump holds: distinct
 * classes per map (instances, object arrays, class dumps, class names), and names (UTF8 records) by count
 * and characters. Real dumps stay well within them; beyond, objects count in the totals as `untracked`.
 */
export const HISTOGRAM_LIMITS = { classes: 1 << 16, names: 1 << 19, nameChars: 1 << 24 } as const;

const LARGEST_KEPT = 10;

export class HeapHistogram {
  /** UTF8 record id -> text. */
  readonly #strings = new Map<number, string>();
  /** Class object id -> name string id (LOAD_CLASS). */
  readonly #classNames = new Map<number, number>();
  /** Class object id -> class dump facts. */
  readonly #classes = new Map<number, ClassInfo>();
  /** Instances per class object id. */
  readonly #instances = new Map<number, Counter>();
  /** Object arrays per array class object id. */
  readonly #objectArrays = new Map<number, Counter>();
  /** Primitive arrays per basic type code. */
  readonly #primitiveArrays = new Map<number, Counter>();
  readonly #largestArrays: LargeArray[] = [];
  /** Instances, object arrays and class dumps of classes beyond HISTOGRAM_LIMITS.classes. */
  readonly #untracked = { instances: newCounter(), objectArrays: newCounter(), classes: newCounter() };
  #gcRoots = 0;
  #threads = 0;
  #stackTraces = 0;
  #namesDropped = 0;
  #nameChars = 0;
  #largestFloor = 0;
  // Instances of one class often come in runs: the last one's counter saves a map lookup each.
  #lastInstanceClass = Number.NaN;
  #lastInstanceCounter: Counter | undefined;

  // Filled by the parser.

  /** A UTF8 record's text, kept while within the name limits. */
  addName(nameId: number, chars: number, text: () => string): void {
    if (
      this.#strings.size >= HISTOGRAM_LIMITS.names ||
      this.#nameChars + chars > HISTOGRAM_LIMITS.nameChars
    ) {
      this.#namesDropped++;
      return;
    }
    this.#nameChars += chars;
    this.#strings.set(nameId, text());
  }

  /** A LOAD_CLASS record: the class object's name. */
  addClassName(classId: number, nameId: number): void {
    if (this.#classNames.size < HISTOGRAM_LIMITS.classes) this.#classNames.set(classId, nameId);
    else this.#namesDropped++;
  }

  /** A CLASS_DUMP; `untrackedBytes` is what it counts for when past the class limit. */
  addClassDump(classId: number, info: ClassInfo, untrackedBytes: number): void {
    if (this.#classes.size < HISTOGRAM_LIMITS.classes || this.#classes.has(classId)) {
      this.#classes.set(classId, info);
    } else {
      this.#untracked.classes.count++;
      this.#untracked.classes.bytes += untrackedBytes;
    }
  }

  addInstance(classId: number, bytes: number): void {
    let counter = this.#lastInstanceCounter;
    if (classId !== this.#lastInstanceClass || !counter) {
      counter = tracked(this.#instances, classId, this.#untracked.instances);
      this.#lastInstanceClass = classId;
      this.#lastInstanceCounter = counter;
    }
    counter.count++;
    counter.bytes += bytes;
  }

  addObjectArray(classId: number, length: number, bytes: number): void {
    const c = tracked(this.#objectArrays, classId, this.#untracked.objectArrays);
    c.count++;
    c.bytes += bytes;
    this.#noteArray(`o${classId}`, length, bytes);
  }

  addPrimitiveArray(type: number, length: number, bytes: number): void {
    let c = this.#primitiveArrays.get(type); // one of the 8 basic types: always kept
    if (!c) {
      c = newCounter();
      this.#primitiveArrays.set(type, c);
    }
    c.count++;
    c.bytes += bytes;
    this.#noteArray(`p${type}`, length, bytes);
  }

  addRoot(threadObject: boolean): void {
    this.#gcRoots++;
    if (threadObject) this.#threads++;
  }

  addStackTrace(): void {
    this.#stackTraces++;
  }

  #noteArray(classKey: string, length: number, bytes: number): void {
    if (bytes <= this.#largestFloor && this.#largestArrays.length >= LARGEST_KEPT) return;
    this.#largestArrays.push({ classKey, length, bytes });
    this.#largestArrays.sort((a, b) => b.bytes - a.bytes);
    if (this.#largestArrays.length > LARGEST_KEPT) this.#largestArrays.pop();
    this.#largestFloor = this.#largestArrays.at(-1)!.bytes;
  }

  // Read by the summary.

  get strings(): ReadonlyMap<number, string> {
    return this.#strings;
  }
  get classNames(): ReadonlyMap<number, number> {
    return this.#classNames;
  }
  get classes(): ReadonlyMap<number, Readonly<ClassInfo>> {
    return this.#classes;
  }
  get instances(): ReadonlyMap<number, Readonly<Counter>> {
    return this.#instances;
  }
  get objectArrays(): ReadonlyMap<number, Readonly<Counter>> {
    return this.#objectArrays;
  }
  get primitiveArrays(): ReadonlyMap<number, Readonly<Counter>> {
    return this.#primitiveArrays;
  }
  /** The largest arrays, largest first (LARGEST_KEPT at most). */
  get largestArrays(): readonly Readonly<LargeArray>[] {
    return this.#largestArrays;
  }
  get untracked(): Readonly<Record<'instances' | 'objectArrays' | 'classes', Readonly<Counter>>> {
    return this.#untracked;
  }
  get gcRoots(): number {
    return this.#gcRoots;
  }
  get threads(): number {
    return this.#threads;
  }
  get stackTraces(): number {
    return this.#stackTraces;
  }
  /** Class names (UTF8 or LOAD_CLASS records) not kept, beyond HISTOGRAM_LIMITS. */
  get namesDropped(): number {
    return this.#namesDropped;
  }
}

function newCounter(): Counter {
  return { count: 0, bytes: 0 };
}

/** The counter of `key`, a new one while the map has room, else the shared counter of the untracked. */
function tracked(map: Map<number, Counter>, key: number, untracked: Counter): Counter {
  let c = map.get(key);
  if (c) return c;
  if (map.size >= HISTOGRAM_LIMITS.classes) return untracked;
  c = newCounter();
  map.set(key, c);
  return c;
}
