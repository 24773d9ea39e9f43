// A chunk-fed HPROF walker for the analysis: unlike HprofParser (verdict and histogram), it hands each
// record and heap-dump sub-record to a handler with its bytes, so the passes can read identifiers, fields and
// array elements. Object array elements are handed over as they arrive (an array may be larger than any
// buffer we want); primitive array contents are skipped unread unless the handler asks for them (then they
// arrive in pieces too). Bad input throws HeapWalkError, one line.
import { BASIC_TYPES, HPROF_MAGICS, Sub, Tag } from '../format.ts';

export class HeapWalkError extends Error {}

/** What a pass wants from the dump; every callback is optional. Buffers are valid only during the call. */
export interface WalkHandler {
  header?(idSize: 4 | 8): void;
  utf8?(id: number, buf: Buffer, start: number, end: number): void;
  loadClass?(classId: number, nameId: number, serial: number): void;
  /** A STACK FRAME or STACK TRACE record's body. */
  stack?(tag: number, buf: Buffer, start: number, end: number): void;
  /**
   * A GC root sub-record: its tag, object id, and for frame/thread roots the thread serial number and the
   * next u4 (a Java frame's depth in its stack, a thread object's stack trace serial).
   */
  root?(tag: number, id: number, threadSerial: number, second: number): void;
  /** A whole CLASS_DUMP sub-record, `start` at the byte after its tag. */
  classDump?(buf: Buffer, start: number, end: number): void;
  instance?(id: number, classId: number, buf: Buffer, fieldsStart: number, fieldBytes: number): void;
  objectArray?(id: number, classId: number, length: number): void;
  /** Elements of the object array announced last, `count` identifiers from `start` (several calls per array). */
  elements?(buf: Buffer, start: number, count: number): void;
  primitiveArray?(id: number, type: number, length: number): void;
  /** After `primitiveArray`: `true` asks for the array's contents (`bytes` calls follow, all of them). */
  wantsBytes?(id: number, type: number, length: number): boolean;
  /** Contents of the primitive array announced last, `count` bytes from `start` (several calls per array). */
  bytes?(buf: Buffer, start: number, count: number): void;
}

const TWO_32 = 4294967296;

/** A big-endian u4 the caller knows is in `buf` (by hand: readUInt32BE's range checks cost in the hot loop). */
const u32 = (buf: Buffer, p: number) =>
  ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
const MAX_RECORD = 256 * 1024 * 1024;

/** Elements a primitive array type code stands for, or undefined. */
function elementSize(type: number): number | undefined {
  const t = BASIC_TYPES.get(type);
  return t && t.size > 0 ? t.size : undefined;
}

export class HeapWalker {
  idSize: 4 | 8 = 8;
  /** Uncompressed bytes consumed. */
  offset = 0;
  sawEnd = false;
  /** The input ended inside a record. */
  cut = false;
  private readonly h: WalkHandler;
  private pending: Buffer | undefined;
  private started = false;
  private skip = 0;
  /** Bytes left in the current heap dump segment (0: between records). */
  private segmentLeft = 0;
  /** Elements left in the object array being read. */
  private elementsLeft = 0;
  /** Bytes left of the primitive array whose contents were asked for. */
  private bytesLeft = 0;

  constructor(handler: WalkHandler) {
    this.h = handler;
  }

  /**
   * An identifier at `p` (bytes read by hand: faster than readUInt32BE's checks in this loop). Kept small in
   * bytecode so the compiler inlines it and the pass's handler into the loop: a handler not inlined gets each
   * id above 2^31 as a boxed number, one allocation per id.
   */
  readId(buf: Buffer, p: number): number {
    if (this.idSize === 4) return u32(buf, p);
    const hi = u32(buf, p);
    return hi === 0 ? u32(buf, p + 4) : hi * TWO_32 + u32(buf, p + 4);
  }

  /**
   * Feeds the next bytes (the walker keeps no reference to `chunk`: a reader may reuse its buffer). An item
   * cut by the chunk's end is completed by joining its bytes with only as much of the next chunk as it needs.
   */
  push(chunk: Uint8Array): void {
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    const pending = this.pending;
    if (pending) {
      this.pending = undefined;
      let take = Math.min(buf.length, 1 << 16);
      for (;;) {
        const joined = Buffer.concat([pending, buf.subarray(0, take)]);
        // Nothing is consumed (and no handler called) until the cut item is whole.
        const used = this.run(joined, 0);
        if (used > 0) {
          this.offset += used;
          start = used - pending.length;
          break;
        }
        if (take === buf.length) {
          this.pending = joined;
          return;
        }
        take = Math.min(buf.length, take * 4);
      }
    }
    const end = this.run(buf, start);
    this.offset += end - start;
    if (end < buf.length) this.pending = Buffer.from(buf.subarray(end));
  }

  /**
   * Ends the walk. A dump cut short (no HEAP_DUMP_END, or cut inside a record) is analysed as far as it
   * goes: `cut` says so; both passes stop at the same object.
   */
  finish(): void {
    if (!this.started) throw new HeapWalkError('not an HPROF file: the header is missing or cut');
    this.cut =
      (this.pending?.length ?? 0) + this.skip + this.segmentLeft + this.elementsLeft + this.bytesLeft > 0;
  }

  /** Walks `buf` from `start`; returns where it stopped (the rest waits for more input). */
  private run(buf: Buffer, start: number): number {
    let p = start;
    if (!this.started) {
      p = this.header(buf);
      if (p === 0) return 0;
    }
    const end = buf.length;
    const id = this.idSize;
    while (p < end) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, end - p);
        this.skip -= n;
        p += n;
        continue;
      }
      if (this.bytesLeft > 0) {
        const n = Math.min(this.bytesLeft, end - p);
        this.bytesLeft -= n;
        this.h.bytes?.(buf, p, n);
        p += n;
        continue;
      }
      if (this.elementsLeft > 0) {
        const n = Math.min(this.elementsLeft, Math.floor((end - p) / id));
        if (n === 0) return p;
        this.h.elements?.(buf, p, n);
        this.elementsLeft -= n;
        p += n * id;
        continue;
      }
      const next = this.segmentLeft > 0 ? this.sub(buf, p) : this.record(buf, p);
      if (next < 0) return p;
      p = next;
    }
    return p;
  }

  private header(buf: Buffer): number {
    const magicLength = HPROF_MAGICS[0].length;
    const seen = buf.toString('latin1', 0, Math.min(buf.length, magicLength + 1));
    if (!HPROF_MAGICS.some((m) => `${m}\0`.startsWith(seen)))
      throw new HeapWalkError('not an HPROF file (no "JAVA PROFILE 1.0.x" header)');
    if (buf.length < magicLength + 13) return 0;
    const idSize = buf.readUInt32BE(magicLength + 1);
    if (idSize !== 4 && idSize !== 8) throw new HeapWalkError(`identifier size ${idSize} is not 4 or 8`);
    this.idSize = idSize;
    this.started = true;
    this.h.header?.(idSize);
    return magicLength + 13;
  }

  private where(p: number): string {
    return `at offset ${this.offset + p}`;
  }

  private record(buf: Buffer, p: number): number {
    if (buf.length - p < 9) return -1;
    const tag = buf[p]!;
    const length = buf.readUInt32BE(p + 5);
    const body = p + 9;
    if (tag === Tag.HEAP_DUMP || tag === Tag.HEAP_DUMP_SEGMENT) {
      this.segmentLeft = length;
      return body;
    }
    if (tag === Tag.HEAP_DUMP_END) {
      this.sawEnd = true;
      return body;
    }
    if (tag === Tag.UTF8 || tag === Tag.LOAD_CLASS || tag === Tag.FRAME || tag === Tag.TRACE) {
      if (length > MAX_RECORD) throw new HeapWalkError(`record of ${length} bytes ${this.where(p)}`);
      if (buf.length - body < length) return -1;
      const id = this.idSize;
      if (tag === Tag.UTF8) this.h.utf8?.(this.readId(buf, body), buf, body + id, body + length);
      else if (tag === Tag.LOAD_CLASS)
        this.h.loadClass?.(
          this.readId(buf, body + 4),
          this.readId(buf, body + 8 + id),
          buf.readUInt32BE(body),
        );
      else this.h.stack?.(tag, buf, body, body + length);
      return body + length;
    }
    if (tag > Tag.HEAP_DUMP_END || tag === 0)
      throw new HeapWalkError(`unknown record tag ${tag} ${this.where(p)}`);
    this.skip = length;
    return body;
  }

  /** One heap dump sub-record at `p`; returns the position after what it consumed, or -1 for more input. */
  private sub(buf: Buffer, p: number): number {
    const id = this.idSize;
    const avail = buf.length - p;
    const tag = buf[p]!;
    let size: number;
    switch (tag) {
      case Sub.ROOT_UNKNOWN:
      case Sub.ROOT_STICKY_CLASS:
      case Sub.ROOT_MONITOR_USED:
        size = 1 + id;
        if (avail < size) return -1;
        this.h.root?.(tag, this.readId(buf, p + 1), 0, 0);
        break;
      case Sub.ROOT_JNI_GLOBAL:
        size = 1 + 2 * id;
        if (avail < size) return -1;
        this.h.root?.(tag, this.readId(buf, p + 1), 0, 0);
        break;
      case Sub.ROOT_JNI_LOCAL:
      case Sub.ROOT_JAVA_FRAME:
      case Sub.ROOT_THREAD_OBJECT:
      case Sub.ROOT_NATIVE_STACK:
      case Sub.ROOT_THREAD_BLOCK:
        size = tag === Sub.ROOT_NATIVE_STACK || tag === Sub.ROOT_THREAD_BLOCK ? 1 + id + 4 : 1 + id + 8;
        if (avail < size) return -1;
        this.h.root?.(
          tag,
          this.readId(buf, p + 1),
          buf.readUInt32BE(p + 1 + id),
          size === 1 + id + 8 ? buf.readInt32BE(p + 5 + id) : 0,
        );
        break;
      case Sub.INSTANCE_DUMP: {
        const head = 1 + 2 * id + 8;
        if (avail < head) return -1;
        const fieldBytes = u32(buf, p + head - 4);
        size = head + fieldBytes;
        if (avail < size) return -1;
        this.h.instance?.(
          this.readId(buf, p + 1),
          this.readId(buf, p + 1 + id + 4),
          buf,
          p + head,
          fieldBytes,
        );
        break;
      }
      case Sub.OBJ_ARRAY_DUMP: {
        const head = 1 + 2 * id + 8;
        if (avail < head) return -1;
        const length = u32(buf, p + 1 + id + 4);
        this.h.objectArray?.(this.readId(buf, p + 1), this.readId(buf, p + 1 + id + 8), length);
        this.consumed(head + length * id, p);
        if (this.h.elements) this.elementsLeft = length;
        else this.skip = length * id;
        return p + head;
      }
      case Sub.PRIM_ARRAY_DUMP: {
        const head = 1 + id + 9;
        if (avail < head) return -1;
        const length = u32(buf, p + 1 + id + 4);
        const type = buf[p + head - 1]!;
        const es = elementSize(type);
        if (es === undefined)
          throw new HeapWalkError(`primitive array of unknown type ${type} ${this.where(p)}`);
        const arrayId = this.readId(buf, p + 1);
        this.h.primitiveArray?.(arrayId, type, length);
        this.consumed(head + length * es, p);
        if (this.h.wantsBytes?.(arrayId, type, length) === true) this.bytesLeft = length * es;
        else this.skip = length * es;
        return p + head;
      }
      case Sub.CLASS_DUMP: {
        size = this.classDumpSize(buf, p);
        if (size < 0) return -1;
        if (size > this.segmentLeft)
          throw new HeapWalkError(`class dump runs past its segment ${this.where(p)}`);
        this.h.classDump?.(buf, p + 1, p + size);
        break;
      }
      default:
        throw new HeapWalkError(`unknown heap dump sub-record tag ${tag} ${this.where(p)}`);
    }
    this.consumed(size, p);
    return p + size;
  }

  private consumed(size: number, p: number): void {
    if (size > this.segmentLeft) throw new HeapWalkError(`sub-record runs past its segment ${this.where(p)}`);
    this.segmentLeft -= size;
  }

  /** Length of the CLASS_DUMP at `p` (tag included), or -1 when `buf` does not hold all of it. */
  private classDumpSize(buf: Buffer, p: number): number {
    const id = this.idSize;
    const end = buf.length;
    let q = p + 1 + 7 * id + 8;
    const valueSize = (type: number) => (type === 2 ? id : (elementSize(type) ?? -1));
    if (end - q < 2) return -1;
    const cp = buf.readUInt16BE(q);
    q += 2;
    for (let i = 0; i < cp; i++) {
      if (end - q < 3) return -1;
      const s = valueSize(buf[q + 2]!);
      if (s < 0) throw new HeapWalkError(`class dump constant of unknown type ${this.where(p)}`);
      q += 3 + s;
    }
    if (end - q < 2) return -1;
    const statics = buf.readUInt16BE(q);
    q += 2;
    for (let i = 0; i < statics; i++) {
      if (end - q < id + 1) return -1;
      const s = valueSize(buf[q + id]!);
      if (s < 0) throw new HeapWalkError(`static field of unknown type ${this.where(p)}`);
      q += id + 1 + s;
    }
    if (end - q < 2) return -1;
    q += 2 + buf.readUInt16BE(q) * (id + 1);
    return q > end ? -1 : q - p;
  }
}
