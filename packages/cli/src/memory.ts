// Memory sizes as Kubernetes and the JVM write them, for `heapdump doctor`'s heap-versus-limit arithmetic.
import type { Container } from './pod.ts';

const K8S_UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** A Kubernetes quantity (`512Mi`, `2G`, `1073741824`) in bytes; undefined when it is not one. */
export function quantityBytes(q: string | undefined): number | undefined {
  const m = q === undefined ? null : /^(\d+(?:\.\d+)?)(k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(q.trim());
  return m ? Number(m[1]) * (K8S_UNITS[m[2] ?? ''] ?? 1) : undefined;
}

/** A JVM size (`512m`, `2g`, `1048576`) in bytes. */
function javaBytes(text: string): number | undefined {
  const m = /^(\d+)([kKmMgGtT]?)$/.exec(text);
  if (!m) return undefined;
  const unit = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2]!.toLowerCase()] ?? 1;
  return Number(m[1]) * unit;
}

/** The JVM options a container passes: JAVA_TOOL_OPTIONS and friends ($(VAR) references resolved), command and args. */
export function jvmWords(c: Container): string[] {
  const env = new Map((c.env ?? []).map((e) => [e.name, e.value ?? '']));
  const resolve = (v: string) =>
    v.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_, n: string) => env.get(n) ?? '');
  const words: string[] = [];
  for (const name of ['JAVA_TOOL_OPTIONS', 'JDK_JAVA_OPTIONS', '_JAVA_OPTIONS']) {
    const v = env.get(name);
    if (v) words.push(...resolve(v).split(/\s+/).filter(Boolean));
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
    if (size !== undefined) xmx = { bytes: javaBytes(size), source: w };
    const pct = /^-XX:MaxRAMPercentage=(\d+(?:\.\d+)?)$/.exec(w)?.[1];
    if (pct !== undefined) {
      percent = { bytes: limit === undefined ? undefined : (limit * Number(pct)) / 100, source: w };
    }
  }
  // -Xmx wins over a percentage wherever it stands.
  return (
    xmx ??
    percent ?? {
      bytes: limit === undefined ? undefined : limit / 4,
      source: "the JVM's default (25% of the memory limit)",
    }
  );
}
