// The report's tables of what consumes the heap apart from single objects: the top-level dominators grouped by
// package and by class loader (MAT's top consumers), and the unreachable objects by class.
import type { ClassRetained, HeapAnalysis, ObjectSummary } from '@kube-heapdump/contract';
import { CLASS_OBJECTS } from './classes.ts';
import { type Graph, LINK_LOADER } from './edge-pass.ts';
import type { ObjectTable } from './object-pass.ts';
import type { DominatorTree } from './retained.ts';

/** The class of object v, or for a class object the class itself (as MAT groups top consumers). */
const ownClass = (table: ObjectTable, v: number) =>
  table.classTable.defs[table.classes[v] === CLASS_OBJECTS ? table.aux[v]! : table.classes[v]!]!;

/** The top-level dominators grouped by `keyOf`, most retained first. */
function groupTop<K>(
  tree: DominatorTree,
  root: number,
  keyOf: (v: number) => K,
): Map<K, { objects: number; retainedBytes: number }> {
  const groups = new Map<K, { objects: number; retainedBytes: number }>();
  for (let e = tree.childOffsets[root]!; e < tree.childOffsets[root + 1]!; e++) {
    const v = tree.children[e]!;
    const key = keyOf(v);
    const row = groups.get(key) ?? { objects: 0, retainedBytes: 0 };
    row.objects++;
    row.retainedBytes += tree.retained[v]!;
    groups.set(key, row);
  }
  return new Map([...groups].sort((a, b) => b[1].retainedBytes - a[1].retainedBytes));
}

/** The top-level dominators by the package of their class: `java.util` for a HashMap, `<default>` for none. */
export function topPackages(
  table: ObjectTable,
  tree: DominatorTree,
  root: number,
): HeapAnalysis['topPackages'] {
  const groups = groupTop(tree, root, (v) => {
    const name = ownClass(table, v).name.replace(/(\[\])+$/, '');
    const dot = name.lastIndexOf('.');
    return dot < 0 ? '<default>' : name.slice(0, dot);
  });
  return [...groups].map(([name, row]) => ({ name, ...row }));
}

/**
 * The top-level dominators by the class loader of their class, as MAT's top consumers: the loader object
 * (found through its classes' `<classloader>` reference), or `<bootstrap>`.
 */
export function topClassLoaders(
  table: ObjectTable,
  graph: Graph,
  tree: DominatorTree,
  summary: (v: number) => ObjectSummary,
): NonNullable<HeapAnalysis['topClassLoaders']> {
  const groups = groupTop(tree, graph.n, (v) => ownClass(table, v).loaderId);
  const loaders = new Map<number, number>();
  for (let v = 0; v < graph.n; v++) {
    if (table.classes[v] !== CLASS_OBJECTS) continue;
    const loaderId = table.classTable.defs[table.aux[v]!]!.loaderId;
    if (loaderId === 0 || loaders.has(loaderId)) continue;
    for (let e = graph.offsets[v]!; e < graph.offsets[v + 1]!; e++)
      if (graph.slots[e] === LINK_LOADER && table.ids.at(graph.targets[e]!) === loaderId)
        loaders.set(loaderId, graph.targets[e]!);
  }
  return [...groups].map(([loaderId, row]) => {
    const at = loaders.get(loaderId);
    const loader = at === undefined ? undefined : summary(at);
    const name =
      loaderId === 0
        ? '<bootstrap>'
        : loader
          ? `${loader.className} @ ${loader.id}`
          : `<loader 0x${loaderId.toString(16)}>`;
    return { name, ...(loader ? { loader } : {}), ...row };
  });
}

export function unreachableObjects(
  table: ObjectTable,
  idom: Int32Array,
  shallow: (v: number) => number,
  top: number,
): HeapAnalysis['unreachable'] {
  const defs = table.classTable.defs;
  const count = new Float64Array(defs.length);
  const bytes = new Float64Array(defs.length);
  let objects = 0;
  let total = 0;
  for (let v = 0; v < table.ids.length; v++) {
    if (idom[v] !== -1) continue;
    const c = table.classes[v]!;
    const s = shallow(v);
    count[c]!++;
    bytes[c]! += s;
    objects++;
    total += s;
  }
  const topClasses: ClassRetained[] = [];
  for (let c = 0; c < defs.length; c++) {
    if (count[c]! > 0)
      topClasses.push({
        name: defs[c]!.name,
        instances: count[c]!,
        shallowBytes: bytes[c]!,
        retainedBytes: 0,
      });
  }
  topClasses.sort((a, b) => b.shallowBytes - a.shallowBytes);
  return { objects, bytes: total, topClasses: topClasses.slice(0, top) };
}
