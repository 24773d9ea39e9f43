// The analysis as a developer reads it in a minute: leak suspects first (what retains, where it accumulates,
// the path from a GC root), then the largest dominators and the classes that retain the most.
import type {
  Collections,
  DuplicateStrings,
  HeapAnalysis,
  LeakSuspect,
  ObjectSummary,
  ThreadStack,
} from '@kube-heapdump/contract';
import { humanBytes, paint, printable, table, thousands } from './format.ts';

const percent = (bytes: number, heap: number) => (heap > 0 ? `${((100 * bytes) / heap).toFixed(1)}%` : '-');
const objectName = (o: ObjectSummary) => `${printable(o.className)} @ ${o.id}`;

function suspect(s: LeakSuspect, i: number): string[] {
  const what =
    s.kind === 'object'
      ? `one ${objectName(s.object)}`
      : `${thousands(s.instances)} instances of ${printable(s.className)}`;
  const lines = [
    paint(
      `${i + 1}. ${what} ${s.kind === 'object' ? 'retains' : 'retain'} ${humanBytes(s.retainedBytes)} (${s.percent.toFixed(1)}% of the heap)`,
      'bold',
    ),
  ];
  const acc = s.accumulationPoint;
  if (acc.id !== s.object.id)
    lines.push(`   accumulated in ${objectName(acc)}, retaining ${humanBytes(acc.retainedBytes)}`);
  lines.push('   shortest path from a GC root (strong references):');
  const rows = s.path.map((step) => [
    printable(step.via),
    humanBytes(step.object.retainedBytes),
    objectName(step.object),
  ]);
  lines.push(
    ...table(['via', 'retains', 'object'], rows, new Set([1]))
      .split('\n')
      .map((l) => `     ${l}`),
  );
  return lines;
}

/** A string's start as the report shows it: quoted, control characters escaped, cut at 60 characters. */
function quoted(text: string, length: number): string {
  const cut = text.length > 60 || length > text.length;
  return `"${printable(text.slice(0, 60))}"${cut ? '...' : ''}`;
}

function duplicateStrings(d: DuplicateStrings, top: number): string[] {
  return [
    '',
    paint(
      `Duplicate strings: ${thousands(d.duplicated)} of ${thousands(d.strings)} Strings have contents another has too; ${humanBytes(d.wastedBytes)} wasted`,
      'bold',
    ),
    table(
      ['#', 'strings', 'arrays', 'wasted', 'chars', 'contents'],
      d.top
        .slice(0, top)
        .map((s, i) => [
          String(i + 1),
          thousands(s.strings),
          thousands(s.arrays),
          humanBytes(s.wastedBytes),
          thousands(s.length),
          quoted(s.text, s.length),
        ]),
      new Set([0, 1, 2, 3, 4]),
    ),
  ];
}

function collections(c: Collections, top: number): string[] {
  const wasted = c.classes.reduce((sum, r) => sum + r.wastedBytes, 0);
  return [
    '',
    paint(`Under-filled collections: ${humanBytes(wasted)} of empty slots`, 'bold'),
    table(
      ['#', 'instances', 'empty', 'filled', 'wasted', 'class'],
      c.classes
        .slice(0, top)
        .map((r, i) => [
          String(i + 1),
          thousands(r.instances),
          thousands(r.empty),
          r.capacity > 0 ? `${((100 * r.elements) / r.capacity).toFixed(1)}%` : '-',
          humanBytes(r.wastedBytes),
          printable(r.className),
        ]),
      new Set([0, 1, 2, 3, 4]),
    ),
    '',
    table(
      ['#', 'size', 'capacity', 'wasted', 'retained', 'collection'],
      c.top
        .slice(0, top)
        .map((r, i) => [
          String(i + 1),
          thousands(r.size),
          thousands(r.capacity),
          humanBytes(r.wastedBytes),
          humanBytes(r.object.retainedBytes),
          objectName(r.object),
        ]),
      new Set([0, 1, 2, 3, 4]),
    ),
  ];
}

/** The largest dominators grouped (by package, by class loader): one row per group, `label` its column. */
function groupTable(
  label: string,
  groups: readonly { objects: number; retainedBytes: number; name: string }[],
  heap: number,
  top: number,
): string {
  return table(
    ['#', 'objects', 'retained', '%', label],
    groups
      .slice(0, top)
      .map((g, i) => [
        String(i + 1),
        thousands(g.objects),
        humanBytes(g.retainedBytes),
        percent(g.retainedBytes, heap),
        printable(g.name),
      ]),
    new Set([0, 1, 2, 3]),
  );
}

const STACKS_SHOWN = 3;
const FRAMES_SHOWN = 20;

function threadName(t: ThreadStack): string {
  return t.name === '' ? objectName(t.object) : `"${printable(t.name)}"`;
}

/** The threads' table, then the stacks of the threads retaining the most, each frame with what it holds. */
function threads(list: ThreadStack[], top: number): string[] {
  const lines = [
    '',
    paint('Threads (what only its stack keeps alive is retained by the thread)', 'bold'),
    table(
      ['#', 'retained', 'by locals', 'thread', 'top frame'],
      list
        .slice(0, top)
        .map((t, i) => [
          String(i + 1),
          humanBytes(t.object.retainedBytes),
          humanBytes(t.localsRetainedBytes),
          threadName(t),
          printable(t.frames[0]?.method ?? '-'),
        ]),
      new Set([0, 1, 2]),
    ),
  ];
  for (const t of list.slice(0, Math.min(top, STACKS_SHOWN))) {
    lines.push(
      '',
      `${threadName(t)} ${objectName(t.object)}, retaining ${humanBytes(t.object.retainedBytes)}:`,
    );
    for (const f of t.frames.slice(0, FRAMES_SHOWN)) {
      lines.push(`  at ${printable(f.method)} (${printable(f.location)})`);
      for (const o of f.locals)
        lines.push(`       local ${objectName(o)}, retaining ${humanBytes(o.retainedBytes)}`);
    }
    if (t.frames.length > FRAMES_SHOWN)
      lines.push(`  ... ${t.frames.length - FRAMES_SHOWN} more frames (--json)`);
  }
  return lines;
}

export function renderAnalysis(name: string, a: HeapAnalysis, top: number): string {
  const heap = a.totals.reachableBytes;
  const lines = [
    `File         ${printable(name)}${a.complete ? '' : paint(' (incomplete: no HEAP_DUMP_END; analysed as far as it goes)', 'bold')}`,
    `Heap         ${humanBytes(heap)} in ${thousands(a.totals.reachableObjects)} reachable objects, ${thousands(a.totals.gcRoots)} GC roots`,
    `Unreachable  ${humanBytes(a.unreachable.bytes)} in ${thousands(a.unreachable.objects)} objects (garbage or only weakly reachable; not counted below)`,
    `Sizes        ${a.layout.compressedOops ? 'compressed oops' : 'no compressed oops'}: ${a.layout.headerBytes}-byte headers, ${a.layout.referenceBytes}-byte references (${printable(a.layout.source)})`,
    '',
  ];
  if (a.suspects.length === 0) lines.push('Leak suspects: none (no object or class retains 10% of the heap)');
  else {
    lines.push(paint('Leak suspects', 'bold'));
    a.suspects.forEach((s, i) => {
      lines.push(...suspect(s, i), '');
    });
  }
  lines.push(
    '',
    paint('Largest dominators (retained by one object)', 'bold'),
    table(
      ['#', 'retained', '%', 'shallow', 'object'],
      a.topDominators
        .slice(0, top)
        .map((o, i) => [
          String(i + 1),
          humanBytes(o.retainedBytes),
          percent(o.retainedBytes, heap),
          humanBytes(o.shallowBytes),
          objectName(o),
        ]),
      new Set([0, 1, 2, 3]),
    ),
    '',
    paint('Retained by package (the largest dominators grouped by the package of their class)', 'bold'),
    groupTable('package', a.topPackages, heap, top),
    ...(a.topClassLoaders
      ? [
          '',
          paint(
            'Retained by class loader (the largest dominators grouped by the loader of their class)',
            'bold',
          ),
          groupTable('class loader', a.topClassLoaders, heap, top),
        ]
      : []),
    '',
    paint('Retained by class', 'bold'),
    table(
      ['#', 'instances', 'shallow', 'retained', '%', 'class'],
      a.retainedByClass
        .slice(0, top)
        .map((c, i) => [
          String(i + 1),
          thousands(c.instances),
          humanBytes(c.shallowBytes),
          humanBytes(c.retainedBytes),
          percent(c.retainedBytes, heap),
          printable(c.name),
        ]),
      new Set([0, 1, 2, 3, 4]),
    ),
  );
  if (a.duplicateStrings) lines.push(...duplicateStrings(a.duplicateStrings, top));
  if (a.collections) lines.push(...collections(a.collections, top));
  if (a.threads) lines.push(...threads(a.threads, top));
  return lines.join('\n');
}
