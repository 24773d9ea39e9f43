// The heap analysis end to end: two passes over the dump (objects, then references), the dominator tree,
// retained sizes, leak suspects and the tables of the report. `open` is called once per pass and gives the
// dump's uncompressed bytes: a file read twice, or a stored object streamed twice; never a copy on disk.
import type { ClassRetained, HeapAnalysis, ObjectSummary } from '@kube-heapdump/contract';
import { ANALYSIS_SCHEMA } from '@kube-heapdump/contract';
import { CLASS_OBJECTS } from './classes.ts';
import type { CollectionRecords } from './collections.ts';
import { dominators } from './dominators.ts';
import { EdgePass, type Graph, LINK_LOADER } from './edge-pass.ts';
import { IdIndex } from './id-index.ts';
import { inferCompressedOops, type Layout, layoutFor } from './layout.ts';
import { ObjectPass, type ObjectTable } from './object-pass.ts';
import { type DominatorTree, retainedByClass, retainedSizes } from './retained.ts';
import { childrenBySize, type HeapView, leakSuspects } from './suspects.ts';
import { threadStacks } from './threads.ts';
import { dominatorTreeExtract } from './tree-extract.ts';
import { HeapWalker } from './walker.ts';

export interface HeapAnalysisOptions {
  /** Force the layout (default: inferred from the addresses' span). */
  compressedOops?: boolean;
  /** Refuse, after the first pass, a dump whose analysis needs more bytes than this (estimate). */
  maxMemoryBytes?: number;
  /** Rows of the tables (default 20). */
  top?: number;
  /** Embed the top of the dominator tree: at most `children` per node and `nodes` in all (default: not). */
  dominatorTree?: { children: number; nodes: number };
  /** Called as phases start, and with the bytes read during the passes. */
  progress?: (phase: string, bytesRead: number) => void;
}

export class AnalysisMemoryError extends Error {
  readonly neededBytes: number;
  constructor(needed: number, limit: number) {
    super(
      `the analysis of this dump needs about ${mib(needed)} MiB, more than the ${mib(limit)} MiB --max-memory allows`,
    );
    this.neededBytes = needed;
  }
}

const mib = (n: number) => Math.ceil(n / 2 ** 20);

/**
 * Bytes the analysis holds at its peak (the dominator computation), from the first pass's counts: per object
 * the table (16), the graph's offsets (4), seven Int32 arrays of the dominator computation and the
 * predecessors' offsets (32), and room for the id index not yet collected (16); per reference 5 bytes forward, 4 backward. Plus the
 * runtime and the class table.
 */
export function estimateMemory(objects: number, references: number): number {
  return objects * 68 + references * 9 + 96 * 2 ** 20;
}

async function walk(
  open: () => AsyncIterable<Uint8Array>,
  walker: HeapWalker,
  tick: (n: number) => void,
): Promise<void> {
  let last = 0;
  for await (const chunk of open()) {
    walker.push(chunk);
    if (walker.offset - last >= 64 << 20) {
      last = walker.offset;
      tick(last);
    }
  }
  walker.finish();
}

export async function analyzeHeap(
  open: () => AsyncIterable<Uint8Array>,
  options: HeapAnalysisOptions = {},
): Promise<HeapAnalysis> {
  const progress = options.progress ?? (() => {});
  const top = options.top ?? 20;
  progress('objects', 0);
  let walker: HeapWalker;
  const objects = new ObjectPass(() => walker);
  walker = new HeapWalker(objects);
  await walk(open, walker, (n) => progress('objects', n));
  const idSize = walker.idSize;
  const complete = walker.sawEnd && !walker.cut;
  const table = objects.finish(idSize);
  const n = table.ids.length;
  const needed = estimateMemory(n, table.maxEdges);
  if (options.maxMemoryBytes !== undefined && needed > options.maxMemoryBytes)
    throw new AnalysisMemoryError(needed, options.maxMemoryBytes);

  const inferred = inferCompressedOops(table.minAddress, table.maxAddress);
  const compressed = options.compressedOops ?? inferred.compressed;
  const source = options.compressedOops === undefined ? inferred.why : 'given';
  const layout = layoutFor(idSize, compressed, source);
  table.classTable.resolve(layout);

  progress('references', 0);
  const { graph, collections } = await referencePass(open, table, (b) => progress('references', b));

  progress('dominators', 0);
  const shallowOf = table.classTable.shallowOf(table.classes, table.aux, layout);
  const dom = dominators(graph);
  const tree = retainedSizes(dom, shallowOf);
  const defs = table.classTable.defs;
  const idHex = (v: number) => `0x${table.ids[v]!.toString(16)}`;
  const view: HeapView = {
    table,
    graph,
    tree,
    shallow: shallowOf,
    summary: (v): ObjectSummary => ({
      id: idHex(v),
      className: objectClassName(table, v),
      shallowBytes: shallowOf(v),
      retainedBytes: tree.retained[v]!,
    }),
  };
  progress('suspects', 0);
  const suspects = leakSuspects(view);
  const perClass = retainedByClass(tree, (v) => table.classes[v]!, defs.length, shallowOf);
  const classRows: ClassRetained[] = [];
  for (let c = 0; c < defs.length; c++) {
    if (perClass.instances[c]! > 0)
      classRows.push({
        name: defs[c]!.name,
        instances: perClass.instances[c]!,
        shallowBytes: perClass.shallow[c]!,
        retainedBytes: perClass.retained[c]!,
      });
  }
  classRows.sort((a, b) => b.retainedBytes - a.retainedBytes);
  const unreachable = unreachableObjects(table, dom.idom, shallowOf, top);
  const valueSlot = (table.classTable.defs[table.stringClass]?.refNames?.indexOf('value') ?? -1) + 1;
  const duplicateStrings =
    valueSlot > 0
      ? table.strings.tally({
          classes: table.classes,
          ids: table.ids,
          graph,
          idom: dom.idom,
          shallow: shallowOf,
          stringClass: table.stringClass,
          valueSlot,
          top,
          idHex,
        })
      : undefined;
  const collectionFill = collections.tally({
    classes: table.classes,
    idom: dom.idom,
    refBytes: layout.refBytes,
    top,
    className: (c) => defs[c]!.name,
    summary: view.summary,
  });
  return {
    schema: ANALYSIS_SCHEMA,
    complete,
    idSize,
    layout: {
      compressedOops: layout.compressedOops,
      source,
      headerBytes: layout.headerBytes,
      referenceBytes: layout.refBytes,
    },
    sizeConvention: layout.convention,
    totals: {
      objects: n,
      classes: defs.filter((d) => d.instances > 0).length,
      references: graph.offsets[n]!,
      gcRoots: graph.offsets[n + 1]! - graph.offsets[n]!,
      reachableObjects: dom.order.length - 1,
      reachableBytes: tree.retained[n]!,
    },
    unreachable,
    suspects,
    topDominators: childrenBySize(tree, n).slice(0, top).map(view.summary),
    topPackages: topPackages(table, tree, n).slice(0, top),
    topClassLoaders: topClassLoaders(table, graph, tree, view.summary).slice(0, top),
    retainedByClass: classRows.slice(0, top),
    ...(duplicateStrings ? { duplicateStrings } : {}),
    collections: collectionFill,
    threads: threadStacks(table.threads.values(), {
      idom: dom.idom,
      retained: tree.retained,
      top,
      summary: view.summary,
      strings: table.strings,
    }),
    ...(options.dominatorTree
      ? {
          dominatorTree: dominatorTreeExtract(
            tree,
            n,
            view.summary,
            options.dominatorTree.children,
            options.dominatorTree.nodes,
          ),
        }
      : {}),
  };
}

/** The second pass; the id index and the pass's buffers are garbage once it returns. */
async function referencePass(
  open: () => AsyncIterable<Uint8Array>,
  table: ObjectTable,
  tick: (bytes: number) => void,
): Promise<{ graph: Graph; collections: CollectionRecords }> {
  let walker: HeapWalker;
  const edges = new EdgePass(table, new IdIndex(table.ids), () => walker);
  walker = new HeapWalker(edges);
  await walk(open, walker, tick);
  return { graph: edges.finish(), collections: edges.collections };
}

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
function topPackages(table: ObjectTable, tree: DominatorTree, root: number): HeapAnalysis['topPackages'] {
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
function topClassLoaders(
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
      if (graph.slots[e] === LINK_LOADER && table.ids[graph.targets[e]!] === loaderId)
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

/** For a class object, `class Foo`; otherwise the class name. */
function objectClassName(table: ObjectTable, v: number): string {
  const defs = table.classTable.defs;
  const c = table.classes[v]!;
  return c === CLASS_OBJECTS ? `class ${defs[table.aux[v]!]!.name}` : defs[c]!.name;
}

function unreachableObjects(
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

export type { Layout };
