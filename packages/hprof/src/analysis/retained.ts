// Retained sizes from the dominator tree: each object's shallow size added to its immediate dominator's, in
// reverse preorder (a dominator always comes before what it dominates). Then the dominator tree's children
// in CSR form, and the retained size per class.
import type { Dominators } from './dominators.ts';

export interface DominatorTree {
  /** Retained bytes per node (0 for unreachable objects); node n, the virtual root, holds the reachable heap. */
  retained: Float64Array;
  /** Node v's immediate dominator-tree children are children[childOffsets[v] .. childOffsets[v+1]]. */
  childOffsets: Uint32Array;
  children: Int32Array;
}

export function retainedSizes(d: Dominators, shallow: (v: number) => number): DominatorTree {
  const { idom, order } = d;
  const total = idom.length;
  const root = total - 1;
  const retained = new Float64Array(total);
  for (let i = 1; i < order.length; i++) retained[order[i]!] = shallow(order[i]!);
  for (let i = order.length - 1; i > 0; i--) {
    const v = order[i]!;
    retained[idom[v]!]! += retained[v]!;
  }
  const childOffsets = new Uint32Array(total + 1);
  // Counted at each parent, summed to the end of its range, then each range filled from its end backwards
  // (preorder reversed, so children keep preorder): the offsets end at the ranges' starts, and no second
  // array (4 bytes per object) is needed to fill them.
  for (let v = 0; v < total; v++) if (v !== root && idom[v]! >= 0) childOffsets[idom[v]!]!++;
  for (let v = 1; v <= total; v++) childOffsets[v]! += childOffsets[v - 1]!;
  const children = new Int32Array(childOffsets[total]!);
  for (let i = order.length - 1; i > 0; i--) {
    const v = order[i]!;
    children[--childOffsets[idom[v]!]!] = v;
  }
  return { retained, childOffsets, children };
}

/**
 * Per class: instances, shallow and retained bytes of the reachable objects. A class's retained size counts an
 * instance only when no other instance of the class dominates it (its size is already in that one's), found
 * by walking the dominator tree with a count of each class on the current path.
 */
export function retainedByClass(
  tree: DominatorTree,
  classOf: (v: number) => number,
  classCount: number,
  shallow: (v: number) => number,
): { instances: Float64Array; shallow: Float64Array; retained: Float64Array } {
  const { retained, childOffsets, children } = tree;
  const total = retained.length;
  const onPath = new Int32Array(classCount);
  const out = {
    instances: new Float64Array(classCount),
    shallow: new Float64Array(classCount),
    retained: new Float64Array(classCount),
  };
  const stack = new Int32Array(total);
  const cursor = new Uint32Array(total);
  let sp = 0;
  stack[sp] = total - 1;
  cursor[sp++] = childOffsets[total - 1]!;
  while (sp > 0) {
    const v = stack[sp - 1]!;
    const e = cursor[sp - 1]!;
    if (e < childOffsets[v + 1]!) {
      cursor[sp - 1] = e + 1;
      const w = children[e]!;
      const c = classOf(w);
      out.instances[c]!++;
      out.shallow[c]! += shallow(w);
      if (onPath[c] === 0) out.retained[c]! += retained[w]!;
      onPath[c]!++;
      stack[sp] = w;
      cursor[sp++] = childOffsets[w]!;
    } else {
      sp--;
      if (v !== total - 1) onPath[classOf(v)]!--;
    }
  }
  return out;
}
