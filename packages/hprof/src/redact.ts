// Redaction of a heap dump while it streams: fed the dump's bytes in order, it overwrites in place the values
// that hold an application's data, so the output has exactly the input's size and layout (offsets, records,
// ids, lengths, class and field names, stack traces unchanged; the verdict, class histogram and largest arrays
// too). `strings`: the contents of every byte[] and char[] become '*' (char[]: UTF-16 '*'), and every
// java.lang.String's coder (LATIN1, as the stars are), hash and hashIsZero are zeroed, so viewers show ****.
// `primitives`: every primitive array element and every primitive instance, static and constant value is
// zeroed. Both: symbols (UTF8 records) that are not names are blanked whole with '*' (same length), because
// HotSpot writes every symbol, the code's string literals included ("password=...", JDBC URLs): every symbol
// but `keepSymbols` (the ids that LOAD_CLASS, FRAME and CLASS_DUMP records use: SymbolUses, a walk that stops
// where HotSpot has written every name use, a few MB in, so a streaming reader can look that far ahead).
// Only record and sub-record headers are gathered across chunk boundaries (they are never changed), so every
// byte is final when `push` returns. Where the input stops being HPROF, everything after is zeroed.
import type { RedactMode } from '@kube-heapdump/contract';
import { BASIC_TYPES, HPROF_MAGICS, KNOWN_TAGS, Sub, Tag } from './format.ts';

/** The redactions there are (REDACT_MODES but `none`). */
export type ActiveRedactMode = Exclude<RedactMode, 'none'>;

const PASS = 0;
const ZERO = 1;
const STAR1 = 2;
const STAR2 = 3;
type Edit = typeof PASS | typeof ZERO | typeof STAR1 | typeof STAR2;

/** What the next gathered bytes are. */
const I = {
  FILE_HEADER: 0,
  RECORD: 1,
  UTF8_ID: 2,
  LOAD_CLASS: 3,
  SUB: 4,
  CD_CONSTANT: 5,
  CD_STATIC_COUNT: 6,
  CD_STATIC: 7,
  CD_FIELD_COUNT: 8,
  CD_FIELDS: 9,
} as const;
type Item = (typeof I)[keyof typeof I];

const HEADER_BYTES = HPROF_MAGICS[0].length + 1 + 12;
const TWO_32 = 4294967296;
/** java.lang.String's fields that a redacted value would contradict. */
const STRING_FIELDS = new Set(['coder', 'hash', 'hashIsZero']);
const STRING_CLASS = 'java/lang/String';
const LONGEST_WANTED_NAME = 32;
const STAR_EVEN = Buffer.from([0x00, 0x2a]);
const STAR_ODD = Buffer.from([0x2a, 0x00]);

export interface RedactorOptions {
  /** Ids of the symbols the dump's records use as names (SymbolUses); every other symbol is blanked whole. */
  keepSymbols: ReadonlySet<number>;
}

interface ClassLayout {
  superId: number;
  types: Uint8Array;
  names: number[];
}

/** Field runs of an instance: [length, edit, length, edit, ...] in field order, class first, then supers. */
interface InstanceRuns {
  runs: number[];
  bytes: number;
}

export class HprofRedactor {
  readonly mode: ActiveRedactMode;
  /** Why the input stopped being HPROF (everything after that point was zeroed). */
  failure: string | undefined;

  private idSize = 8;
  /** Absolute offset of the current push's first byte. */
  private base = 0;
  private item: Item = I.FILE_HEADER;
  private need = HEADER_BYTES;
  private have = 0;
  private scratch = Buffer.allocUnsafe(4096);
  /** Bytes left in the current run, its edit, and its length (char stars alternate within it). */
  private left = 0;
  private edit: Edit = PASS;
  private runLength = 0;
  private runs: number[] | undefined;
  private runIndex = 0;
  /** What comes after the current run. */
  private after: Item = I.RECORD;
  private afterNeed = 9;
  private segmentEnd = 0;

  private readonly layouts = new Map<number, ClassLayout>();
  private readonly runsOf = new Map<number, InstanceRuns | null>();
  private readonly wantedNames = new Map<number, string>();
  private stringNameId = Number.NaN;
  private stringClassId = Number.NaN;
  private readonly keepSymbols: ReadonlySet<number>;
  private recordLength = 0;
  /** A short symbol's id and original text, gathered as it passes (java.lang.String and its field names). */
  private symbol: { id: number; text: Buffer } | undefined;
  /** The class dump being read. */
  private cd = { classId: 0, superId: 0, left: 0 };

  constructor(mode: ActiveRedactMode, options: RedactorOptions) {
    this.mode = mode;
    this.keepSymbols = options.keepSymbols;
  }

  /** Redacts the next bytes of the dump in place. */
  push(buf: Buffer): void {
    const end = buf.length;
    let p = 0;
    if (this.failure !== undefined) {
      buf.fill(0);
      this.base += end;
      return;
    }
    while (p < end) {
      if (this.left > 0) {
        const n = Math.min(this.left, end - p);
        if (this.symbol) buf.copy(this.symbol.text, this.runLength - this.left, p, p + n);
        if (this.edit !== PASS) this.apply(buf, p, n);
        p += n;
        this.left -= n;
        if (this.left === 0) this.nextRun();
        continue;
      }
      if (this.have === 0 && this.item === I.SUB) {
        p = this.wholeSubs(buf, p, end);
        if (p === end) break;
      }
      const start = p;
      if (this.have === 0) {
        if (this.item === I.SUB) {
          if (this.base + p === this.segmentEnd) {
            this.item = I.RECORD;
            this.need = 9;
            continue;
          }
          const need = this.subHeaderSize(buf[p]!);
          if (need < 0) {
            this.fail(buf, p, `unknown heap dump sub-record tag 0x${hex(buf[p]!)}`);
            return;
          }
          this.need = need;
        }
        if (end - p >= this.need) {
          p += this.need;
          if (!this.handle(buf, start, this.base + start)) {
            this.fail(buf, start, this.failure!);
            return;
          }
          continue;
        }
      }
      const n = Math.min(this.need - this.have, end - p);
      // A short file that is not a dump must not pass as the start of a header still to come.
      if (this.item === I.FILE_HEADER && !this.magicSoFar(buf, p, n)) {
        this.fail(buf, p, 'not an HPROF file at offset 0');
        return;
      }
      if (this.scratch.length < this.need) {
        const bigger = Buffer.allocUnsafe(Math.max(this.need, this.scratch.length * 2));
        this.scratch.copy(bigger, 0, 0, this.have);
        this.scratch = bigger;
      }
      buf.copy(this.scratch, this.have, p, p + n);
      this.have += n;
      p += n;
      if (this.have < this.need) break;
      const itemStart = this.base + p - this.need;
      this.have = 0;
      if (!this.handle(this.scratch, 0, itemStart)) {
        this.fail(buf, p, this.failure!);
        return;
      }
    }
    this.base += end;
  }

  /**
   * The fast path: redacts the sub-records that lie whole in `buf` from `p` (most of a dump), without the
   * general state machine; returns where the first one that does not (or a class dump, or the segment's end) is.
   */
  private wholeSubs(buf: Buffer, p: number, end: number): number {
    const id = this.idSize;
    const limit = Math.min(end, this.segmentEnd - this.base);
    const strings = this.mode === 'strings';
    const instanceHeader = 1 + 2 * id + 8;
    const arrayHeader = 1 + id + 9;
    while (p < limit) {
      const tag = buf[p]!;
      if (tag === Sub.INSTANCE_DUMP) {
        if (p + instanceHeader > limit) break;
        const fieldBytes = buf.readUInt32BE(p + instanceHeader - 4);
        const q = p + instanceHeader + fieldBytes;
        if (q > limit) break;
        const at = p + 1 + id + 4;
        const classId =
          id === 8 ? buf.readUInt32BE(at) * TWO_32 + buf.readUInt32BE(at + 4) : buf.readUInt32BE(at);
        if (!strings || classId === this.stringClassId) {
          const r = this.instanceRuns(classId);
          if (r && r.bytes === fieldBytes) {
            const runs = r.runs;
            let f = p + instanceHeader;
            for (let i = 0; i < runs.length; i += 2) {
              const n = runs[i]!;
              if (runs[i + 1] === ZERO) fill(buf, 0, f, f + n);
              f += n;
            }
          } else if (!strings) {
            fill(buf, 0, p + instanceHeader, q);
          }
        }
        p = q;
      } else if (tag === Sub.PRIM_ARRAY_DUMP) {
        if (p + arrayHeader > limit) break;
        const type = buf[p + arrayHeader - 1]!;
        const size = BASIC_TYPES.get(type)?.size;
        if (!size) break;
        const start = p + arrayHeader;
        const q = start + buf.readUInt32BE(p + 1 + id + 4) * size;
        if (q > limit) break;
        if (!strings) fill(buf, 0, start, q);
        else if (type === 8) fill(buf, 0x2a, start, q);
        else if (type === 5) stars16(buf, start, q);
        p = q;
      } else if (tag === Sub.OBJ_ARRAY_DUMP) {
        if (p + instanceHeader > limit) break;
        const q = p + instanceHeader + buf.readUInt32BE(p + 1 + id + 4) * id;
        if (q > limit) break;
        p = q;
      } else {
        if (tag === Sub.CLASS_DUMP) break;
        const size = this.subHeaderSize(tag);
        if (size < 0 || p + size > limit) break;
        p += size;
      }
    }
    return p;
  }

  /** Whether `n` header bytes at `buf[p]`, following the `have` gathered, still begin an HPROF magic. */
  private magicSoFar(buf: Buffer, p: number, n: number): boolean {
    const length = HPROF_MAGICS[0].length;
    for (let i = 0; i < n; i++) {
      const k = this.have + i;
      if (k > length) return true;
      const b = buf[p + i]!;
      if (k === length ? b !== 0 : !HPROF_MAGICS.some((m) => m.charCodeAt(k) === b)) return false;
    }
    return true;
  }

  private apply(buf: Buffer, p: number, n: number): void {
    if (this.edit === ZERO) buf.fill(0, p, p + n);
    else if (this.edit === STAR1) buf.fill(0x2a, p, p + n);
    else buf.fill((this.runLength - this.left) % 2 === 0 ? STAR_EVEN : STAR_ODD, p, p + n);
  }

  /** Zeroes from `p` on, and everything pushed later. */
  private fail(buf: Buffer, p: number, reason: string): void {
    this.failure ??= reason;
    buf.fill(0, p);
    this.base += buf.length;
  }

  private invalid(reason: string, at: number): false {
    this.failure = `${reason} at offset ${at}`;
    return false;
  }

  private run(length: number, edit: Edit, after: Item, afterNeed: number): void {
    this.after = after;
    this.afterNeed = afterNeed;
    this.runs = undefined;
    this.startRun(length, edit);
  }

  private startRun(length: number, edit: Edit): void {
    this.left = length;
    this.runLength = length;
    this.edit = edit;
    if (length === 0) this.nextRun();
  }

  private nextRun(): void {
    const runs = this.runs;
    if (runs && this.runIndex < runs.length) {
      const i = this.runIndex;
      this.runIndex += 2;
      this.startRun(runs[i]!, runs[i + 1] as Edit);
      return;
    }
    this.runs = undefined;
    this.item = this.after;
    this.need = this.afterNeed;
    if (this.symbol) this.symbolRead(this.symbol.id, this.symbol.text.toString('latin1'));
  }

  /** A short symbol's original text: java.lang.String's name and the field names its redaction needs. */
  private symbolRead(nameId: number, text: string): void {
    this.symbol = undefined;
    if (text === STRING_CLASS) this.stringNameId = nameId;
    else if (STRING_FIELDS.has(text)) this.wantedNames.set(nameId, text);
  }

  private readId(b: Buffer, p: number): number {
    return this.idSize === 8 ? b.readUInt32BE(p) * TWO_32 + b.readUInt32BE(p + 4) : b.readUInt32BE(p);
  }

  private valueSize(type: number): number {
    return type === 2 ? this.idSize : (BASIC_TYPES.get(type)?.size ?? -1);
  }

  private subHeaderSize(tag: number): number {
    const id = this.idSize;
    switch (tag) {
      case Sub.ROOT_UNKNOWN:
      case Sub.ROOT_STICKY_CLASS:
      case Sub.ROOT_MONITOR_USED:
        return 1 + id;
      case Sub.ROOT_JNI_GLOBAL:
        return 1 + 2 * id;
      case Sub.ROOT_JNI_LOCAL:
      case Sub.ROOT_JAVA_FRAME:
      case Sub.ROOT_THREAD_OBJECT:
        return 1 + id + 8;
      case Sub.ROOT_NATIVE_STACK:
      case Sub.ROOT_THREAD_BLOCK:
        return 1 + id + 4;
      case Sub.INSTANCE_DUMP:
      case Sub.OBJ_ARRAY_DUMP:
        return 1 + 2 * id + 8;
      case Sub.PRIM_ARRAY_DUMP:
        return 1 + id + 9;
      case Sub.CLASS_DUMP:
        return 1 + 7 * id + 8 + 2;
      default:
        return -1;
    }
  }

  /** Handles the gathered item at `b[p]` (absolute offset `at`); false when the input is not HPROF. */
  private handle(b: Buffer, p: number, at: number): boolean {
    const id = this.idSize;
    switch (this.item) {
      case I.FILE_HEADER: {
        const magic = b.toString('latin1', p, p + HPROF_MAGICS[0].length);
        if (!(HPROF_MAGICS as readonly string[]).includes(magic) || b[p + magic.length] !== 0)
          return this.invalid('not an HPROF file', 0);
        const size = b.readUInt32BE(p + magic.length + 1);
        if (size !== 4 && size !== 8) return this.invalid(`identifier size ${size} is not 4 or 8`, at);
        this.idSize = size;
        this.item = I.RECORD;
        this.need = 9;
        return true;
      }
      case I.RECORD:
        return this.record(b, p, at);
      case I.UTF8_ID: {
        const nameId = this.readId(b, p);
        const textLength = this.recordLength - id;
        const edit = this.keepSymbols.has(nameId) ? PASS : STAR1;
        if (this.mode === 'strings' && textLength <= LONGEST_WANTED_NAME)
          this.symbol = { id: nameId, text: Buffer.alloc(textLength) };
        this.run(textLength, edit, I.RECORD, 9);
        return true;
      }
      case I.LOAD_CLASS:
        if (this.readId(b, p + 8 + id) === this.stringNameId) this.stringClassId = this.readId(b, p + 4);
        this.item = I.RECORD;
        this.need = 9;
        return true;
      case I.SUB:
        return this.sub(b, p, at);
      case I.CD_CONSTANT:
        return this.value(b[p + 2]!, at, I.CD_CONSTANT, 3);
      case I.CD_STATIC_COUNT:
        this.cd.left = b.readUInt16BE(p);
        return this.nextStatic();
      case I.CD_STATIC:
        return this.value(b[p + id]!, at, I.CD_STATIC, id + 1);
      case I.CD_FIELD_COUNT: {
        const count = b.readUInt16BE(p);
        this.item = I.CD_FIELDS;
        this.need = count * (id + 1);
        if (count === 0) return this.fields(b, p, at);
        return true;
      }
      case I.CD_FIELDS:
        return this.fields(b, p, at);
    }
  }

  private record(b: Buffer, p: number, at: number): boolean {
    const tag = b[p]!;
    const length = b.readUInt32BE(p + 5);
    if (!KNOWN_TAGS.has(tag)) return this.invalid(`unknown record tag 0x${hex(tag)}`, at);
    const id = this.idSize;
    if (tag === Tag.HEAP_DUMP || tag === Tag.HEAP_DUMP_SEGMENT) {
      this.segmentEnd = at + 9 + length;
      this.item = length === 0 ? I.RECORD : I.SUB;
      this.need = 9;
      return true;
    }
    if (tag === Tag.UTF8 && length >= id) {
      this.item = I.UTF8_ID;
      this.need = id;
      this.recordLength = length;
      return true;
    }
    if (this.mode === 'strings' && tag === Tag.LOAD_CLASS && length === 8 + 2 * id) {
      this.item = I.LOAD_CLASS;
      this.need = length;
      return true;
    }
    this.run(length, PASS, I.RECORD, 9);
    return true;
  }

  private sub(b: Buffer, p: number, at: number): boolean {
    const id = this.idSize;
    const tag = b[p]!;
    let content = 0;
    if (tag === Sub.INSTANCE_DUMP) content = b.readUInt32BE(p + 1 + 2 * id + 4);
    else if (tag === Sub.OBJ_ARRAY_DUMP) content = b.readUInt32BE(p + 1 + id + 4) * id;
    else if (tag === Sub.PRIM_ARRAY_DUMP) {
      const size = BASIC_TYPES.get(b[p + 1 + id + 8]!)?.size;
      if (!size) return this.invalid(`primitive array of unknown element type ${b[p + 1 + id + 8]}`, at);
      content = b.readUInt32BE(p + 1 + id + 4) * size;
    }
    if (at + this.need + content > this.segmentEnd)
      return this.invalid(`heap dump sub-record runs past its segment end ${this.segmentEnd}`, at);
    switch (tag) {
      case Sub.INSTANCE_DUMP: {
        const r = this.instanceRuns(this.readId(b, p + 1 + id + 4));
        if (r && r.bytes === content) {
          this.after = I.SUB;
          this.runs = r.runs;
          this.runIndex = 0;
          this.nextRun();
        } else {
          // Not the layout its class dump gives (or none seen yet): primitives cannot tell values from
          // references there, so the whole instance is zeroed.
          this.run(content, this.mode === 'primitives' ? ZERO : PASS, I.SUB, 0);
        }
        return true;
      }
      case Sub.OBJ_ARRAY_DUMP:
        this.run(content, PASS, I.SUB, 0);
        return true;
      case Sub.PRIM_ARRAY_DUMP: {
        const type = b[p + 1 + id + 8]!;
        const edit = this.mode === 'primitives' ? ZERO : type === 8 ? STAR1 : type === 5 ? STAR2 : PASS;
        this.run(content, edit, I.SUB, 0);
        return true;
      }
      case Sub.CLASS_DUMP:
        this.cd = { classId: this.readId(b, p + 1), superId: this.readId(b, p + 1 + id + 4), left: 0 };
        this.cd.left = b.readUInt16BE(p + this.need - 2);
        return this.nextConstant();
      default:
        this.item = I.SUB; // a GC root: nothing to redact
        return true;
    }
  }

  private nextConstant(): boolean {
    if (this.cd.left > 0) {
      this.item = I.CD_CONSTANT;
      this.need = 3;
    } else {
      this.item = I.CD_STATIC_COUNT;
      this.need = 2;
    }
    return true;
  }

  private nextStatic(): boolean {
    if (this.cd.left > 0) {
      this.item = I.CD_STATIC;
      this.need = this.idSize + 1;
    } else {
      this.item = I.CD_FIELD_COUNT;
      this.need = 2;
    }
    return true;
  }

  /** A constant or static value of `type` follows: zeroed unless a reference (primitives only). */
  private value(type: number, at: number, item: Item, need: number): boolean {
    const size = this.valueSize(type);
    if (size < 0) return this.invalid(`class dump value of unknown type ${type}`, at);
    const edit = this.mode === 'primitives' && type !== 2 ? ZERO : PASS;
    this.cd.left--;
    if (this.cd.left > 0) this.run(size, edit, item, need);
    else this.run(size, edit, item === I.CD_CONSTANT ? I.CD_STATIC_COUNT : I.CD_FIELD_COUNT, 2);
    return true;
  }

  private fields(b: Buffer, p: number, at: number): boolean {
    const id = this.idSize;
    const count = this.need / (id + 1);
    const types = new Uint8Array(count);
    const names: number[] = [];
    for (let i = 0; i < count; i++) {
      const q = p + i * (id + 1);
      types[i] = b[q + id]!;
      if (this.valueSize(types[i]!) < 0) return this.invalid(`field of unknown type ${types[i]}`, at);
      if (this.mode === 'strings') names.push(this.readId(b, q));
    }
    this.layouts.set(this.cd.classId, { superId: this.cd.superId, types, names });
    this.runsOf.clear(); // a class seen late may complete layouts computed without it
    if (at + this.need > this.segmentEnd)
      return this.invalid(`heap dump sub-record runs past its segment end ${this.segmentEnd}`, at);
    this.item = I.SUB;
    return true;
  }

  /**
   * The edits of an instance of `classId`, or null when its layout is unknown (or, for `strings`, when it is
   * not a java.lang.String: it passes unchanged).
   */
  private instanceRuns(classId: number): InstanceRuns | null {
    const stringOnly = this.mode === 'strings';
    const isString = classId === this.stringClassId;
    if (stringOnly && !isString) return null;
    const cached = this.runsOf.get(classId);
    if (cached !== undefined) return cached;
    const runs: number[] = [];
    let bytes = 0;
    let known = true;
    for (let c = classId; c !== 0; ) {
      const layout = this.layouts.get(c);
      if (!layout) {
        known = false;
        break;
      }
      for (let i = 0; i < layout.types.length; i++) {
        const type = layout.types[i]!;
        const size = this.valueSize(type);
        const edit = stringOnly
          ? STRING_FIELDS.has(this.wantedNames.get(layout.names[i]!) ?? '')
            ? ZERO
            : PASS
          : type === 2
            ? PASS
            : ZERO;
        bytes += size;
        if (runs.length > 0 && runs.at(-1) === edit) runs[runs.length - 2]! += size;
        else runs.push(size, edit);
      }
      c = layout.superId;
    }
    if (!known) return null;
    const r = { runs, bytes };
    this.runsOf.set(classId, r);
    return r;
  }
}

/** Buffer.fill, with a loop for the few bytes of a field or a short array (a native call costs more there). */
function fill(buf: Buffer, value: number, start: number, end: number): void {
  if (end - start > 64) buf.fill(value, start, end);
  else for (let k = start; k < end; k++) buf[k] = value;
}

/** UTF-16BE '*' from `start` (a char[]'s first element) to `end`. */
function stars16(buf: Buffer, start: number, end: number): void {
  if (end - start > 64) buf.fill(STAR_EVEN, start, end);
  else
    for (let k = start; k < end; k += 2) {
      buf[k] = 0;
      buf[k + 1] = 0x2a;
    }
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
