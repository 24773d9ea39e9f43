// docs/ARCHITECTURE.md is the map of the code, written by hand: this keeps its names true when files move or
// symbols are renamed. Every file or directory it names in backquotes (or links to) exists; in the "Where does
// X live" table each bare file name is looked for beside the last path its row named, and each symbol the row
// names is declared in a file the row names.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, posix } from 'node:path';
import { test } from 'node:test';
import { ANALYSIS_ENV, UPLOADER_ENV } from '@kube-heapdump/contract';
import { codeSpans, pathOf } from './support/doc-paths.ts';

const root = join(import.meta.dirname, '..');
const docPath = join(root, 'docs', 'ARCHITECTURE.md');
const doc = readFileSync(docPath, 'utf8');

const IDENTIFIER = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)?(\(\))?$/;
/** Names of the platform the table mentions beside ours: nothing in the repository declares them. */
const NOT_OURS = new Set(['O_NOFOLLOW', 'fstat', 'node', 'Reference.referent']);
const ENV_NAMES = new Set<string>([...Object.values(UPLOADER_ENV), ...Object.values(ANALYSIS_ENV)]);

/** Every file of the repository (its relative path), for bare names in prose, which name no folder. */
const allFiles = (() => {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
      if (['node_modules', '.git', 'dist', '.toolchain'].includes(e.name)) continue;
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk('');
  return out;
})();

const exists = (rel: string) => existsSync(join(root, rel));
const isDir = (rel: string) => exists(rel) && statSync(join(root, rel)).isDirectory();
const folderOf = (rel: string) => (rel.endsWith('/') ? rel.slice(0, -1) : posix.dirname(rel));

/** The doc's blocks outside code fences: paragraphs, list items, table rows; each with the section it is in. */
function blocks(text: string): { section: string; text: string }[] {
  const out: { section: string; text: string }[] = [];
  let section = '';
  let current: string[] = [];
  let fenced = false;
  const flush = () => {
    if (current.length) out.push({ section, text: current.join('\n') });
    current = [];
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) {
      fenced = !fenced;
      flush();
      continue;
    }
    if (fenced) continue;
    if (line.startsWith('#')) {
      flush();
      section = line.replace(/^#+\s*/, '');
      continue;
    }
    if (line.trim() === '' || /^(- |\d+\. |\| )/.test(line)) flush();
    if (line.trim() !== '') current.push(line);
  }
  flush();
  return out;
}

test('every path docs/ARCHITECTURE.md names exists', () => {
  const missing: string[] = [];
  for (const { section, text } of blocks(doc)) {
    let folder: string | undefined;
    for (const span of codeSpans(text)) {
      const path = pathOf(span);
      if (!path) continue;
      if (path.includes('/')) {
        if (!exists(path)) missing.push(`${path} (${section})`);
        folder = folderOf(path);
        continue;
      }
      // A bare file name: beside the last path of its paragraph, else anywhere (prose names files by name).
      const found =
        (folder !== undefined && exists(`${folder}/${path}`)) ||
        allFiles.some((f) => posix.basename(f) === path);
      if (!found) missing.push(`${path} (${section})`);
    }
    for (const m of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
      const target = m[1] ?? '';
      if (/^[a-z]+:/.test(target)) continue;
      if (!existsSync(normalize(join(dirname(docPath), target)))) missing.push(`link ${target} (${section})`);
    }
  }
  assert.deepEqual(missing, [], 'named in docs/ARCHITECTURE.md but not in the repository');
});

const TS_MODIFIERS =
  '(?:(?:export|public|private|protected|static|readonly|async|override|abstract|get|set)\\s+)*';

/**
 * Whether `name` is declared in a TypeScript or Java source: a function, class, type or constant, a method (its
 * parameters then its body, no `;` between: not a call), a field or property (not when the doc writes `name()`);
 * in Java a method or field after its type.
 */
function declares(file: { path: string; text: string }, name: string, callable: boolean): boolean {
  const n = name.replace(/\$/g, '\\$');
  const patterns = file.path.endsWith('.java')
    ? [
        new RegExp(`\\b(?:class|interface|enum|record)\\s+${n}\\b`),
        new RegExp(
          `^[ \\t]*(?:(?:public|private|protected|static|final|synchronized)\\s+)*(?!return\\b|new\\b|throw\\b|else\\b)[\\w<>[\\],.?]+\\s+${n}\\s*[(=;]`,
          'm',
        ),
      ]
    : [
        new RegExp(`\\b(?:function\\*?|class|interface|type|enum|const|let|var)\\s+${n}\\b`),
        new RegExp(`^[ \\t]*${TS_MODIFIERS}${n}\\s*(?:<[^>\\n]*>)?\\s*\\([^;]*?\\)\\s*(?::[^;{]*)?\\{`, 'm'),
        ...(callable ? [] : [new RegExp(`^[ \\t]*${TS_MODIFIERS}${n}\\s*[?!]?\\s*[:=]`, 'm')]),
      ];
  return patterns.some((re) => re.test(file.text));
}

/** The TypeScript and Java sources a path names: the file, or every one under the folder. */
function sources(rel: string): { path: string; text: string }[] {
  if (!exists(rel)) return [];
  const paths = isDir(rel)
    ? allFiles.filter((f) => f.startsWith(rel.endsWith('/') ? rel : `${rel}/`))
    : [rel];
  return paths
    .filter((f) => /\.(ts|java)$/.test(f))
    .map((path) => ({ path, text: readFileSync(join(root, path), 'utf8') }));
}

test('every file and symbol of the "Where does X live" table exists where the table says', () => {
  const start = doc.indexOf('\n## Where does X live\n');
  assert.notEqual(start, -1, 'docs/ARCHITECTURE.md has a "## Where does X live" section');
  const table = doc.slice(start + 1).split(/\n## /)[0] ?? '';
  const rows = table.split('\n').filter((l) => l.startsWith('| ') && !/^\| (what|---) /.test(l));
  assert.ok(rows.length > 30, `the table has its rows (${rows.length})`);
  const problems: string[] = [];
  for (const row of rows) {
    const [what = '', where = ''] = row.split(' | ').map((c) => c.replace(/^\| /, ''));
    const files: string[] = [];
    const symbols: string[] = [];
    let folder = '.';
    for (const span of codeSpans(where)) {
      const path = pathOf(span);
      if (path) {
        // A bare name is beside the last path the row named (or at the root, before any).
        const rel = path.includes('/') ? path : posix.normalize(`${folder}/${path}`);
        if (path.includes('/')) folder = folderOf(path);
        if (!exists(rel) || (rel.endsWith('/') && !isDir(rel))) problems.push(`${what}: no ${rel}`);
        else files.push(rel);
      } else if (IDENTIFIER.test(span)) symbols.push(span);
    }
    const source = files.flatMap(sources);
    for (const symbol of symbols) {
      if (NOT_OURS.has(symbol)) continue;
      if (/^[A-Z][A-Z0-9]*_[A-Z0-9_]+$/.test(symbol) && symbol.startsWith('HEAPDUMP_')) {
        if (!ENV_NAMES.has(symbol)) problems.push(`${what}: ${symbol} is not a variable of the contract`);
        continue;
      }
      // `Class.method()`: the class, and the method declared as one.
      const names = symbol.replace(/\(\)$/, '').split('.');
      const callable = (i: number) => symbol.endsWith('()') && i === names.length - 1;
      if (!names.every((n, i) => source.some((file) => declares(file, n, callable(i)))))
        problems.push(`${what}: ${symbol} is declared in none of ${files.join(', ') || 'no file'}`);
    }
  }
  assert.deepEqual(problems, [], 'the "Where does X live" table names what is not there');
});
