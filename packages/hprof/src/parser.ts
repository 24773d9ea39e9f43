// Incremental HPROF parser: fed chunks in order, it walks records and heap-dump sub-records without ever
// holding more than one small record (a class dump, a UTF8 name) in memory; array and field contents are
// skipped, not copied. Bad input never throws: it makes the verdict `invalid` with a reason and an offset.
// What it counts goes into a HeapHistogram (histogram.ts), bounded too: a crafted dump of millions of distinct
// classes or names gets a summary that says what it left out, not an exhausted heap.
import type { Verdict } from '@kube-heapdump/contract';
import { BASIC_TYPES, HPROF_MAGICS, KNOWN_TAGS, Sub, Tag } from './format.ts';
import { HeapHistogram } from './histogram.ts';

export interface HprofHeader {
  format: string;
  idSize: 4 | 8;
  timestampMs: number;
}

export interface ParserOptions {
  /** Parse heap-dump sub-records for the class histogram (default true); false walks records only. */
  histogram?: boolean;
}

/** Per-class accumulator: instances and shallow bytes. */

const States = { HEADER: 0, RECORD: 1, BODY: 2, SUB: 3 } as const;
type State = (typeof States)[keyof typeof States];

const NEED_MORE = -1;
const MAX_BODY = 64 * 1024 * 1024;
const TWO_32 = 4294967296;
/** Milliseconds since 1970 that a Date can hold (ECMAScript's limit). */
const MAX_DATE_MS = 8.64e15;

const align8 = (n: number) => Math.ceil(n / 8) * 8;

/** Shallow size convention (see SIZE_CONVENTION): an object header of two identifiers, rounded up to 8. */
export function instanceShallowSize(idSize: number, fieldBytes: number): number {
  return align8(2 * idSize + fieldBytes);
}

/** Arrays add a 4-byte length, and their data starts 8-aligned (HotSpot up to JDK 21). */
export function arrayShallowSize(idSize: number, elementSize: number, length: number): number {
  return align8(align8(2 * idSize + 4) + elementSize * length);
}

export class HprofParser {
  header: HprofHeader | undefined;
  /** Bytes fed so far. */
  bytesSeen = 0;
  /** Top-level records fully walked. */
  records = 0;
  invalidReason: string | undefined;

  readonly histogram: boolean;
  /** What the walk counted (filled only when building the histogram; stack traces always). */
  readonly heap = new HeapHistogram();

  private state: State = States.HEADER;
  /** Absolute offset of the next byte to parse. */
  private offset = 0;
  private skip = 0;
  private carry: Buffer | undefined;
  /** Bytes the pending item needs from its start, when known. */
  private need = 0;
  private idSize: 4 | 8 = 8;
  private recordTag = 0;
  private recordLength = 0;
  private segmentEnd = 0;
  private lastTag = -1;
  private stepStart = 0;

  constructor(options: ParserOptions = {}) {
    this.histogram = options.histogram ?? true;
  }

  /** Feeds the next bytes of the dump. Never throws: an error in the walk is the verdict `invalid`. */
  push(chunk: Uint8Array): void {
    if (this.invalidReason !== undefined) return;
    try {
      this.pushChecked(chunk);
    } catch (err) {
      this.invalidReason = `the parser failed after ${this.bytesSeen} bytes: ${(err as Error).message}`;
    }
  }

  private pushChecked(chunk: Uint8Array): void {
    const input = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.bytesSeen += input.length;
    let pos = 0;
    if (this.carry) {
      pos = this.completeCarry(input);
      if (pos < 0) return;
    }
    this.run(input, pos);
  }

  /**
   * Bytes coming next that the parser discards without looking at them (a record body the walk skips): a
   * reader that knows they are in the file may pass over them with `skipUnread` instead of reading them.
   */
  get skippable(): number {
    return this.invalidReason === undefined && !this.carry ? this.skip : 0;
  }

  /** Passes over the next `n` (at most `skippable`) bytes without reading them. */
  skipUnread(n: number): void {
    if (!(n >= 0 && n <= this.skippable))
      throw new RangeError(`cannot skip ${n} bytes: ${this.skippable} are skippable`);
    this.skip -= n;
    this.offset += n;
    this.bytesSeen += n;
  }

  /** Whether the bytes fed so far are a whole dump, the start of one, or not a dump. */
  verdict(): { verdict: Verdict; reason?: string } {
    if (this.invalidReason !== undefined) return { verdict: 'invalid', reason: this.invalidReason };
    if (!this.header) {
      return {
        verdict: 'incomplete',
        reason: `only ${this.bytesSeen} bytes, the HPROF header is not complete`,
      };
    }
    const atRecord =
      this.state === States.RECORD || (this.state === States.SUB && this.offset === this.segmentEnd);
    const settled = atRecord && !this.carry && this.skip === 0;
    if (settled && this.lastTag === Tag.HEAP_DUMP_END) return { verdict: 'complete' };
    if (settled) {
      return {
        verdict: 'incomplete',
        reason: `no HEAP_DUMP_END record: the dump stops after ${this.records} records at offset ${this.offset}`,
      };
    }
    // Walking records only, a segment's body is skipped rather than parsed: same words for both modes.
    const skippingSegment =
      this.skip > 0 && (this.recordTag === Tag.HEAP_DUMP || this.recordTag === Tag.HEAP_DUMP_SEGMENT);
    const where =
      this.state === States.SUB || skippingSegment
        ? `inside a heap dump segment that should end at offset ${this.state === States.SUB ? this.segmentEnd : this.offset + this.skip}`
        : `inside a record (tag 0x${hex(this.recordTag)}) at offset ${this.offset}`;
    return { verdict: 'incomplete', reason: `the dump is cut ${where}; ${this.bytesSeen} bytes seen` };
  }

  /** Joins a pending partial item with the start of `input`; returns where to continue in `input`, or -1. */
  private completeCarry(input: Buffer): number {
    const carry = this.carry!;
    let take = Math.min(input.length, this.need > carry.length ? this.need - carry.length : 4096);
    for (;;) {
      const joined = Buffer.concat([carry, input.subarray(0, take)]);
      this.carry = undefined;
      const next = this.step(joined, 0);
      if (this.invalidReason !== undefined) return -1;
      if (next !== NEED_MORE) {
        this.offset += next;
        // A skip that started inside `joined` continues into `input` after the bytes we joined.
        return next - carry.length;
      }
      if (take === input.length) {
        this.carry = joined;
        return -1;
      }
      take = Math.min(input.length, Math.max(take * 2, this.need - carry.length));
    }
  }

  private run(buf: Buffer, start: number): void {
    let pos = start;
    const end = buf.length;
    while (pos < end) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, end - pos);
        pos += n;
        this.skip -= n;
        this.offset += n;
        continue;
      }
      const next = this.step(buf, pos);
      if (this.invalidReason !== undefined) return;
      if (next === NEED_MORE) {
        this.carry = Buffer.from(buf.subarray(pos));
        return;
      }
      this.offset += next - pos;
      pos = next;
    }
  }

  private fail(reason: string, at: number): number {
    this.invalidReason = `${reason} at offset ${at}`;
    return NEED_MORE;
  }

  private readId(buf: Buffer, p: number): number {
    return this.idSize === 8 ? buf.readUInt32BE(p) * TWO_32 + buf.readUInt32BE(p + 4) : buf.readUInt32BE(p);
  }

  /** Parses one item at `p`; returns the position after it, or NEED_MORE. Sets `skip` for bulk content. */
  private step(buf: Buffer, p: number): number {
    this.stepStart = p;
    switch (this.state) {
      case States.HEADER:
        return this.parseHeader(buf, p);
      case States.RECORD:
        return this.parseRecordHeader(buf, p);
      case States.BODY:
        return this.parseBody(buf, p);
      default:
        return this.parseSub(buf, p);
    }
  }

  private parseHeader(buf: Buffer, p: number): number {
    // Compared byte by byte, so the verdict and its offset do not depend on how the input is chunked.
    const magicLength = HPROF_MAGICS[0].length;
    const avail = Math.min(buf.length - p, magicLength + 1);
    for (let i = 0; i < avail; i++) {
      const b = buf[p + i]!;
      const ok = i === magicLength ? b === 0 : HPROF_MAGICS.some((m) => m.charCodeAt(i) === b);
      if (!ok) {
        const seen = printable(buf.toString('latin1', p, p + i + 1));
        return this.fail(`not an HPROF file: it begins "${seen}", not "${HPROF_MAGICS.join('" or "')}"`, i);
      }
    }
    if (avail < magicLength + 1) return this.needMore(magicLength + 13);
    const magicEnd = p + magicLength;
    const magic = buf.toString('latin1', p, magicEnd);
    const after = magicEnd + 1;
    if (buf.length - after < 12) return this.needMore(after - p + 12);
    const idSize = buf.readUInt32BE(after);
    if (idSize !== 4 && idSize !== 8) return this.fail(`identifier size ${idSize} is not 4 or 8`, after);
    const timestampMs = buf.readUInt32BE(after + 4) * TWO_32 + buf.readUInt32BE(after + 8);
    if (timestampMs > MAX_DATE_MS)
      return this.fail(`header timestamp ${timestampMs} ms is not a date`, after + 4);
    this.idSize = idSize;
    this.header = { format: magic, idSize, timestampMs };
    this.state = States.RECORD;
    return after + 12;
  }

  private parseRecordHeader(buf: Buffer, p: number): number {
    if (buf.length - p < 9) return this.needMore(9);
    const tag = buf[p]!;
    const length = buf.readUInt32BE(p + 5);
    if (!KNOWN_TAGS.has(tag)) return this.fail(`unknown record tag 0x${hex(tag)}`, this.absolute(p));
    this.recordTag = tag;
    this.recordLength = length;
    this.lastTag = tag;
    this.records++;
    if (tag === Tag.HEAP_DUMP_END && length !== 0) {
      return this.fail(`HEAP_DUMP_END record with length ${length}`, this.absolute(p));
    }
    if (tag === Tag.HEAP_DUMP || tag === Tag.HEAP_DUMP_SEGMENT) {
      if (this.histogram) {
        this.segmentEnd = this.absolute(p) + 9 + length;
        this.state = length === 0 ? States.RECORD : States.SUB;
      } else {
        this.skip = length;
      }
      return p + 9;
    }
    const wanted =
      this.histogram &&
      (tag === Tag.UTF8 || tag === Tag.LOAD_CLASS || tag === Tag.TRACE || tag === Tag.START_THREAD);
    if (wanted) {
      if (length > MAX_BODY)
        return this.fail(`record (tag 0x${hex(tag)}) of ${length} bytes`, this.absolute(p));
      this.state = States.BODY;
    } else {
      this.skip = length;
    }
    return p + 9;
  }

  /** Absolute offset of `p`: `this.offset` is where the current step started, at `stepStart`. */
  private absolute(p: number): number {
    return this.offset + (p - this.stepStart);
  }

  private parseBody(buf: Buffer, p: number): number {
    const length = this.recordLength;
    if (buf.length - p < length) return this.needMore(length);
    const id = this.idSize;
    switch (this.recordTag) {
      case Tag.UTF8:
        if (length < id) return this.fail('UTF8 record shorter than an identifier', this.absolute(p));
        this.heap.addName(this.readId(buf, p), length - id, () => buf.toString('utf8', p + id, p + length));
        break;
      case Tag.LOAD_CLASS:
        if (length < 8 + 2 * id) return this.fail('LOAD_CLASS record too short', this.absolute(p));
        this.heap.addClassName(this.readId(buf, p + 4), this.readId(buf, p + 8 + id));
        break;
      case Tag.TRACE:
        this.heap.addStackTrace();
        break;
      case Tag.START_THREAD:
        break;
    }
    this.state = States.RECORD;
    return p + length;
  }

  private parseSub(buf: Buffer, p: number): number {
    const here = this.absolute(p);
    if (here === this.segmentEnd) {
      this.state = States.RECORD;
      return this.parseRecordHeader(buf, p);
    }
    const id = this.idSize;
    const avail = buf.length - p;
    const tag = buf[p]!;
    let fixed: number;
    switch (tag) {
      case Sub.ROOT_UNKNOWN:
      case Sub.ROOT_STICKY_CLASS:
      case Sub.ROOT_MONITOR_USED:
        fixed = 1 + id;
        break;
      case Sub.ROOT_JNI_GLOBAL:
        fixed = 1 + 2 * id;
        break;
      case Sub.ROOT_JNI_LOCAL:
      case Sub.ROOT_JAVA_FRAME:
      case Sub.ROOT_THREAD_OBJECT:
        fixed = 1 + id + 8;
        break;
      case Sub.ROOT_NATIVE_STACK:
      case Sub.ROOT_THREAD_BLOCK:
        fixed = 1 + id + 4;
        break;
      case Sub.INSTANCE_DUMP:
        return this.parseInstance(buf, p, avail, here);
      case Sub.OBJ_ARRAY_DUMP:
        return this.parseObjectArray(buf, p, avail, here);
      case Sub.PRIM_ARRAY_DUMP:
        return this.parsePrimitiveArray(buf, p, avail, here);
      case Sub.CLASS_DUMP:
        return this.parseClassDump(buf, p, here);
      default:
        return this.fail(`unknown heap dump sub-record tag 0x${hex(tag)}`, here);
    }
    if (avail < fixed) return this.needMore(fixed);
    if (here + fixed > this.segmentEnd) return this.crossesSegment(here);
    this.heap.addRoot(tag === Sub.ROOT_THREAD_OBJECT);
    return p + fixed;
  }

  private crossesSegment(at: number): number {
    return this.fail(`heap dump sub-record runs past its segment end ${this.segmentEnd}`, at);
  }

  /** Moves past `n` content bytes from `p`, skipping what is not in this buffer yet. */
  private advance(buf: Buffer, p: number, n: number, here: number, headerSize: number): number {
    if (here + headerSize + n > this.segmentEnd) return this.crossesSegment(here);
    const end = p + headerSize + n;
    if (end <= buf.length) return end;
    this.skip = end - buf.length;
    return buf.length;
  }

  private parseInstance(buf: Buffer, p: number, avail: number, here: number): number {
    const id = this.idSize;
    const headerSize = 1 + 2 * id + 8;
    if (avail < headerSize) return this.needMore(headerSize);
    const classId = this.readId(buf, p + 1 + id + 4);
    const fieldBytes = buf.readUInt32BE(p + 1 + 2 * id + 4);
    this.heap.addInstance(classId, instanceShallowSize(id, fieldBytes));
    return this.advance(buf, p, fieldBytes, here, headerSize);
  }

  private parseObjectArray(buf: Buffer, p: number, avail: number, here: number): number {
    const id = this.idSize;
    const headerSize = 1 + 2 * id + 8;
    if (avail < headerSize) return this.needMore(headerSize);
    const length = buf.readUInt32BE(p + 1 + id + 4);
    const classId = this.readId(buf, p + 1 + id + 8);
    const bytes = arrayShallowSize(id, id, length);
    this.heap.addObjectArray(classId, length, bytes);
    return this.advance(buf, p, length * id, here, headerSize);
  }

  private parsePrimitiveArray(buf: Buffer, p: number, avail: number, here: number): number {
    const id = this.idSize;
    const headerSize = 1 + id + 9;
    if (avail < headerSize) return this.needMore(headerSize);
    const length = buf.readUInt32BE(p + 1 + id + 4);
    const type = buf[p + 1 + id + 8]!;
    const elementSize = BASIC_TYPES.get(type)?.size;
    if (!elementSize) return this.fail(`primitive array of unknown element type ${type}`, here);
    const bytes = arrayShallowSize(id, elementSize, length);
    this.heap.addPrimitiveArray(type, length, bytes);
    return this.advance(buf, p, length * elementSize, here, headerSize);
  }

  private parseClassDump(buf: Buffer, p: number, here: number): number {
    const id = this.idSize;
    const end = buf.length;
    let q = p + 1;
    const fixed = 7 * id + 8 + 2;
    if (end - q < fixed) return this.needMore(1 + fixed);
    const classId = this.readId(buf, q);
    const superId = this.readId(buf, q + id + 4);
    const instanceSize = buf.readUInt32BE(q + 7 * id + 4);
    q += fixed - 2;
    const valueSize = (type: number) => (type === 2 ? id : (BASIC_TYPES.get(type)?.size ?? -1));
    // constant pool: u2 count, then (u2 index, u1 type, value)
    const cpCount = buf.readUInt16BE(q);
    q += 2;
    for (let i = 0; i < cpCount; i++) {
      if (end - q < 3) return this.needMore(q - p + 3);
      const size = valueSize(buf[q + 2]!);
      if (size < 0) return this.fail(`class dump constant of unknown type ${buf[q + 2]}`, here);
      q += 3 + size;
    }
    if (end - q < 2) return this.needMore(q - p + 2);
    const staticCount = buf.readUInt16BE(q);
    q += 2;
    let staticBytes = 0;
    for (let i = 0; i < staticCount; i++) {
      if (end - q < id + 1) return this.needMore(q - p + id + 1);
      const size = valueSize(buf[q + id]!);
      if (size < 0) return this.fail(`static field of unknown type ${buf[q + id]}`, here);
      staticBytes += size;
      q += id + 1 + size;
    }
    if (end - q < 2) return this.needMore(q - p + 2);
    const fieldCount = buf.readUInt16BE(q);
    q += 2 + fieldCount * (id + 1);
    if (q > end) return this.needMore(q - p);
    if (here + (q - p) > this.segmentEnd) return this.crossesSegment(here);
    this.heap.addClassDump(
      classId,
      { superId, instanceSize, staticBytes },
      instanceShallowSize(id, staticBytes),
    );
    return q;
  }

  private needMore(total: number): number {
    this.need = total;
    return NEED_MORE;
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 40);
}
