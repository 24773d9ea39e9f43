// Exact immediate dominators: Lengauer-Tarjan's semidominators (simple version, path compression) and the
// SEMI-NCA step for the dominators themselves (Georgiadis & Tarjan), which drops LT's buckets (two arrays
// fewer) and is the fastest of the family in practice. Iterative throughout, so that a linked list of
// millions of objects cannot overflow a stack. Chosen over Cooper-Harvey-Kennedy, whose fixpoint takes many
// rounds over the whole graph on deep graphs with back edges (long lists, trees with parent links), which
// heaps are full of. The predecessor lists it needs are built here and dropped when it returns.
import type { Graph } from './edge-pass.ts';

export interface Dominators {
  /** Immediate dominator of each node (the virtual root n is its own); -1: unreachable from the roots. */
  idom: Int32Array;
  /** Reachable nodes in depth-first preorder from the virtual root (dominators come before what they dominate). */
  order: Int32Array;
}

export function dominators(g: Graph): Dominators {
  const total = g.n + 1;
  const root = g.n;
  const { offsets, targets } = g;
  // Depth-first preorder numbers: dfn[v] = number + 1, 0 when not reached.
  const dfn = new Int32Array(total);
  const vertex = new Int32Array(total);
  const parent = new Int32Array(total);
  const stack = new Int32Array(total);
  const cursor = new Uint32Array(total);
  let count = 0;
  let sp = 0;
  dfn[root] = ++count;
  vertex[0] = root;
  stack[sp] = root;
  cursor[sp++] = offsets[root]!;
  while (sp > 0) {
    const v = stack[sp - 1]!;
    const e = cursor[sp - 1]!;
    if (e < offsets[v + 1]!) {
      cursor[sp - 1] = e + 1;
      const w = targets[e]!;
      if (dfn[w] === 0) {
        vertex[count] = w;
        parent[count] = dfn[v]! - 1;
        dfn[w] = ++count;
        stack[sp] = w;
        cursor[sp++] = offsets[w]!;
      }
    } else sp--;
  }
  const N = count;
  const preds = predecessors(g, dfn);
  // Everything below is indexed by preorder number. `cursor` is reused for path compression.
  const semi = new Int32Array(N);
  const label = new Int32Array(N);
  const ancestor = stack.fill(-1, 0, N);
  for (let i = 0; i < N; i++) {
    semi[i] = i;
    label[i] = i;
  }
  const path = cursor;
  const evaluate = (v: number): number => {
    if (ancestor[v] === -1) return v;
    // Compress the ancestor chain of v, top-down, with an explicit stack.
    let depth = 0;
    let x = v;
    while (ancestor[ancestor[x]!] !== -1) {
      path[depth++] = x;
      x = ancestor[x]!;
    }
    while (depth > 0) {
      const y = path[--depth]!;
      const a = ancestor[y]!;
      if (semi[label[a]!]! < semi[label[y]!]!) label[y] = label[a]!;
      ancestor[y] = ancestor[a]!;
    }
    return label[v]!;
  };
  // Semidominators, in reverse preorder, each vertex linked to its parent once done.
  const { offsets: po, sources } = preds;
  for (let i = N - 1; i > 0; i--) {
    const w = vertex[i]!;
    let s = semi[i]!;
    for (let e = po[w + 1]!; e < po[w + 2]!; e++) {
      const u = semi[evaluate(sources[e]!)]!;
      if (u < s) s = u;
    }
    semi[i] = s;
    ancestor[i] = parent[i]!;
  }
  // Immediate dominators (SEMI-NCA): the nearest ancestor of the parent at or above the semidominator, in
  // preorder so that every ancestor's is final. idom shares parent's memory (idom[i] starts as parent[i]).
  const idom = parent;
  for (let i = 1; i < N; i++) {
    let d = idom[i]!;
    while (d > semi[i]!) d = idom[d]!;
    idom[i] = d;
  }
  // dfn is not needed any more: it becomes the result.
  const result = dfn.fill(-1);
  result[root] = root;
  for (let i = 1; i < N; i++) {
    result[vertex[i]!] = vertex[idom[i]!]!;
  }
  // A view, not a copy: at this point every array of the computation is alive (the peak of the analysis).
  return { idom: result, order: vertex.subarray(0, N) };
}

/**
 * Reverse CSR of the reached nodes' references, as preorder numbers of the sources: node t's are
 * sources[offsets[t + 1] .. offsets[t + 2]]. Each range is filled from its end backwards, which leaves its
 * start where its end was counted: no second offsets array (4 bytes per object) to fill them.
 */
function predecessors(g: Graph, dfn: Int32Array): { offsets: Uint32Array; sources: Int32Array } {
  const total = g.n + 1;
  const { offsets, targets } = g;
  const po = new Uint32Array(total + 2);
  for (let v = 0; v < total; v++) {
    if (dfn[v] === 0) continue;
    for (let e = offsets[v]!; e < offsets[v + 1]!; e++) po[targets[e]! + 1]!++;
  }
  for (let v = 0; v < total; v++) po[v + 1]! += po[v]!;
  po[total + 1] = po[total]!;
  // po[t + 1] is now the end of t's range; filling backwards moves it to the start (t - 1's end stays put).
  const sources = new Int32Array(po[total]!);
  for (let v = 0; v < total; v++) {
    const d = dfn[v]!;
    if (d === 0) continue;
    for (let e = offsets[v]!; e < offsets[v + 1]!; e++) sources[--po[targets[e]! + 1]!] = d - 1;
  }
  return { offsets: po, sources };
}
