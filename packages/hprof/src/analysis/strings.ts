// Duplicate strings: java.lang.String instances with equal contents, and what all but one of each take.
// Pass 1 notes each String's value array (and whether its coder is UTF-16); pass 2 reads the contents of those
// arrays only, hashing each (two independent 32-bit hashes and the length: two contents merge with a chance
// near 2^-64) into a table of contents; after the dominators, the reachable Strings are counted per content.
// The waste, as the JVM lays them out: every String of a content but one, and every distinct value array but
// one (Strings made by `new String(s)` share their array: only the String is wasted).
import type { DuplicateString, DuplicateStrings } from '@kube-heapdump/contract';
import type { Graph } from './edge-pass.ts';
import { GrowArray } from './growable.ts';
import type { ObjectIds } from './object-ids.ts';

/** Bytes of contents kept as text: the start of a duplicated string, a thread's name. */
const TEXT_BYTES = 160;
const TYPE_CHAR = 5;
const TYPE_BYTE = 8;

/** Pass 1: each String's identifier and its value array's. */
export class StringValues {
  private stringIds = new GrowArray(Float64Array, 1 << 16);
  private valueIds = new GrowArray(Float64Array, 1 << 16);

  note(stringId: number, valueId: number, utf16: boolean): void {
    if (valueId === 0) return;
    this.stringIds.push(stringId);
    // Addresses are 8-aligned: the low bit carries the coder through the sort.
    this.valueIds.push(utf16 && valueId % 2 === 0 ? valueId + 1 : valueId);
  }

  /** The value arrays of a few Strings (thread names), by one scan. */
  valuesOf(stringIds: ReadonlySet<number>): Map<number, number> {
    const out = new Map<number, number>();
    const ids = this.stringIds.trimmed();
    const values = this.valueIds.trimmed();
    for (let i = 0; i < ids.length; i++) {
      if (stringIds.has(ids[i]!)) out.set(ids[i]!, values[i]! - (values[i]! % 2));
    }
    return out;
  }

  /** The distinct value arrays, sorted, with how many Strings share each: what pass 2 reads. */
  finish(): StringContents {
    const sorted = this.valueIds.trimmed().sort();
    this.stringIds = new GrowArray(Float64Array, 1);
    this.valueIds = new GrowArray(Float64Array, 1);
    let distinct = 0;
    for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct++;
    const values = new Float64Array(distinct);
    const utf16 = new Uint8Array(distinct);
    const strings = new Uint32Array(distinct);
    let k = -1;
    for (let i = 0; i < sorted.length; i++) {
      const v = sorted[i]!;
      if (i === 0 || v !== sorted[i - 1]) {
        k++;
        values[k] = v - (v % 2);
        utf16[k] = v % 2;
      }
      strings[k]!++;
    }
    return new StringContents(values, utf16, strings);
  }
}

export interface StringTally {
  classes: Int32Array;
  ids: ObjectIds;
  graph: Graph;
  /** -1 for an unreachable object. */
  idom: Int32Array;
  shallow(v: number): number;
  stringClass: number;
  /** The graph slot of String.value. */
  valueSlot: number;
  top: number;
  idHex(v: number): string;
}

/** Pass 2 and after: contents of the value arrays, grouped; the reachable Strings counted per group. */
export class StringContents {
  private readonly values: Float64Array;
  private readonly utf16: Uint8Array;
  private readonly strings: Uint32Array;
  /** Content group of each value array (-1: not in the dump). */
  private readonly groupOf: Int32Array;
  private readonly slots: Int32Array;
  private readonly mask: number;
  private readonly h1s = new GrowArray(Uint32Array, 1 << 12);
  private readonly h2s = new GrowArray(Uint32Array, 1 << 12);
  private readonly lengths = new GrowArray(Uint32Array, 1 << 12);
  private readonly arrays = new GrowArray(Uint32Array, 1 << 12);
  /** Group -> the start of its contents, kept once a second String or array of it shows up. */
  private readonly texts = new Map<number, string>();
  /** Value index -> its text, for the arrays asked for by `want`. */
  private readonly wanted = new Map<number, string | undefined>();
  // The array being read.
  private k = -1;
  private h1 = 0;
  private h2 = 0;
  private left = 0;
  private size = 0;
  private type = 0;
  private readonly head = Buffer.alloc(TEXT_BYTES);
  private headLength = 0;

  constructor(values: Float64Array, utf16: Uint8Array, strings: Uint32Array) {
    this.values = values;
    this.utf16 = utf16;
    this.strings = strings;
    this.groupOf = new Int32Array(values.length).fill(-1);
    let cap = 16;
    while (cap * 0.5 < values.length) cap *= 2;
    this.slots = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
  }

  /** The index of value array `id`, or -1. */
  private indexOf(id: number): number {
    const values = this.values;
    let lo = 0;
    let hi = values.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = values[mid]!;
      if (v === id) return mid;
      if (v < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Keep the text of value array `id` (a thread's name); `text` gives it after pass 2. */
  want(id: number): void {
    const k = this.indexOf(id);
    if (k >= 0) this.wanted.set(k, undefined);
  }

  text(id: number): string | undefined {
    const k = this.indexOf(id);
    return k < 0 ? undefined : this.wanted.get(k);
  }

  /** Pass 2 announces a primitive array: true when its contents are a String's (then `bytes` follows). */
  begin(id: number, type: number, length: number): boolean {
    if (type !== TYPE_BYTE && type !== TYPE_CHAR) return false;
    const k = this.indexOf(id);
    if (k < 0) return false;
    this.k = k;
    this.type = type;
    this.size = type === TYPE_CHAR ? 2 * length : length;
    this.left = this.size;
    this.h1 = 0x811c9dc5;
    this.h2 = 0x9747b28c;
    this.headLength = 0;
    if (this.left > 0) return true;
    this.end();
    return false;
  }

  bytes(buf: Buffer, start: number, count: number): void {
    let h1 = this.h1;
    let h2 = this.h2;
    for (let p = start, end = start + count; p < end; p++) {
      const b = buf[p]!;
      h1 = Math.imul(h1 ^ b, 0x01000193);
      h2 = Math.imul(h2 ^ b, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    this.h1 = h1;
    this.h2 = h2;
    if (this.headLength < TEXT_BYTES) {
      const n = Math.min(count, TEXT_BYTES - this.headLength);
      buf.copy(this.head, this.headLength, start, start + n);
      this.headLength += n;
    }
    this.left -= count;
    if (this.left === 0) this.end();
  }

  private end(): void {
    const k = this.k;
    const g = this.group(this.h1 >>> 0, this.h2 >>> 0, this.size, this.type);
    this.groupOf[k] = g;
    const arrays = ++this.arrays.data[g]!;
    if ((this.strings[k]! >= 2 || arrays >= 2) && !this.texts.has(g)) this.texts.set(g, this.decode());
    if (this.wanted.has(k)) this.wanted.set(k, this.decode());
  }

  private decode(): string {
    const head = this.head.subarray(
      0,
      this.headLength - (this.headLength % (this.type === TYPE_CHAR ? 2 : 1)),
    );
    // HPROF writes char[] big-endian; a UTF-16 String's byte[] holds its chars in the JVM's (little-endian) order.
    if (this.type === TYPE_CHAR) return Buffer.from(head).swap16().toString('utf16le');
    if (this.utf16[this.k] === 1) return head.subarray(0, head.length & ~1).toString('utf16le');
    return head.toString('latin1');
  }

  /** The group of contents (h1, h2, size, type), added when new. */
  private group(h1: number, h2: number, size: number, type: number): number {
    const key = size * 2 + (type === TYPE_CHAR ? 1 : 0);
    let s = (h1 ^ Math.imul(h2, 0x85ebca6b)) & this.mask;
    for (;;) {
      const g = this.slots[s]!;
      if (g === -1) break;
      if (this.h1s.data[g] === h1 && this.h2s.data[g] === h2 && this.lengths.data[g] === key) return g;
      s = (s + 1) & this.mask;
    }
    const g = this.h1s.length;
    this.slots[s] = g;
    this.h1s.push(h1);
    this.h2s.push(h2);
    this.lengths.push(key);
    this.arrays.push(0);
    return g;
  }

  /** Characters of a String whose value is in group g. */
  private chars(g: number, utf16: boolean): number {
    const key = this.lengths.data[g]!;
    const bytes = Math.floor(key / 2);
    return key % 2 === 1 || utf16 ? bytes / 2 : bytes;
  }

  /** The reachable Strings per content: the report's duplicate strings. */
  tally(t: StringTally): DuplicateStrings {
    const groups = this.h1s.length;
    const strings = new Uint32Array(groups);
    const arrays = new Uint32Array(groups);
    const waste = new Float64Array(groups);
    const example = new Int32Array(groups);
    const utf16 = new Uint8Array(groups);
    const seen = new Uint8Array(this.values.length);
    const { classes, ids, graph, idom } = t;
    let examined = 0;
    for (let v = 0; v < classes.length; v++) {
      if (classes[v] !== t.stringClass || idom[v] === -1) continue;
      let j = -1;
      for (let e = graph.offsets[v]!; e < graph.offsets[v + 1]!; e++) {
        if (graph.slots[e] === t.valueSlot) {
          j = graph.targets[e]!;
          break;
        }
      }
      if (j < 0) continue;
      const k = this.indexOf(ids.at(j));
      const g = k < 0 ? -1 : this.groupOf[k]!;
      if (g < 0) continue;
      examined++;
      if (strings[g]!++ === 0) {
        example[g] = v;
        utf16[g] = this.utf16[k]!;
      } else waste[g]! += t.shallow(v);
      if (seen[k] === 0) {
        seen[k] = 1;
        if (arrays[g]!++ > 0) waste[g]! += t.shallow(j);
      }
    }
    let contents = 0;
    let duplicated = 0;
    let wasted = 0;
    const dups: number[] = [];
    for (let g = 0; g < groups; g++) {
      if (strings[g]! === 0) continue;
      contents++;
      if (strings[g]! < 2) continue;
      duplicated += strings[g]!;
      wasted += waste[g]!;
      dups.push(g);
    }
    dups.sort((a, b) => waste[b]! - waste[a]! || strings[b]! - strings[a]!);
    const top: DuplicateString[] = dups.slice(0, t.top).map((g) => ({
      text: this.texts.get(g) ?? '',
      length: this.chars(g, utf16[g] === 1),
      strings: strings[g]!,
      arrays: arrays[g]!,
      wastedBytes: waste[g]!,
      example: t.idHex(example[g]!),
    }));
    return { strings: examined, contents, duplicated, wastedBytes: wasted, top };
  }
}
