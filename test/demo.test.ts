// README's main command: `npm run demo` runs the whole story and exits 0; it leaves nothing behind.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RUN_SOURCE } from './support/node.ts';
import { run } from './support/processes.ts';

test('npm run demo: OOM, upload, list and inspect, in under a minute', async () => {
  const leftovers = async () => (await readdir(tmpdir())).filter((d) => d.startsWith('kube-heapdump-demo-'));
  const before = await leftovers();
  const startedAt = Date.now();
  const r = await run(
    process.execPath,
    [...RUN_SOURCE, join(import.meta.dirname, '../scripts/demo.ts')],
    process.env,
    120_000,
  );
  const seconds = (Date.now() - startedAt) / 1000;
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(seconds < 60, `${seconds} s`);
  assert.match(r.stdout, /JVM exited with status 3 \(ExitOnOutOfMemoryError\)/);
  assert.equal(r.stdout.match(/uploader: durable s3:\/\/\S+\.hprof\.zst: /g)?.length, 2);
  assert.match(
    r.stdout,
    /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+demo\/shop\/\S+\s+[\d.]+ MiB\s+[\d.]+ MiB zstd\s+complete\s+heapdumps\/demo\/shop\//m,
  );
  assert.match(r.stdout, /^Verdict {3}complete$/m);
  assert.match(r.stdout, /HeapFixture\$Alpha$/m);
  assert.deepEqual(await leftovers(), before, 'the demo removed its directory');
});
