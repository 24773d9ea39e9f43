// The heap analysis: what `heapdump analyze --json` prints. Filled by `analyzeHeap` in @kube-heapdump/hprof;
// readers check `schema` before trusting the fields. Sizes in bytes under `layout` (see `sizeConvention`).
// v2 adds sections to v1 and changes none: a v1 document (a report stored before) is a v2 one without them,
// which is why they are optional here.

export const ANALYSIS_SCHEMA = 'kube-heapdump/heap-analysis/v2';

/** MAT's leak suspect threshold: one object, or one class's top-level instances, retaining this share of the heap. */
export const SUSPECT_THRESHOLD = 0.1;

export interface ObjectSummary {
  /** The object's identifier in the dump (its address), hexadecimal. */
  id: string;
  className: string;
  shallowBytes: number;
  retainedBytes: number;
}

/** One reference on a path from a GC root: `field` of the previous object (or the root kind) leads to `object`. */
export interface PathStep {
  /** `static sessions`, `table`, `[]` (an array element), `<class>`, `<classloader>`; for the first step, the root. */
  via: string;
  object: ObjectSummary;
}

export interface LeakSuspect {
  /** `object`: one object retains >= 10 % of the heap; `class`: the top-level instances of one class together. */
  kind: 'object' | 'class';
  className: string;
  /** 1 for an object suspect; top-level dominator instances for a class suspect. */
  instances: number;
  retainedBytes: number;
  /** retainedBytes / the reachable heap, in percent. */
  percent: number;
  /** The object (the largest instance, for a class suspect). */
  object: ObjectSummary;
  /** Where the retained size stops being held by one child in the dominator tree. */
  accumulationPoint: ObjectSummary;
  /** Shortest path of strong references from a GC root to the accumulation point. */
  path: PathStep[];
}

export interface ClassRetained {
  name: string;
  instances: number;
  shallowBytes: number;
  /** Bytes freed if every instance of the class went away (instances under another of the class counted once). */
  retainedBytes: number;
}

/** One content that several reachable java.lang.String instances hold. */
export interface DuplicateString {
  /**
   * The start of the contents as text (up to 160 bytes of the value array: 160 Latin-1 or 80 UTF-16
   * characters). Dumps hold secrets, and so does this.
   */
  text: string;
  /** Characters of each of the Strings. */
  length: number;
  /** Reachable Strings with these contents. */
  strings: number;
  /** Distinct value arrays among them (`new String(s)` shares its array). */
  arrays: number;
  /** All the Strings but one and all the distinct arrays but one, at their shallow sizes. */
  wastedBytes: number;
  /** One of the Strings' identifier, hexadecimal. */
  example: string;
}

export interface DuplicateStrings {
  /** Reachable Strings whose value array the dump holds. */
  strings: number;
  /** Distinct contents among them. */
  contents: number;
  /** Strings whose contents at least one other String has too. */
  duplicated: number;
  wastedBytes: number;
  /** Most waste first. */
  top: DuplicateString[];
}

/** Per class, the reachable collections of the class. */
export interface CollectionFill {
  className: string;
  instances: number;
  /** Instances holding no element. */
  empty: number;
  /** Elements held, and slots their arrays have, summed over the instances. */
  elements: number;
  capacity: number;
  wastedBytes: number;
}

export interface UnderfilledCollection {
  object: ObjectSummary;
  size: number;
  capacity: number;
  wastedBytes: number;
}

/** Under-filled collections: HashMap, ArrayList, Vector, ArrayDeque and subclasses; HashSet through its map. */
export interface Collections {
  /** What capacity and waste mean. */
  convention: string;
  /** Most waste first. */
  classes: CollectionFill[];
  /** The collections wasting the most. */
  top: UnderfilledCollection[];
}

/** A thread, its stack (top frame first) and the objects each frame's locals hold. */
export interface ThreadStack {
  /** The java.lang.Thread; its retained bytes include what only its stack keeps alive. */
  object: ObjectSummary;
  /** Its name ('' when the dump does not say). */
  name: string;
  /** The retained bytes of the objects its locals hold that this thread alone keeps alive (it dominates them). */
  localsRetainedBytes: number;
  frames: {
    /** `java.lang.Thread.sleep` */
    method: string;
    /** `Thread.java:339`, `Native Method`, `Unknown Source` */
    location: string;
    /** Objects its local variables (and JNI locals) hold, most retained first. */
    locals: ObjectSummary[];
  }[];
}

/** A node of the dominator tree: what it retains, and its largest children. */
export interface DominatorNode {
  object: ObjectSummary;
  children: DominatorNode[];
  /** Children not embedded (past the per-node count or the node budget), and what they retain together. */
  omitted: number;
  omittedBytes: number;
}

/** The top of the dominator tree, embedded for a reader to expand (`heapdump analyze --html`). */
export interface DominatorTreeExtract {
  /** At most this many children per node, the largest. */
  childrenPerNode: number;
  /** At most this many nodes in all, breadth first. */
  maxNodes: number;
  /** The GC roots' children. */
  top: DominatorNode[];
  omitted: number;
  omittedBytes: number;
}

export interface HeapAnalysis {
  schema: typeof ANALYSIS_SCHEMA | 'kube-heapdump/heap-analysis/v1';
  /** Whether the dump ends with HEAP_DUMP_END; a cut dump is analysed as far as it goes. */
  complete: boolean;
  idSize: 4 | 8;
  layout: {
    compressedOops: boolean;
    /** `inferred: ...` or `given` (--compressed-oops / --no-compressed-oops). */
    source: string;
    headerBytes: number;
    referenceBytes: number;
  };
  sizeConvention: string;
  totals: {
    objects: number;
    classes: number;
    references: number;
    gcRoots: number;
    /** Objects reachable from the GC roots by strong references, and their shallow bytes (the heap MAT shows). */
    reachableObjects: number;
    reachableBytes: number;
  };
  /** Objects no strong reference path reaches (garbage, or only weakly/softly reachable): left out of the rest. */
  unreachable: { objects: number; bytes: number; topClasses: ClassRetained[] };
  suspects: LeakSuspect[];
  /** Children of the GC roots in the dominator tree, most retained first. */
  topDominators: ObjectSummary[];
  /**
   * Those children grouped by the package of their class (of the class itself, for a class object), as MAT's
   * top consumers by package: what each package's objects retain, most first.
   */
  topPackages: { name: string; objects: number; retainedBytes: number }[];
  retainedByClass: ClassRetained[];
  /**
   * v2. Those children grouped by the class loader of their class (of the class itself, for a class object),
   * as MAT's top consumers by class loader: `<bootstrap>`, or the loader's class and identifier.
   */
  topClassLoaders?: { name: string; loader?: ObjectSummary; objects: number; retainedBytes: number }[];
  /** v2. Absent too when the dump declares no java.lang.String fields before its Strings. */
  duplicateStrings?: DuplicateStrings;
  /** v2. */
  collections?: Collections;
  /** v2. The threads, most retained first. */
  threads?: ThreadStack[];
  /** v2, only when asked for (HeapAnalysisOptions.dominatorTree). */
  dominatorTree?: DominatorTreeExtract;
}
