// `heapdump diff`, the pure part: two class histograms -> per class before, after and the change, sorted by
// growth. A histogram from a stored summary lists only its top classes; a class missing from such a list had
// at most the bytes of the list's smallest entry, so its change is known only as a bound.
import type { ClassStats } from '@kube-heapdump/contract';

export interface DiffSide {
  /** What was compared: a file or an object key. */
  label: string;
  verdict: string;
  /** When the JVM wrote the dump (ISO 8601), when known. */
  timestamp: string | undefined;
  classes: readonly ClassStats[];
  /** True when `classes` is every class of the dump (a parsed file), false for a summary's top list. */
  full: boolean;
  totals: { objects: number; shallowBytes: number };
}

export interface Count {
  instances: number;
  bytes: number;
}

export interface ClassChange {
  name: string;
  /** Undefined when this side's list does not reach the class (then `bound` says how little it had). */
  before: Count | undefined;
  after: Count | undefined;
  /** after - before, when both are known. */
  delta: Count | undefined;
  /**
   * When one side is unknown: the least growth (a class that appears in the new top list) or the most
   * growth (a class gone from it), in bytes; the order uses it.
   */
  bound: number | undefined;
}

export interface DumpDiff {
  before: Omit<DiffSide, 'classes'>;
  after: Omit<DiffSide, 'classes'>;
  totals: { before: Count; after: Count; delta: Count };
  /** Every class with a change, largest growth in bytes first. */
  classes: ClassChange[];
}

/** A side's count of a class: listed, zero when the side is complete, else unknown with a ceiling. */
function countIn(side: DiffSide, byName: Map<string, ClassStats>, name: string): Count | undefined {
  const c = byName.get(name);
  if (c) return { instances: c.instances, bytes: c.bytes };
  return side.full ? { instances: 0, bytes: 0 } : undefined;
}

/** The fewest bytes a listed class has: what a class missing from the list has at most. */
function ceiling(side: DiffSide): number {
  return side.classes.reduce((m, c) => Math.min(m, c.bytes), Number.POSITIVE_INFINITY);
}

/**
 * A class name without the address a JVM gives hidden classes (`Main$$Lambda$14+0x0000000800c03000`,
 * `Main$$Lambda/0x00007f...`, `LambdaForm$MH+0x...`) or the lambda's serial: the same lambda in two JVMs, or
 * defined again, is one class to compare, `Main$$Lambda`.
 */
export function stableClassName(name: string): string {
  return name.replace(/\$\$Lambda\$\d+(?=[+./]0x)/g, '$$$$Lambda').replace(/[+./]0x[0-9a-f]+/gi, '');
}

/** The classes by stable name, counts of the same stable name added up. */
function byStableName(classes: readonly ClassStats[]): Map<string, ClassStats> {
  const out = new Map<string, ClassStats>();
  for (const c of classes) {
    const name = stableClassName(c.name);
    const seen = out.get(name);
    out.set(
      name,
      seen ? { name, instances: seen.instances + c.instances, bytes: seen.bytes + c.bytes } : { ...c, name },
    );
  }
  return out;
}

export function diffDumps(before: DiffSide, after: DiffSide): DumpDiff {
  const b = byStableName(before.classes);
  const a = byStableName(after.classes);
  const classes: ClassChange[] = [];
  for (const name of new Set([...b.keys(), ...a.keys()])) {
    const was = countIn(before, b, name);
    const is = countIn(after, a, name);
    const delta =
      was && is ? { instances: is.instances - was.instances, bytes: is.bytes - was.bytes } : undefined;
    if (delta && delta.instances === 0 && delta.bytes === 0) continue;
    const bound = delta ? undefined : is ? is.bytes - ceiling(before) : ceiling(after) - (was as Count).bytes;
    classes.push({ name, before: was, after: is, delta, bound });
  }
  const growth = (c: ClassChange) => c.delta?.bytes ?? c.bound ?? 0;
  classes.sort(
    (x, y) =>
      growth(y) - growth(x) ||
      (y.delta?.instances ?? 0) - (x.delta?.instances ?? 0) ||
      (x.name < y.name ? -1 : 1),
  );
  const total = (s: DiffSide): Count => ({ instances: s.totals.objects, bytes: s.totals.shallowBytes });
  const { classes: _b, ...beforeFacts } = before;
  const { classes: _a, ...afterFacts } = after;
  return {
    before: beforeFacts,
    after: afterFacts,
    totals: {
      before: total(before),
      after: total(after),
      delta: {
        instances: total(after).instances - total(before).instances,
        bytes: total(after).bytes - total(before).bytes,
      },
    },
    classes,
  };
}
