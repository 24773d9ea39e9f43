// The heap analysis end to end: two passes over the dump (objects, then references), the dominator tree,
// retained sizes, leak suspects and the tables of the report. `open` is called once per pass and gives the
// dump's uncompressed bytes: a file read twice, or a stored object streamed twice; never a copy on disk.
import type { ClassRetained, HeapAnalysis, ObjectSummary } from '@kube-heapdump/contract';
import { ANALYSIS_SCHEMA } from '@kube-heapdump/contract';
import { CLASS_OBJECTS } from './classes.ts';
import type { CollectionRecords } from './collections.ts';
import { topClassLoaders, topPackages, unreachableObjects } from './consumers.ts';
import { dominators } from './dominators.ts';
import { EdgePass, type Graph } from './edge-pass.ts';
import { IdIndex } from './id-index.ts';
import { inferCompressedOops, type Layout, layoutFor } from './layout.ts';
import { ObjectPass, type ObjectTable } from './object-pass.ts';
import { retainedByClass, retainedSizes } from './retained.ts';
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
 * the table (16; 12 when ids fit in words), the graph's offsets (4), seven Int32 arrays of the dominator computation and the
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
  const idHex = (v: number) => `0x${table.ids.at(v).toString(16)}`;
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

/** For a class object, `class Foo`; otherwise the class name. */
function objectClassName(table: ObjectTable, v: number): string {
  const defs = table.classTable.defs;
  const c = table.classes[v]!;
  return c === CLASS_OBJECTS ? `class ${defs[table.aux[v]!]!.name}` : defs[c]!.name;
}

export type { Layout };
