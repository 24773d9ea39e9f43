// Sizes as Kubernetes and the JVM write them, and the heap flags a JVM reads: the component sizes the dump
// volume from them, `heapdump doctor` compares the heap with the memory limit. Pure.

const KUBE_SUFFIX: Readonly<Record<string, number>> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** Bytes of a Kubernetes quantity (`512Mi`, `2G`, `1.5Gi`, `1e9`), or undefined when it is not one. */
export function parseQuantity(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)|[eE](\d+))?$/.exec(text.trim());
  if (!m) return undefined;
  const value = Number(m[1]);
  if (m[3] !== undefined) return value * 10 ** Number(m[3]);
  return value * (KUBE_SUFFIX[m[2] ?? ''] ?? 1);
}

/** A byte count as a Kubernetes quantity, rounded up to whole MiB. */
export function formatMi(bytes: number): string {
  return `${Math.ceil(bytes / 2 ** 20)}Mi`;
}

/** Bytes of a JVM size (`2g`, `512M`, `1024k`, `2147483648`), or undefined. */
export function parseJvmSize(text: string): number | undefined {
  const m = /^(\d+)([kKmMgGtT]?)$/.exec(text);
  if (!m) return undefined;
  const unit = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[(m[2] ?? '').toLowerCase()] ?? 1;
  return Number(m[1]) * unit;
}

/** The JVM flags that decide the maximum heap, as the JVM reads them: the last one of each kind wins. */
export interface HeapFlags {
  /** From `-Xmx` or `-XX:MaxHeapSize`. */
  maxHeapBytes?: number;
  /** From `-XX:MaxRAMPercentage`. */
  maxRamPercentage?: number;
}

/**
 * Reads heap flags from option words in the order the JVM applies them (jvmOptionWords in jvm-options.ts),
 * so a later flag overrides an earlier one, as in the JVM.
 * Throws on a malformed size, naming the word: a typo there would otherwise size the volume wrong.
 */
export function readHeapFlags(words: readonly string[]): HeapFlags {
  const flags: HeapFlags = {};
  for (const word of words) {
    let size: string | undefined;
    if (word.startsWith('-Xmx')) size = word.slice(4);
    else if (word.startsWith('-XX:MaxHeapSize=')) size = word.slice('-XX:MaxHeapSize='.length);
    if (size !== undefined) {
      const bytes = parseJvmSize(size);
      if (bytes === undefined || bytes === 0) throw new Error(`"${word}" is not a heap size the JVM accepts`);
      flags.maxHeapBytes = bytes;
      continue;
    }
    if (word.startsWith('-XX:MaxRAMPercentage=')) {
      const pct = Number(word.slice('-XX:MaxRAMPercentage='.length));
      if (!Number.isFinite(pct) || pct <= 0 || pct > 100) throw new Error(`"${word}" is not a percentage`);
      flags.maxRamPercentage = pct;
    }
  }
  return flags;
}

/** HotSpot's default MaxRAMPercentage. */
export const DEFAULT_MAX_RAM_PERCENTAGE = 25;

/** The maximum heap from flags and the container memory limit, or undefined when neither says. */
export function maxHeapBytes(flags: HeapFlags, memoryLimitBytes: number | undefined): number | undefined {
  if (flags.maxHeapBytes !== undefined) return flags.maxHeapBytes;
  if (memoryLimitBytes === undefined) return undefined;
  return Math.floor((memoryLimitBytes * (flags.maxRamPercentage ?? DEFAULT_MAX_RAM_PERCENTAGE)) / 100);
}

/** Percent of the container's memory limit at which the agent dumps the heap (`heapDumps.memoryThreshold`). */
export const DEFAULT_MEMORY_THRESHOLD = 90;
/**
 * What the default heap leaves between itself and the threshold for everything else the JVM maps (metaspace,
 * code cache, thread stacks, GC structures, direct buffers): a quarter of the limit, at least this much.
 */
export const NATIVE_HEADROOM_SHARE = 25;
export const MIN_NATIVE_HEADROOM_BYTES = 128 * 2 ** 20;

/**
 * The heap percentage the component sets when the container gives none, and what `heapdump doctor` advises:
 * the threshold (90 when off) less a quarter of the limit, or less 128 MiB when that is more, never below
 * HotSpot's 25. So a full heap plus the JVM's usual native memory stays under the threshold (a plain
 * OutOfMemoryError does not trip it), and native growth trips it before the limit. Two decimals, as the JVM
 * takes it.
 */
export function defaultHeapPercentage(threshold: number, limitBytes: number): number {
  const mark = threshold > 0 ? threshold : DEFAULT_MEMORY_THRESHOLD;
  const headroom = Math.max(NATIVE_HEADROOM_SHARE, (100 * MIN_NATIVE_HEADROOM_BYTES) / limitBytes);
  return Math.max(DEFAULT_MAX_RAM_PERCENTAGE, Math.floor((mark - headroom) * 100) / 100);
}

/**
 * The least memory limit whose default heap percentage (above) holds a heap of `heapBytes`: both the
 * quarter and the 128 MiB of headroom fit under the threshold.
 */
export function limitForHeap(heapBytes: number, threshold: number): number {
  const mark = threshold > 0 ? threshold : DEFAULT_MEMORY_THRESHOLD;
  return Math.max(
    (heapBytes * 100) / (mark - NATIVE_HEADROOM_SHARE),
    ((heapBytes + MIN_NATIVE_HEADROOM_BYTES) * 100) / mark,
  );
}

/** Splits an options string the way the JVM splits JAVA_TOOL_OPTIONS: on white space, honouring quotes. */
export function splitOptions(text: string): string[] {
  const words: string[] = [];
  for (const m of text.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) words.push(m[1] ?? m[2] ?? m[3] ?? '');
  return words;
}
