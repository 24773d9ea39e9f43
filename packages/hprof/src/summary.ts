// The dump summary (schema in @kube-heapdump/contract): one for `heapdump inspect --json` and the uploader's
// `<key>.summary.json`.
import { type ClassStats, type HprofSummary, SUMMARY_SCHEMA } from '@kube-heapdump/contract';
import { BASIC_TYPES, readableClassName } from './format.ts';
import { type HeapHistogram, HISTOGRAM_LIMITS } from './histogram.ts';
import { type HprofParser, instanceShallowSize } from './parser.ts';

export const SIZE_CONVENTION =
  'shallow bytes = object header of 2 identifiers (arrays: + 4-byte length, data 8-aligned) + field or element ' +
  'bytes as the dump stores them (references = identifier size), rounded up to 8. java.lang.Class counts one ' +
  'instance per class dump, with its static fields. This is the exact layout of a 64-bit JDK 17 without ' +
  'compressed oops, except fields the JVM injects and the dump omits (Class, Thread, Module, ClassLoader); with ' +
  'compressed oops (the default below 32 GB heaps) the JVM uses less: 12-byte headers, 4-byte references.';

/** Every class with instances, by readable name (same-named classes of different loaders are merged). */
export function classHistogram(parser: HprofParser): ClassStats[] {
  const idSize = parser.header?.idSize ?? 8;
  const heap = parser.heap;
  const byName = new Map<string, ClassStats>();
  const add = (name: string, instances: number, bytes: number) => {
    const s = byName.get(name);
    if (s) {
      s.instances += instances;
      s.bytes += bytes;
    } else {
      byName.set(name, { name, instances, bytes });
    }
  };
  const nameOf = classNamer(heap);
  for (const [classId, c] of heap.instances) add(nameOf(classId), c.count, c.bytes);
  for (const [classId, c] of heap.objectArrays) add(nameOf(classId), c.count, c.bytes);
  for (const [type, c] of heap.primitiveArrays) add(`${BASIC_TYPES.get(type)?.name}[]`, c.count, c.bytes);
  if (heap.classes.size > 0) {
    const mirrorFields = classMirrorFieldBytes(heap);
    let bytes = 0;
    for (const info of heap.classes.values())
      bytes += instanceShallowSize(idSize, mirrorFields + info.staticBytes);
    add('java.lang.Class', heap.classes.size, bytes);
  }
  return [...byName.values()].sort(
    (a, b) => b.bytes - a.bytes || b.instances - a.instances || (a.name < b.name ? -1 : 1),
  );
}

function classNamer(heap: HeapHistogram): (classId: number) => string {
  return (classId) => {
    const nameId = heap.classNames.get(classId);
    const binary = nameId === undefined ? undefined : heap.strings.get(nameId);
    return binary === undefined ? `<class 0x${classId.toString(16)}>` : readableClassName(binary);
  };
}

/** Field bytes of a java.lang.Class instance, from the class dump of java/lang/Class itself. */
function classMirrorFieldBytes(heap: HeapHistogram): number {
  for (const [classId, nameId] of heap.classNames) {
    if (heap.strings.get(nameId) === 'java/lang/Class') return heap.classes.get(classId)?.instanceSize ?? 0;
  }
  return 0;
}

export function summarize(parser: HprofParser, top = 20): HprofSummary {
  const { verdict, reason } = parser.verdict();
  const histogram = classHistogram(parser);
  const heap = parser.heap;
  const nameOf = classNamer(heap);
  const sum = (m: ReadonlyMap<number, { count: number }>) => [...m.values()].reduce((n, c) => n + c.count, 0);
  const u = heap.untracked;
  const instances = sum(heap.instances) + u.instances.count;
  const objectArrays = sum(heap.objectArrays) + u.objectArrays.count;
  const primitiveArrays = sum(heap.primitiveArrays);
  const untrackedObjects = u.instances.count + u.objectArrays.count + u.classes.count;
  const untrackedBytes = u.instances.bytes + u.objectArrays.bytes + u.classes.bytes;
  const capped = untrackedObjects > 0 || heap.namesDropped > 0;
  return {
    schema: SUMMARY_SCHEMA,
    verdict,
    ...(reason ? { reason } : {}),
    ...(parser.header
      ? {
          format: parser.header.format,
          idSize: parser.header.idSize,
          timestamp: new Date(parser.header.timestampMs).toISOString(),
        }
      : {}),
    bytes: parser.bytesSeen,
    records: parser.records,
    totals: {
      objects: instances + objectArrays + primitiveArrays,
      instances,
      objectArrays,
      primitiveArrays,
      classes: heap.classes.size + u.classes.count,
      shallowBytes: histogram.reduce((n, c) => n + c.bytes, 0) + untrackedBytes,
      gcRoots: heap.gcRoots,
      threads: heap.threads,
      stackTraces: heap.stackTraces,
    },
    topClasses: histogram.slice(0, top),
    ...(capped
      ? {
          capped: {
            maxClasses: HISTOGRAM_LIMITS.classes,
            untrackedObjects,
            untrackedBytes,
            namesDropped: heap.namesDropped,
          },
        }
      : {}),
    histogramClasses: histogram.length,
    largestArrays: heap.largestArrays.map((a) => ({
      className: a.classKey.startsWith('p')
        ? `${BASIC_TYPES.get(Number(a.classKey.slice(1)))?.name}[]`
        : nameOf(Number(a.classKey.slice(1))),
      length: a.length,
      bytes: a.bytes,
    })),
    sizeConvention: SIZE_CONVENTION,
  };
}
