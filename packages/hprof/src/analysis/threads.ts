// Threads with their stacks: HPROF's STACK TRACE (one per thread, its frames' ids) and STACK FRAME records
// (method, source file, line), ROOT_THREAD_OBJECT (thread object, serial, trace) and ROOT_JAVA_FRAME /
// ROOT_JNI_LOCAL (an object a frame at some depth holds). As in MAT, what a stack holds is referenced by the
// thread object, so a thread retains what only its stack keeps alive; its name is its `name` String's text.
import type { ObjectSummary, ThreadStack } from '@kube-heapdump/contract';
import { readableClassName, Tag } from '../format.ts';
import type { StringContents } from './strings.ts';

export interface Local {
  id: number;
  tag: number;
  /** Depth of the frame in its thread's stack (0: the top), -1 when unknown. */
  depth: number;
  /** Object index, filled by pass 2 (-1: not in the dump). */
  index: number;
}

export interface ThreadInfo {
  id: number;
  /** Its stack trace's frames, top first, as text. */
  frames: { method: string; location: string }[];
  locals: Local[];
  /** The value array of its name, 0 when unknown. */
  nameValue: number;
  /** Object index, filled by pass 2. */
  index: number;
}

interface Frame {
  method: number;
  source: number;
  classSerial: number;
  line: number;
}

/** Pass 1's stack records, kept by identifier until the threads are known. */
export class StackRecords {
  private readonly frames = new Map<number, Frame>();
  private readonly traces = new Map<number, number[]>();
  private readonly classBySerial = new Map<number, number>();

  loadClass(serial: number, classId: number): void {
    this.classBySerial.set(serial, classId);
  }

  record(
    tag: number,
    buf: Buffer,
    start: number,
    end: number,
    readId: (p: number) => number,
    id: number,
  ): void {
    if (tag === Tag.FRAME) {
      if (end - start < 4 * id + 8) return;
      this.frames.set(readId(start), {
        method: readId(start + id),
        source: readId(start + 3 * id),
        classSerial: buf.readUInt32BE(start + 4 * id),
        line: buf.readInt32BE(start + 4 * id + 4),
      });
      return;
    }
    if (end - start < 12) return;
    const count = Math.min(buf.readUInt32BE(start + 8), Math.floor((end - start - 12) / id));
    const ids: number[] = [];
    for (let k = 0; k < count; k++) ids.push(readId(start + 12 + k * id));
    this.traces.set(buf.readUInt32BE(start), ids);
  }

  /** Trace `serial`'s frames as text, class names through LOAD_CLASS and UTF8. */
  framesOf(
    serial: number,
    strings: ReadonlyMap<number, string>,
    classNameId: (classId: number) => number | undefined,
  ): { method: string; location: string }[] {
    const text = (id: number) => strings.get(id) ?? '?';
    return (this.traces.get(serial) ?? []).map((frameId) => {
      const f = this.frames.get(frameId);
      if (!f) return { method: '?', location: '' };
      const classId = this.classBySerial.get(f.classSerial);
      const nameId = classId === undefined ? undefined : classNameId(classId);
      const owner = nameId === undefined ? '?' : readableClassName(text(nameId));
      const source = f.source === 0 ? 'Unknown Source' : text(f.source);
      const location =
        f.line > 0
          ? `${source}:${f.line}`
          : f.line === -3
            ? 'Native Method'
            : f.line === -2
              ? `${source}, compiled`
              : source;
      return { method: `${owner}.${text(f.method)}`, location };
    });
  }
}

export interface ThreadTally {
  idom: Int32Array;
  retained: Float64Array;
  top: number;
  summary(v: number): ObjectSummary;
  strings: StringContents;
}

/** The threads, most retained first, each frame with the objects it holds (most retained first). */
export function threadStacks(threads: Iterable<ThreadInfo>, t: ThreadTally): ThreadStack[] {
  const out: ThreadStack[] = [];
  for (const th of threads) {
    if (th.index < 0) continue;
    const frames = th.frames.map((f) => ({ ...f, locals: [] as number[] }));
    const unknown: number[] = [];
    let localsRetained = 0;
    const counted = new Set<number>();
    for (const l of th.locals) {
      if (l.index < 0) continue;
      const list = l.depth >= 0 && l.depth < frames.length ? frames[l.depth]!.locals : unknown;
      if (!list.includes(l.index)) list.push(l.index);
      if (t.idom[l.index] === th.index && !counted.has(l.index)) {
        counted.add(l.index);
        localsRetained += t.retained[l.index]!;
      }
    }
    if (unknown.length > 0)
      frames.push({ method: '<frame not in the stack trace>', location: '', locals: unknown });
    const byRetained = (a: number, b: number) => t.retained[b]! - t.retained[a]!;
    out.push({
      object: t.summary(th.index),
      name: th.nameValue === 0 ? '' : (t.strings.text(th.nameValue) ?? ''),
      localsRetainedBytes: localsRetained,
      frames: frames.map((f) => ({
        method: f.method,
        location: f.location,
        locals: f.locals.sort(byRetained).map(t.summary),
      })),
    });
  }
  out.sort((a, b) => b.object.retainedBytes - a.object.retainedBytes);
  return out.slice(0, t.top);
}
