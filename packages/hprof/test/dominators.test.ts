// Lengauer-Tarjan against the definition: d dominates v when v is unreachable from the root without d.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dominators } from '../src/analysis/dominators.ts';
import type { Graph } from '../src/analysis/edge-pass.ts';

/** A graph of nodes 0..n-1 plus the virtual root n, from adjacency lists. */
function graphOf(adjacency: number[][]): Graph {
  const offsets = new Uint32Array(adjacency.length + 1);
  const flat: number[] = [];
  adjacency.forEach((out, v) => {
    flat.push(...out);
    offsets[v + 1] = flat.length;
  });
  return {
    n: adjacency.length - 1,
    offsets,
    targets: Int32Array.from(flat),
    slots: new Uint8Array(flat.length),
  };
}

function reachable(adjacency: number[][], root: number, removed: number): boolean[] {
  const seen = adjacency.map(() => false);
  if (removed === root) return seen;
  const stack = [root];
  seen[root] = true;
  while (stack.length > 0) {
    for (const w of adjacency[stack.pop()!]!) {
      if (!seen[w] && w !== removed) {
        seen[w] = true;
        stack.push(w);
      }
    }
  }
  return seen;
}

/** Immediate dominators by the definition: the strict dominator that all other strict dominators dominate. */
function bruteForce(adjacency: number[][], root: number): number[] {
  const total = adjacency.length;
  const base = reachable(adjacency, root, -1);
  const doms = adjacency.map(() => new Set<number>());
  for (let d = 0; d < total; d++) {
    const without = reachable(adjacency, root, d);
    for (let v = 0; v < total; v++) if (base[v] && v !== d && !without[v]) doms[v]!.add(d);
  }
  return adjacency.map((_, v) => {
    if (!base[v]) return -1;
    if (v === root) return root;
    for (const d of doms[v]!) if ([...doms[v]!].every((o) => o === d || doms[d]!.has(o))) return d;
    return -1;
  });
}

function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

describe('dominators', () => {
  it('a diamond: the top dominates the bottom, neither branch does', () => {
    // root 4 -> 0 -> 1, 2 -> 3
    const adjacency = [[1, 2], [3], [3], [], [0]];
    assert.deepEqual(Array.from(dominators(graphOf(adjacency)).idom), [4, 0, 0, 0, 4]);
  });

  it('matches the definition on random graphs with cycles and unreachable nodes', () => {
    const rnd = random(42);
    for (let round = 0; round < 200; round++) {
      const n = 2 + Math.floor(rnd() * 40);
      const adjacency: number[][] = [];
      for (let v = 0; v <= n; v++) {
        const out: number[] = [];
        const edges = Math.floor(rnd() * (v === n ? 3 : 4));
        for (let k = 0; k < edges; k++) out.push(Math.floor(rnd() * n));
        adjacency.push(out);
      }
      const got = Array.from(dominators(graphOf(adjacency)).idom);
      assert.deepEqual(got, bruteForce(adjacency, n), `round ${round}: ${JSON.stringify(adjacency)}`);
    }
  });
});
