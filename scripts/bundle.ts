// Bundles a command into one ES module file with its source map: what the uploader image and the npm
// packages ship (no node_modules, no TypeScript at run time). The workspace packages are read from their
// TypeScript source (the @kube-heapdump/source export condition), so no other build has to run first.
//   node scripts/bundle.ts <entry.ts> <out.js> [--minify]
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

export async function bundle(entry: string, outfile: string, minify = false): Promise<void> {
  await build({
    entryPoints: [resolve(entry)],
    outfile: resolve(outfile),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22.15',
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

if (import.meta.filename === process.argv[1]) {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { minify: { type: 'boolean' } },
  });
  const [entry, outfile] = positionals;
  if (!entry || !outfile) {
    process.stderr.write('usage: node scripts/bundle.ts <entry.ts> <out.js> [--minify]\n');
    process.exit(2);
  }
  await bundle(entry, outfile, values.minify);
}
