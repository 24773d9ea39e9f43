// Bundles a command into one ES module file with its source map: what the uploader image and the npm
// packages ship (no node_modules, no TypeScript at run time). The workspace packages are read from their
// TypeScript source (the @kube-heapdump/source export condition), so no other build has to run first.
// `--launcher <bin.js>` also writes the npm bin: a few lines any Node runs, which check the version before
// importing the bundle (whose imports, like node:zlib's zstd, fail to link on an older Node with a SyntaxError).
//   node scripts/bundle.ts <entry.ts> <out.js> [--minify] [--launcher <bin.js>]
import { writeFile } from 'node:fs/promises';
import { basename, dirname, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

/** The oldest Node the bundles run on (node:zlib zstd): the packages' `engines`. */
export const NODE_MIN = { major: 22, minor: 15 } as const;

export async function bundle(entry: string, outfile: string, minify = false): Promise<void> {
  await build({
    entryPoints: [resolve(entry)],
    outfile: resolve(outfile),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: `node${NODE_MIN.major}.${NODE_MIN.minor}`,
    conditions: ['@kube-heapdump/source'],
    sourcemap: true,
    minify,
    legalComments: 'eof',
    logLevel: 'warning',
    // Some dependencies are CommonJS and call require(); give the ES module bundle one.
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
  });
}

/** The bin `launcher`: one line naming the Node needed on an older one, else the bundle `target`. */
export async function writeLauncher(launcher: string, target: string, command: string): Promise<void> {
  const path = `./${relative(dirname(resolve(launcher)), resolve(target))}`;
  const { major, minor } = NODE_MIN;
  const text = `#!/usr/bin/env node
// ${command}: checks the Node version before loading ${basename(target)}, which needs Node ${major}.${minor}.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < ${major} || (major === ${major} && minor < ${minor})) {
  process.stderr.write('${command}: needs Node.js ${major}.${minor} or newer; this is Node.js ' + process.version + '\\n');
  process.exit(1);
}
import(${JSON.stringify(path)});
`;
  await writeFile(launcher, text, { mode: 0o755 });
}

if (import.meta.filename === process.argv[1]) {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { minify: { type: 'boolean' }, launcher: { type: 'string' } },
  });
  const [entry, outfile] = positionals;
  if (!entry || !outfile) {
    process.stderr.write(
      'usage: node scripts/bundle.ts <entry.ts> <out.js> [--minify] [--launcher <bin.js>]\n',
    );
    process.exit(2);
  }
  await bundle(entry, outfile, values.minify);
  if (values.launcher) await writeLauncher(values.launcher, outfile, basename(values.launcher, '.js'));
}
