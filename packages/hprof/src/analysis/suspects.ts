// Leak suspects as Eclipse MAT defines them: a top-level object of the dominator tree retaining at least 10 %
// of the heap, or a class whose top-level instances do together. For each, the accumulation point (follow
// the largest dominator-tree child while it keeps at least 70 % of its parent's retained size, MAT's
// "big drop" ratio) and the shortest path of strong references from a GC root to it (breadth-first; the graph
// already excludes Reference.referent, so weak, soft, phantom and finalizer references are never on it).
import type { LeakSuspect, ObjectSummary, PathStep } from '@kube-heapdump/contract';
import { SUSPECT_THRESHOLD } from '@kube-heapdump/contract';
import { CLASS_OBJECTS, Kind } from './classes.ts';
import { type Graph, SLOT_JAVA_LOCAL, SLOT_JNI_LOCAL, SLOT_UNKNOWN } from './edge-pass.ts';
import type { ObjectTable } from './object-pass.ts';
import type { DominatorTree } from './retained.ts';

const BIG_DROP_RATIO = 0.7;
const LINK_NAMES = ['<super>', '<classloader>', '<signers>', '<protection domain>'];
const ROOT_NAMES: Record<number, string> = {
  255: 'GC root (unknown)',
  1: 'GC root: JNI global',
  2: 'GC root: JNI local',
  3: 'GC root: Java frame',
  4: 'GC root: native stack',
  5: 'GC root: system class',
  6: 'GC root: thread block',
  7: 'GC root: busy monitor',
  8: 'GC root: thread',
};

export interface HeapView {
  table: ObjectTable;
  graph: Graph;
  tree: DominatorTree;
  shallow(v: number): number;
  summary(v: number): ObjectSummary;
}

/** The dominator-tree children of v, most retained first. */
export function childrenBySize(tree: DominatorTree, v: number): number[] {
  const kids = Array.from(tree.children.subarray(tree.childOffsets[v]!, tree.childOffsets[v + 1]!));
  return kids.sort((a, b) => tree.retained[b]! - tree.retained[a]!);
}

export function accumulationPoint(tree: DominatorTree, v: number): number {
  let at = v;
  for (;;) {
    let best = -1;
    for (let e = tree.childOffsets[at]!; e < tree.childOffsets[at + 1]!; e++) {
      const c = tree.children[e]!;
      if (best < 0 || tree.retained[c]! > tree.retained[best]!) best = c;
    }
    if (best < 0 || tree.retained[best]! < BIG_DROP_RATIO * tree.retained[at]!) return at;
    at = best;
  }
}

export function leakSuspects(h: HeapView): LeakSuspect[] {
  const { tree, graph, table } = h;
  const root = graph.n;
  const heap = tree.retained[root]!;
  const threshold = SUSPECT_THRESHOLD * heap;
  const top = childrenBySize(tree, root);
  const found: { kind: 'object' | 'class'; v: number; instances: number; retained: number }[] = [];
  const byClass = new Map<number, { v: number; instances: number; retained: number }>();
  for (const v of top) {
    const r = tree.retained[v]!;
    if (r >= threshold) found.push({ kind: 'object', v, instances: 1, retained: r });
    else {
      const c = table.classes[v]!;
      const g = byClass.get(c) ?? { v, instances: 0, retained: 0 };
      g.instances++;
      g.retained += r;
      byClass.set(c, g);
    }
  }
  for (const g of byClass.values()) if (g.retained >= threshold) found.push({ kind: 'class', ...g });
  if (found.length === 0) return [];
  found.sort((a, b) => b.retained - a.retained);
  const parents = shortestPaths(graph);
  return found.map((s) => {
    const acc = accumulationPoint(tree, s.v);
    const object = h.summary(s.v);
    return {
      kind: s.kind,
      className: s.kind === 'object' ? object.className : table.classTable.defs[table.classes[s.v]!]!.name,
      instances: s.instances,
      retainedBytes: s.retained,
      percent: heap > 0 ? (100 * s.retained) / heap : 0,
      object,
      accumulationPoint: h.summary(acc),
      path: pathTo(h, parents, acc),
    };
  });
}

/** Breadth-first parents from the virtual root (-1: not reached). */
function shortestPaths(g: Graph): { parent: Int32Array; via: Int32Array } {
  const total = g.n + 1;
  const parent = new Int32Array(total).fill(-1);
  const via = new Int32Array(total);
  const queue = new Int32Array(total);
  let head = 0;
  let tail = 0;
  queue[tail++] = g.n;
  parent[g.n] = g.n;
  while (head < tail) {
    const v = queue[head++]!;
    for (let e = g.offsets[v]!; e < g.offsets[v + 1]!; e++) {
      const w = g.targets[e]!;
      if (parent[w] !== -1) continue;
      parent[w] = v;
      via[w] = e;
      queue[tail++] = w;
    }
  }
  return { parent, via };
}

function pathTo(h: HeapView, p: { parent: Int32Array; via: Int32Array }, target: number): PathStep[] {
  const steps: PathStep[] = [];
  const root = h.graph.n;
  for (let v = target; v !== root && p.parent[v] !== -1; v = p.parent[v]!) {
    steps.push({ via: describeEdge(h, p.parent[v]!, v, p.via[v]!), object: h.summary(v) });
  }
  return steps.reverse();
}

/** How `from` refers to `to` through reference number `e`: a field name, an array element, a root kind. */
function describeEdge(h: HeapView, from: number, to: number, e: number): string {
  const { table, graph } = h;
  if (from === graph.n) {
    const id = table.ids.at(to);
    for (let r = 0; r < table.rootIds.length; r++) {
      if (table.rootIds[r] === id) return ROOT_NAMES[table.rootTags[r]!] ?? 'GC root';
    }
    return ROOT_NAMES[0x05]!;
  }
  const slot = graph.slots[e]!;
  const c = table.classes[from]!;
  const defs = table.classTable.defs;
  if (c === CLASS_OBJECTS) {
    const def = defs[table.aux[from]!]!;
    if (slot < def.linkIds.length) return LINK_NAMES[slot] ?? '?';
    const s = def.staticRefs[slot - def.linkIds.length];
    return s && slot < SLOT_UNKNOWN ? `static ${s.name}` : 'static ?';
  }
  const def = defs[c]!;
  if (def.kind === Kind.OBJECT_ARRAY) return '[]';
  if (slot === 0) return '<class>';
  if (slot === SLOT_JAVA_LOCAL) return '<Java local>';
  if (slot === SLOT_JNI_LOCAL) return '<JNI local>';
  return slot < SLOT_UNKNOWN ? (def.refNames?.[slot - 1] ?? '?') : '?';
}
