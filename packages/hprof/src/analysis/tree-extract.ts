// The top of the dominator tree for a reader to expand: breadth first from the GC roots, each node's largest
// children, until a node budget is spent; what is left out is counted, not dropped silently.
import type { DominatorNode, DominatorTreeExtract, ObjectSummary } from '@kube-heapdump/contract';
import type { DominatorTree } from './retained.ts';
import { childrenBySize } from './suspects.ts';

export function dominatorTreeExtract(
  tree: DominatorTree,
  root: number,
  summary: (v: number) => ObjectSummary,
  childrenPerNode: number,
  maxNodes: number,
): DominatorTreeExtract {
  const out: DominatorTreeExtract = { childrenPerNode, maxNodes, top: [], omitted: 0, omittedBytes: 0 };
  let budget = maxNodes;
  const queue: { v: number; into: { children: DominatorNode[]; omitted: number; omittedBytes: number } }[] = [
    { v: root, into: { children: out.top, omitted: 0, omittedBytes: 0 } },
  ];
  const rootInto = queue[0]!.into;
  for (let head = 0; head < queue.length; head++) {
    const { v, into } = queue[head]!;
    const kids = childrenBySize(tree, v);
    const take = Math.min(kids.length, childrenPerNode, budget);
    budget -= take;
    for (let i = 0; i < kids.length; i++) {
      const w = kids[i]!;
      if (i >= take) {
        into.omitted++;
        into.omittedBytes += tree.retained[w]!;
        continue;
      }
      const node: DominatorNode = { object: summary(w), children: [], omitted: 0, omittedBytes: 0 };
      into.children.push(node);
      queue.push({ v: w, into: node });
    }
  }
  out.omitted = rootInto.omitted;
  out.omittedBytes = rootInto.omittedBytes;
  return out;
}
