// README documents every variable of the uploader's contract, and nothing the contract does not have: the
// table is written by hand for readers, so this is what keeps it true when a variable is added or renamed.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { UPLOADER_ENV } from '@kube-heapdump/contract';
import { codeSpans, pathOf } from './support/doc-paths.ts';

const readme = await readFile(join(import.meta.dirname, '..', 'README.md'), 'utf8');

/** The rows of the markdown table under a heading: the backquoted names in each row's first cell. */
function tableNames(heading: string): Set<string> {
  const start = readme.indexOf(`\n## ${heading}\n`);
  assert.notEqual(start, -1, `README has a "## ${heading}" section`);
  const section = readme.slice(start + 1).split(/\n## /)[0] ?? '';
  const names = new Set<string>();
  for (const row of section.split('\n').filter((l) => l.startsWith('| `'))) {
    const first = row.split('|')[1] ?? '';
    for (const m of first.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) if (m[1]) names.add(m[1]);
  }
  return names;
}

test("README's configuration table lists exactly the uploader's variables", () => {
  const documented = tableNames("The uploader's configuration");
  const contract = new Set<string>(Object.values(UPLOADER_ENV));
  const missing = [...contract].filter((v) => !documented.has(v));
  assert.deepEqual(missing, [], 'variables of the contract missing from README');
  // The SDK's own credential variables are documented beside ours; anything else must be in the contract.
  const sdk = new Set([
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_ROLE_ARN',
    'AWS_WEB_IDENTITY_TOKEN_FILE',
  ]);
  const unknown = [...documented].filter((v) => !contract.has(v) && !sdk.has(v));
  assert.deepEqual(unknown, [], 'variables in README that the uploader does not read');
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const anchor = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

async function anchorsOf(file: string): Promise<Set<string>> {
  const text = await readFile(file, 'utf8');
  const body = text.replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...body.matchAll(/^#+ (.+)$/gm)].map((m) => anchor(m[1] ?? '')));
}

test("README's links resolve: the files it names, and the sections of README and of the pages it links", async () => {
  const root = join(import.meta.dirname, '..');
  const broken: string[] = [];
  for (const m of readme.matchAll(/\]\(([^)\s]*)\)/g)) {
    const link = m[1] ?? '';
    if (/^[a-z]+:/.test(link)) continue;
    const [path = '', section] = link.split('#');
    const file = join(root, path || 'README.md');
    const anchors = await anchorsOf(file).catch(() => undefined);
    if (!anchors) broken.push(`${link}: no file ${path}`);
    else if (section !== undefined && !anchors.has(section)) broken.push(`${link}: no such section`);
  }
  assert.deepEqual(broken, [], 'links in README that lead nowhere');
});

test('every path README names in backquotes exists', () => {
  const root = join(import.meta.dirname, '..');
  const missing = codeSpans(readme)
    .map(pathOf)
    .filter((p): p is string => p?.includes('/') === true && !existsSync(join(root, p)));
  assert.deepEqual(missing, [], 'paths in README that are not in the repository');
});
