// HPROF constants (JDK's heapDumper.cpp / hprof format 1.0.2) and class-name conversion.

export const HPROF_MAGICS = ['JAVA PROFILE 1.0.1', 'JAVA PROFILE 1.0.2'] as const;

/** Top-level record tags. */
export const Tag = {
  UTF8: 0x01,
  LOAD_CLASS: 0x02,
  UNLOAD_CLASS: 0x03,
  FRAME: 0x04,
  TRACE: 0x05,
  ALLOC_SITES: 0x06,
  HEAP_SUMMARY: 0x07,
  START_THREAD: 0x0a,
  END_THREAD: 0x0b,
  HEAP_DUMP: 0x0c,
  CPU_SAMPLES: 0x0d,
  CONTROL_SETTINGS: 0x0e,
  HEAP_DUMP_SEGMENT: 0x1c,
  HEAP_DUMP_END: 0x2c,
} as const;

export const KNOWN_TAGS = new Set<number>(Object.values(Tag));

/** Heap dump sub-record tags. */
export const Sub = {
  ROOT_UNKNOWN: 0xff,
  ROOT_JNI_GLOBAL: 0x01,
  ROOT_JNI_LOCAL: 0x02,
  ROOT_JAVA_FRAME: 0x03,
  ROOT_NATIVE_STACK: 0x04,
  ROOT_STICKY_CLASS: 0x05,
  ROOT_THREAD_BLOCK: 0x06,
  ROOT_MONITOR_USED: 0x07,
  ROOT_THREAD_OBJECT: 0x08,
  CLASS_DUMP: 0x20,
  INSTANCE_DUMP: 0x21,
  OBJ_ARRAY_DUMP: 0x22,
  PRIM_ARRAY_DUMP: 0x23,
} as const;

/** Basic type codes -> (name, size in bytes; 0 = identifier size). */
export const BASIC_TYPES: ReadonlyMap<number, { name: string; size: number }> = new Map([
  [2, { name: 'object', size: 0 }],
  [4, { name: 'boolean', size: 1 }],
  [5, { name: 'char', size: 2 }],
  [6, { name: 'float', size: 4 }],
  [7, { name: 'double', size: 8 }],
  [8, { name: 'byte', size: 1 }],
  [9, { name: 'short', size: 2 }],
  [10, { name: 'int', size: 4 }],
  [11, { name: 'long', size: 8 }],
]);

const DESCRIPTORS: Record<string, string> = {
  B: 'byte',
  C: 'char',
  D: 'double',
  F: 'float',
  I: 'int',
  J: 'long',
  S: 'short',
  Z: 'boolean',
};

/**
 * JVM binary names as the dump stores them (`java/lang/String`, `[B`, `[[Ljava/lang/Object;`) to the
 * names a Java developer reads (`java.lang.String`, `byte[]`, `java.lang.Object[][]`).
 */
export function readableClassName(binary: string): string {
  let dims = 0;
  while (binary[dims] === '[') dims++;
  let element = binary.slice(dims);
  if (dims > 0) {
    if (element.startsWith('L') && element.endsWith(';')) element = element.slice(1, -1);
    else element = DESCRIPTORS[element] ?? element;
  }
  return element.replaceAll('/', '.') + '[]'.repeat(dims);
}
