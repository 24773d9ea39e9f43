// Which symbols (UTF8 record ids) a dump uses as names: class names (LOAD_CLASS), method names, signatures
// and source files (FRAME), static and instance field names (CLASS_DUMP). Redaction keeps these and blanks
// every other symbol (the code's string literals among them). A first pass over a local dump, fed chunks in
// order: it keeps the ids and at most one record or sub-record header (a class dump whole) across chunks.
// HotSpot writes every UTF8 record, then LOAD_CLASS, then FRAME/TRACE, then the heap dump, whose first
// sub-records are all CLASS_DUMPs: every name use is known at the first heap sub-record that is not a class
// dump, a few MB into the file. The walk stops there (`namesKnown`), so a streaming redactor can read that far
// ahead of what it sends, and `heapdump redact` and the uploader decide each symbol the same way. A writer
// that uses names later gets them blanked (never a literal kept); `whole` walks on to find such uses.
// Memory: the ids used (a Set of numbers, ~40 bytes each: 2,672 ids in a JDK 17 dump of the test fixture).
import { BASIC_TYPES, HPROF_MAGICS, Sub, Tag } from './format.ts';

const TWO_32 = 4294967296;
const NEED_MORE = -1;
const EMPTY = Buffer.alloc(0);

export class SymbolUses {
  /** The ids used as names so far. */
  readonly ids = new Set<number>();
  /** Why the walk stopped (not HPROF from there on); the ids found before it are kept. */
  failure: string | undefined;
  /** The walk reached the first heap sub-record that is not a class dump: for HotSpot, every name use is in `ids`. */
  namesKnown = false;
  /** Absolute offset of that sub-record (the bytes read up to there decide `ids`). */
  namesKnownAt = -1;
  /** With `whole`: uses first found after `namesKnown` (a writer other than HotSpot; a redactor blanked them). */
  lateUses = 0;
  private readonly whole: boolean;

  private idSize = 8;
  private headerDone = false;
  /** Bytes to pass over (record or sub-record contents). */
  private skip = 0;
  /** Absolute offset of the end of the heap dump segment being read, or -1 between records. */
  private segmentEnd = -1;
  /** Absolute offset of `carry`'s first byte. */
  private at = 0;
  private carry = EMPTY;

  /** `whole`: walk the whole dump (uses after the first heap sub-record too), not only until `namesKnown`. */
  constructor(options: { whole?: boolean } = {}) {
    this.whole = options.whole ?? false;
  }

  /** Whether bytes pushed from now on can change `ids`. */
  get walking(): boolean {
    return this.failure === undefined && (this.whole || !this.namesKnown);
  }

  push(chunk: Buffer): void {
    if (!this.walking) return;
    let buf = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    let p = 0;
    while (p < buf.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, buf.length - p);
        this.skip -= n;
        p += n;
        continue;
      }
      const used = this.item(buf, p);
      if (used === NEED_MORE) break;
      if (!this.walking) return;
      p += used;
    }
    this.at += p;
    buf = buf.subarray(p);
    // A copy: the caller may reuse or redact its chunk.
    this.carry = buf.length > 0 ? Buffer.from(buf) : EMPTY;
  }

  /** Reads the item at `b[p]`; its byte count (contents to pass over go to `skip`), or NEED_MORE. */
  private item(b: Buffer, p: number): number {
    const avail = b.length - p;
    if (!this.headerDone) {
      const nul = b.indexOf(0, p);
      if (nul < 0 || nul + 5 > b.length) return avail > 64 ? this.fail('not an HPROF file') : NEED_MORE;
      if (!(HPROF_MAGICS as readonly string[]).includes(b.toString('latin1', p, nul)))
        return this.fail('not an HPROF file');
      if (nul + 13 > b.length) return NEED_MORE;
      const size = b.readUInt32BE(nul + 1);
      if (size !== 4 && size !== 8) return this.fail(`identifier size ${size}`);
      this.idSize = size;
      this.headerDone = true;
      return nul + 13 - p;
    }
    const here = this.at + p;
    if (this.segmentEnd >= 0 && here >= this.segmentEnd) this.segmentEnd = -1;
    if (this.segmentEnd < 0) return this.record(b, p, avail, here);
    if (b[p] !== Sub.CLASS_DUMP && !this.namesKnown) {
      this.namesKnown = true;
      this.namesKnownAt = here;
      if (!this.whole) return 0;
    }
    return this.sub(b, p, avail);
  }

  private record(b: Buffer, p: number, avail: number, here: number): number {
    const id = this.idSize;
    if (avail < 9) return NEED_MORE;
    const tag = b[p]!;
    const length = b.readUInt32BE(p + 5);
    if (tag === Tag.HEAP_DUMP || tag === Tag.HEAP_DUMP_SEGMENT) {
      this.segmentEnd = here + 9 + length;
      return 9;
    }
    // LOAD_CLASS: serial, class id, trace serial, name id. FRAME: frame id, method, signature, source file, ...
    const uses = tag === Tag.LOAD_CLASS ? [8 + id] : tag === Tag.FRAME ? [id, 2 * id, 3 * id] : [];
    if (uses.length > 0 && length <= 4 * id + 8) {
      if (avail < 9 + length) return NEED_MORE;
      for (const u of uses) if (u + id <= length) this.use(b, p + 9 + u);
      return 9 + length;
    }
    this.skip = length;
    return 9;
  }

  private sub(b: Buffer, p: number, avail: number): number {
    const id = this.idSize;
    const tag = b[p]!;
    const root = ROOTS.get(tag);
    if (root) {
      const size = 1 + root[0] * id + root[1];
      return avail < size ? NEED_MORE : size;
    }
    switch (tag) {
      case Sub.INSTANCE_DUMP: {
        const header = 1 + 2 * id + 8;
        if (avail < header) return NEED_MORE;
        this.skip = b.readUInt32BE(p + header - 4);
        return header;
      }
      case Sub.OBJ_ARRAY_DUMP: {
        const header = 1 + 2 * id + 8;
        if (avail < header) return NEED_MORE;
        this.skip = b.readUInt32BE(p + 1 + id + 4) * id;
        return header;
      }
      case Sub.PRIM_ARRAY_DUMP: {
        const header = 1 + id + 9;
        if (avail < header) return NEED_MORE;
        const size = BASIC_TYPES.get(b[p + header - 1]!)?.size;
        if (!size) return this.fail(`primitive array of unknown type ${b[p + header - 1]}`);
        this.skip = b.readUInt32BE(p + 1 + id + 4) * size;
        return header;
      }
      case Sub.CLASS_DUMP:
        return this.classDump(b, p, avail);
      default:
        return this.fail(`unknown heap dump sub-record tag ${tag}`);
    }
  }

  /** A class dump, whole: its static and instance field names are uses. */
  private classDump(b: Buffer, p: number, avail: number): number {
    const id = this.idSize;
    const end = p + avail;
    let q = p + 1 + 7 * id + 8;
    const names: number[] = [];
    for (let part = 0; part < 3; part++) {
      if (q + 2 > end) return NEED_MORE;
      const count = b.readUInt16BE(q);
      q += 2;
      for (let i = 0; i < count; i++) {
        // constant pool entries: u2 index, u1 type, value; statics: name id, u1 type, value; fields: name id, u1 type
        const head = part === 0 ? 3 : id + 1;
        if (q + head > end) return NEED_MORE;
        const type = b[q + head - 1]!;
        const size = type === 2 ? id : BASIC_TYPES.get(type)?.size;
        if (!size) return this.fail(`class dump value of unknown type ${type}`);
        if (part > 0) names.push(q);
        q += head + (part === 2 ? 0 : size);
      }
    }
    if (q > end) return NEED_MORE;
    for (const n of names) this.use(b, n);
    return q - p;
  }

  private use(b: Buffer, p: number): void {
    const used = this.idSize === 8 ? b.readUInt32BE(p) * TWO_32 + b.readUInt32BE(p + 4) : b.readUInt32BE(p);
    if (this.namesKnown && !this.ids.has(used)) this.lateUses++;
    this.ids.add(used);
  }

  private fail(reason: string): number {
    this.failure = reason;
    return 0;
  }
}

/** GC roots: [identifiers, other bytes] after the tag. */
const ROOTS = new Map<number, [number, number]>([
  [Sub.ROOT_UNKNOWN, [1, 0]],
  [Sub.ROOT_STICKY_CLASS, [1, 0]],
  [Sub.ROOT_MONITOR_USED, [1, 0]],
  [Sub.ROOT_JNI_GLOBAL, [2, 0]],
  [Sub.ROOT_JNI_LOCAL, [1, 8]],
  [Sub.ROOT_JAVA_FRAME, [1, 8]],
  [Sub.ROOT_THREAD_OBJECT, [1, 8]],
  [Sub.ROOT_NATIVE_STACK, [1, 4]],
  [Sub.ROOT_THREAD_BLOCK, [1, 4]],
]);
