// Bundles the uploader into one file, <outdir>/main.js: what the image ships (no node_modules, no TypeScript
// stripping at run time). `node packages/uploader/build.ts [outdir]`.
import { join } from 'node:path';
import { build } from 'esbuild';

export async function buildUploader(outdir: string): Promise<void> {
  await build({
    entryPoints: [join(import.meta.dirname, 'src/main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22.15',
    outdir,
    logLevel: 'warning',
    // Some dependencies are CommonJS and call require(); give the ES module bundle one.
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
  });
}

if (import.meta.filename === process.argv[1]) {
  await buildUploader(process.argv[2] ?? join(import.meta.dirname, 'dist'));
}
