// `npm run bench [-- NAME...]`: runs benchmarks (all when none named), prints tables and merges the figures
// into bench/results.json. Not part of `npm test`: figures depend on the machine.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { benchAnalyze } from './analyze.ts';
import { benchHprof } from './hprof.ts';
import { benchUploader } from './uploader.ts';

const benches: Record<string, () => Promise<Record<string, unknown>>> = {
  analyze: benchAnalyze,
  hprof: benchHprof,
  uploader: benchUploader,
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !(w in benches));
if (unknown.length > 0) {
  console.error(`bench: unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}
const file = join(import.meta.dirname, 'results.json');
const results = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as Record<string, unknown>;
for (const name of wanted.length > 0 ? wanted : Object.keys(benches)) {
  results[name] = { measuredAt: new Date().toISOString(), ...(await benches[name]!()) };
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
}
console.log(`\nwritten ${file}`);
