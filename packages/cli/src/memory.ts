// The heap a pod's JVM gets against its memory limit, for `heapdump doctor` (sizes parsed by the contract's rules).
import {
  DEFAULT_MAX_RAM_PERCENTAGE,
  jvmOptionWords,
  parseJvmSize,
  parseQuantity,
} from '@kube-heapdump/contract';
import type { Container } from './pod.ts';

/** A Kubernetes quantity (`512Mi`, `2G`, `1073741824`) in bytes; undefined when absent or not one. */
export function quantityBytes(q: string | undefined): number | undefined {
  return q === undefined ? undefined : parseQuantity(q);
}

export interface HeapSetting {
  /** The heap's maximum in bytes, when the flags or the limit say it. */
  bytes: number | undefined;
  /** Where it came from: `-Xmx512m`, `-XX:MaxRAMPercentage=75`, `the JVM's default (25% of the limit)`. */
  source: string;
}

/**
 * The maximum heap the JVM in this container takes: its options read as the JVM reads them (the contract's
 * jvmOptionWords: _JAVA_OPTIONS last, `$(VAR)` as the kubelet expands it), the last flag wins.
 */
export function heapOf(c: Container, limit: number | undefined): HeapSetting {
  let xmx: HeapSetting | undefined;
  let percent: HeapSetting | undefined;
  for (const w of jvmOptionWords(c)) {
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
