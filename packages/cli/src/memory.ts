// The heap a pod's JVM gets against its memory limit, for `heapdump doctor` (sizes parsed by the contract's rules).
import {
  DEFAULT_MAX_RAM_PERCENTAGE,
  parseJvmSize,
  parseQuantity,
  splitOptions,
} from '@kube-heapdump/contract';
import type { Container } from './pod.ts';

/** A Kubernetes quantity (`512Mi`, `2G`, `1073741824`) in bytes; undefined when absent or not one. */
export function quantityBytes(q: string | undefined): number | undefined {
  return q === undefined ? undefined : parseQuantity(q);
}

/** The JVM options a container passes: JAVA_TOOL_OPTIONS and friends ($(VAR) references resolved), command and args. */
export function jvmWords(c: Container): string[] {
  const env = new Map((c.env ?? []).map((e) => [e.name, e.value ?? '']));
  const resolve = (v: string) =>
    v.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_, n: string) => env.get(n) ?? '');
  const words: string[] = [];
  for (const name of ['JAVA_TOOL_OPTIONS', 'JDK_JAVA_OPTIONS', '_JAVA_OPTIONS']) {
    const v = env.get(name);
    if (v) words.push(...splitOptions(resolve(v)));
  }
  return [...words, ...(c.command ?? []), ...(c.args ?? [])];
}

export interface HeapSetting {
  /** The heap's maximum in bytes, when the flags or the limit say it. */
  bytes: number | undefined;
  /** Where it came from: `-Xmx512m`, `-XX:MaxRAMPercentage=75`, `the JVM's default (25% of the limit)`. */
  source: string;
}

/** The maximum heap the JVM in this container takes (the last flag wins, as in the JVM). */
export function heapOf(c: Container, limit: number | undefined): HeapSetting {
  let xmx: HeapSetting | undefined;
  let percent: HeapSetting | undefined;
  for (const w of jvmWords(c)) {
    const size = /^-Xmx(.+)$/.exec(w)?.[1] ?? /^-XX:MaxHeapSize=(.+)$/.exec(w)?.[1];
    if (size !== undefined) xmx = { bytes: parseJvmSize(size), source: w };
    const pct = /^-XX:MaxRAMPercentage=(\d+(?:\.\d+)?)$/.exec(w)?.[1];
    if (pct !== undefined) {
      percent = { bytes: limit === undefined ? undefined : (limit * Number(pct)) / 100, source: w };
    }
  }
  // -Xmx wins over a percentage wherever it stands.
  return (
    xmx ??
    percent ?? {
      bytes: limit === undefined ? undefined : (limit * DEFAULT_MAX_RAM_PERCENTAGE) / 100,
      source: `the JVM's default (${DEFAULT_MAX_RAM_PERCENTAGE}% of the memory limit)`,
    }
  );
}
