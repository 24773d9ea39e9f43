// `heapdump diff`, the pure part: two class histograms -> per class before, after and the change, sorted by
// growth. A histogram from a stored summary lists only its top classes; a class missing from such a list had
// at most the bytes of the list's smallest entry, so its change is known only as a bound. When both sides were
// analysed (heapdump analyze), the retained bytes per class are compared too.
import type { ClassRetained, ClassStats } from '@kube-heapdump/contract';

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
  /** The analysis's retained bytes per class; `full` when it lists every class (else top ones only). */
  retained?: { classes: readonly ClassRetained[]; full: boolean; heapBytes: number; from: string };
}

/** Retained bytes of a class before and after (undefined: not in that side's list) and the change. */
export interface RetainedChange {
  before: number | undefined;
  after: number | undefined;
  delta: number | undefined;
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
   * growth (a class gone from it), in bytes; the order uses it. Undefined when neither list has the class
   * (only the analyses do).
   */
  bound: number | undefined;
  /** When both sides were analysed. */
  retained?: RetainedChange;
}

export interface DumpDiff {
  before: Omit<DiffSide, 'classes' | 'retained'>;
  after: Omit<DiffSide, 'classes' | 'retained'>;
  totals: { before: Count; after: Count; delta: Count };
  /** The reachable heap before and after, when both sides were analysed, and where each analysis came from. */
  retained?: { before: number; after: number; delta: number; from: { before: string; after: string } };
  /**
   * Every class with a change (of shallow or retained bytes), largest growth first: in retained bytes when
   * both sides were analysed in full, else in shallow bytes.
   */
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

/** Retained bytes by stable name (hidden classes' added up, as their counts are). */
function retainedByName(side: DiffSide): Map<string, number> | undefined {
  if (!side.retained) return undefined;
  const out = new Map<string, number>();
  for (const c of side.retained.classes) {
    const name = stableClassName(c.name);
    out.set(name, (out.get(name) ?? 0) + c.retainedBytes);
  }
  return out;
}

function retainedChange(
  before: DiffSide,
  after: DiffSide,
  b: Map<string, number>,
  a: Map<string, number>,
  name: string,
): RetainedChange {
  const was = b.get(name) ?? (before.retained?.full ? 0 : undefined);
  const is = a.get(name) ?? (after.retained?.full ? 0 : undefined);
  return { before: was, after: is, delta: was !== undefined && is !== undefined ? is - was : undefined };
}

export function diffDumps(before: DiffSide, after: DiffSide): DumpDiff {
  const b = byStableName(before.classes);
  const a = byStableName(after.classes);
  const rb = retainedByName(before);
  const ra = retainedByName(after);
  const both = rb && ra ? { rb, ra } : undefined;
  const classes: ClassChange[] = [];
  for (const name of new Set([
    ...b.keys(),
    ...a.keys(),
    ...(both ? [...both.rb.keys(), ...both.ra.keys()] : []),
  ])) {
    const was = countIn(before, b, name);
    const is = countIn(after, a, name);
    const delta =
      was && is ? { instances: is.instances - was.instances, bytes: is.bytes - was.bytes } : undefined;
    const retained = both ? retainedChange(before, after, both.rb, both.ra, name) : undefined;
    if (delta && delta.instances === 0 && delta.bytes === 0 && (retained?.delta ?? 0) === 0) continue;
    // A class only an analysis lists may be in neither summary's top list: no count, no bound.
    const bound = delta
      ? undefined
      : is
        ? is.bytes - ceiling(before)
        : was
          ? ceiling(after) - was.bytes
          : undefined;
    classes.push({ name, before: was, after: is, delta, bound, ...(retained ? { retained } : {}) });
  }
  const byRetained = before.retained?.full === true && after.retained?.full === true;
  const growth = (c: ClassChange) =>
    byRetained ? (c.retained?.delta ?? 0) : (c.delta?.bytes ?? c.bound ?? 0);
  classes.sort(
    (x, y) =>
      growth(y) - growth(x) ||
      (y.delta?.instances ?? 0) - (x.delta?.instances ?? 0) ||
      (x.name < y.name ? -1 : 1),
  );
  const total = (s: DiffSide): Count => ({ instances: s.totals.objects, bytes: s.totals.shallowBytes });
  const { classes: _b, retained: _rb, ...beforeFacts } = before;
  const { classes: _a, retained: _ra, ...afterFacts } = after;
  return {
    before: beforeFacts,
    after: afterFacts,
    ...(before.retained && after.retained
      ? {
          retained: {
            before: before.retained.heapBytes,
            after: after.retained.heapBytes,
            delta: after.retained.heapBytes - before.retained.heapBytes,
            from: { before: before.retained.from, after: after.retained.from },
          },
        }
      : {}),
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
