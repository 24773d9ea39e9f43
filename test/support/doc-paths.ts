// What the hand-written pages (README, docs/ARCHITECTURE.md) name in backquotes that is a file of this
// repository, for the tests that keep those names true.

/** The folders a named path starts with (anything else with a slash is a schema, a key, a URL path, ...). */
const ROOTS = ['packages/', 'scripts/', 'test/', 'docs/', 'examples/', 'bench/', '.ci/', '.github/'];
const FILE_NAME = /^[\w.-]+\.(ts|md|json|yaml|sh|py|c|java|jar)$/;

/** The backquoted spans of a markdown text, outside code blocks, in order. */
export function codeSpans(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '');
  return [...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1] ?? '');
}

/**
 * The path a backquoted span names, or undefined: its first word (`scripts/engines build` names
 * `scripts/engines`) when that is a path from the repository's root without wildcards or placeholders, or a
 * file name (`shipper.ts`).
 */
export function pathOf(span: string): string | undefined {
  const word = span.split(/\s/)[0] ?? '';
  if (ROOTS.some((r) => word.startsWith(r))) return /[<>*[\]|:=$@{}()'",]/.test(word) ? undefined : word;
  return FILE_NAME.test(word) ? word : undefined;
}
