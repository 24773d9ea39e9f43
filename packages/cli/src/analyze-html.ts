// `heapdump analyze --html out.html`: the analysis as one self-contained page. Nothing is fetched: the style
// is inline, there is no script, and the dominator tree expands with <details>. Every text from the dump is
// escaped (class names, strings and thread names are the dump's, and a dump can be hostile).
import type { DominatorNode, HeapAnalysis, ObjectSummary } from '@kube-heapdump/contract';
import { humanBytes, printable, thousands } from './format.ts';

/** Children per node and nodes in all of the embedded dominator tree. */
export const HTML_TREE = { children: 25, nodes: 4000 };

/** Control and bidi characters shown escaped, as in the terminal report; then HTML's own. */
const esc = (s: string) => printable(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:2px 10px;text-align:left;vertical-align:top}
th{border-bottom:1px solid #999}td.n{text-align:right;font-variant-numeric:tabular-nums}
code,.o{font-family:ui-monospace,monospace;font-size:13px}.s{border-left:4px solid #c33;padding-left:1em;margin:1em 0}
details{margin-left:1.2em}summary{cursor:pointer;font-family:ui-monospace,monospace;font-size:13px}
.dim{color:#777}`;

function obj(o: ObjectSummary): string {
  return `<span class="o">${esc(o.className)} @ ${esc(o.id)}</span>`;
}

function tableOf(head: string[], rows: string[][], numeric: Set<number>): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  const tr = rows
    .map((r) => `<tr>${r.map((c, i) => `<td${numeric.has(i) ? ' class="n"' : ''}>${c}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table><tr>${th}</tr>\n${tr}</table>`;
}

const pct = (bytes: number, heap: number) => (heap > 0 ? `${((100 * bytes) / heap).toFixed(1)}%` : '-');

function node(n: DominatorNode, heap: number): string {
  const label = `${humanBytes(n.object.retainedBytes)} <span class="dim">(${pct(n.object.retainedBytes, heap)}, shallow ${humanBytes(n.object.shallowBytes)})</span> ${obj(n.object)}`;
  if (n.children.length === 0 && n.omitted === 0)
    return `<div class="o" style="margin-left:2.4em">${label}</div>`;
  return `<details><summary>${label}</summary>\n${n.children.map((c) => node(c, heap)).join('\n')}${omitted(n.omitted, n.omittedBytes)}</details>`;
}

function omitted(count: number, bytes: number): string {
  return count > 0
    ? `<div class="dim" style="margin-left:2.4em">${thousands(count)} smaller children not embedded, retaining ${humanBytes(bytes)}</div>`
    : '';
}

function suspects(a: HeapAnalysis): string {
  if (a.suspects.length === 0) return '<p>None: no object or class retains 10% of the heap.</p>';
  return a.suspects
    .map((s, i) => {
      const what =
        s.kind === 'object'
          ? `one ${obj(s.object)}`
          : `${thousands(s.instances)} instances of <code>${esc(s.className)}</code>`;
      const path = tableOf(
        ['via', 'retains', 'object'],
        s.path.map((p) => [`<code>${esc(p.via)}</code>`, humanBytes(p.object.retainedBytes), obj(p.object)]),
        new Set([1]),
      );
      return `<div class="s"><p><b>${i + 1}. ${what} ${s.kind === 'object' ? 'retains' : 'retain'} ${humanBytes(s.retainedBytes)} (${s.percent.toFixed(1)}% of the heap)</b></p>
<p>Accumulated in ${obj(s.accumulationPoint)}, retaining ${humanBytes(s.accumulationPoint.retainedBytes)}. Shortest path from a GC root (strong references):</p>${path}</div>`;
    })
    .join('\n');
}

function sections(a: HeapAnalysis): string[] {
  const heap = a.totals.reachableBytes;
  const out: string[] = [];
  const t = a.dominatorTree;
  if (t)
    out.push(
      `<h2>Dominator tree</h2><p class="dim">Each node shows what it retains; expand it for its largest children. Embedded: at most ${t.childrenPerNode} children per node and ${thousands(t.maxNodes)} nodes in all, largest first; the rest is counted where it is left out.</p>`,
      t.top.map((n) => node(n, heap)).join('\n') + omitted(t.omitted, t.omittedBytes),
    );
  /** The largest dominators grouped (by package, by class loader): one row per group, `label` its column. */
  const groups = (label: string, list: readonly { objects: number; retainedBytes: number; name: string }[]) =>
    tableOf(
      ['objects', 'retained', '%', label],
      list.map((g) => [
        thousands(g.objects),
        humanBytes(g.retainedBytes),
        pct(g.retainedBytes, heap),
        `<code>${esc(g.name)}</code>`,
      ]),
      new Set([0, 1, 2]),
    );
  out.push('<h2>Retained by package</h2>', groups('package', a.topPackages));
  if (a.topClassLoaders)
    out.push('<h2>Retained by class loader</h2>', groups('class loader', a.topClassLoaders));
  out.push(
    '<h2>Retained by class</h2>',
    tableOf(
      ['instances', 'shallow', 'retained', '%', 'class'],
      a.retainedByClass.map((c) => [
        thousands(c.instances),
        humanBytes(c.shallowBytes),
        humanBytes(c.retainedBytes),
        pct(c.retainedBytes, heap),
        `<code>${esc(c.name)}</code>`,
      ]),
      new Set([0, 1, 2, 3]),
    ),
  );
  const d = a.duplicateStrings;
  if (d)
    out.push(
      `<h2>Duplicate strings</h2><p>${thousands(d.duplicated)} of ${thousands(d.strings)} Strings have contents another has too; ${humanBytes(d.wastedBytes)} wasted.</p>`,
      tableOf(
        ['strings', 'arrays', 'wasted', 'chars', 'contents (start)'],
        d.top.map((s) => [
          thousands(s.strings),
          thousands(s.arrays),
          humanBytes(s.wastedBytes),
          thousands(s.length),
          `<code>${esc(JSON.stringify(s.text))}</code>`,
        ]),
        new Set([0, 1, 2, 3]),
      ),
    );
  const c = a.collections;
  if (c)
    out.push(
      `<h2>Under-filled collections</h2><p class="dim">${esc(c.convention)}</p>`,
      tableOf(
        ['instances', 'empty', 'elements', 'capacity', 'wasted', 'class'],
        c.classes.map((r) => [
          thousands(r.instances),
          thousands(r.empty),
          thousands(r.elements),
          thousands(r.capacity),
          humanBytes(r.wastedBytes),
          `<code>${esc(r.className)}</code>`,
        ]),
        new Set([0, 1, 2, 3, 4]),
      ),
      tableOf(
        ['size', 'capacity', 'wasted', 'retained', 'collection'],
        c.top.map((r) => [
          thousands(r.size),
          thousands(r.capacity),
          humanBytes(r.wastedBytes),
          humanBytes(r.object.retainedBytes),
          obj(r.object),
        ]),
        new Set([0, 1, 2, 3]),
      ),
    );
  if (a.threads) {
    out.push('<h2>Threads</h2><p class="dim">A thread retains what only its stack keeps alive.</p>');
    for (const th of a.threads) {
      const frames = th.frames
        .map(
          (f) =>
            `<div class="o">at ${esc(f.method)} (${esc(f.location)})</div>${f.locals.map((o) => `<div class="o" style="margin-left:3em">local ${obj(o)}, retaining ${humanBytes(o.retainedBytes)}</div>`).join('')}`,
        )
        .join('\n');
      out.push(
        `<details><summary>${esc(th.name === '' ? '(unnamed)' : JSON.stringify(th.name))} ${obj(th.object)}: retains ${humanBytes(th.object.retainedBytes)}, by its locals ${humanBytes(th.localsRetainedBytes)}</summary>\n${frames}</details>`,
      );
    }
  }
  return out;
}

export function renderAnalysisHtml(name: string, a: HeapAnalysis): string {
  const heap = a.totals.reachableBytes;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Heap analysis: ${esc(name)}</title>
<style>${STYLE}</style></head><body>
<h1>Heap analysis: <code>${esc(name)}</code></h1>
<p>${a.complete ? '' : '<b>Incomplete dump (no HEAP_DUMP_END): analysed as far as it goes.</b><br>'}Heap ${humanBytes(heap)} in ${thousands(a.totals.reachableObjects)} reachable objects, ${thousands(a.totals.gcRoots)} GC roots.
Unreachable: ${humanBytes(a.unreachable.bytes)} in ${thousands(a.unreachable.objects)} objects (not counted below).<br>
<span class="dim">${esc(a.sizeConvention)}</span></p>
<h2>Leak suspects</h2>
${suspects(a)}
${sections(a).join('\n')}
<p class="dim">Made by heapdump analyze (${esc(a.schema)}). Dumps hold secrets, and so may this page.</p>
</body></html>
`;
}
