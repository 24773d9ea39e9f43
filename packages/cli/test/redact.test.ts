// `heapdump redact` as a user runs it: a separate process on a real dump of a JVM holding secrets.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zstdCompressSync } from 'node:zlib';
import { analyzeFile, HprofRedactor, SymbolUses } from '@kube-heapdump/hprof';
import { FIXTURE_LITERALS, findText, fixtureSecrets, HeldJvm } from '../../../test/support/java.ts';
import { RUN_SOURCE } from '../../../test/support/node.ts';
import { run } from '../../../test/support/processes.ts';

const cli = join(import.meta.dirname, '../src/main.ts');
const heapdump = (...args: string[]) => run(process.execPath, [...RUN_SOURCE, cli, ...args]);
const SEED = '0badf00d';
const secrets = fixtureSecrets(SEED);

describe('heapdump redact', () => {
  let dir: string;
  let dump: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kh-cli-redact-'));
    dump = join(dir, 'app.hprof');
    const jvm = await HeldJvm.start({ alphas: 500, betas: 10, gammas: 10, alphaArrays: 2 }, [
      `-Dsecrets=${SEED}`,
    ]);
    try {
      await jvm.dump(dump);
    } finally {
      await jvm.close();
    }
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('writes what the uploader would store, 0600, same size and summary, no secret left', async () => {
    const original = await readFile(dump);
    assert.ok([...secrets.texts, ...FIXTURE_LITERALS].every((t) => findText(original, t)));
    const uses = new SymbolUses();
    uses.push(original);
    for (const mode of ['strings', 'primitives'] as const) {
      const out = join(dir, `${mode}.hprof`);
      const r = await heapdump('redact', dump, out, '--mode', mode);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        new RegExp(`: ${original.length} bytes, redacted \\(${mode}\\), sha256 [0-9a-f]{64}$`, 'm'),
      );
      const got = await readFile(out);
      const expected = Buffer.from(original);
      // The uploader's code, told which symbols the dump uses: the file is local, so every other one goes.
      new HprofRedactor(mode, { keepSymbols: uses.ids }).push(expected);
      assert.ok(got.equals(expected), 'the same code path as the uploader');
      assert.deepEqual(
        [...secrets.texts, ...FIXTURE_LITERALS, 'hunter2', 'Jdbc-S3cret'].filter((t) => findText(got, t)),
        [],
      );
      assert.equal(got.includes(secrets.pin), mode === 'strings');
      assert.equal((await stat(out)).mode & 0o777, 0o600);
      const [a, b] = await Promise.all([analyzeFile(out, { top: 1000 }), analyzeFile(dump, { top: 1000 })]);
      assert.equal(a.verdict, 'complete');
      assert.deepEqual(a.topClasses, b.topClasses);
    }
  });

  it('reads a .zst dump, refuses to overwrite without --force, and exits 1 on a file that is not HPROF', async () => {
    const zst = join(dir, 'app.hprof.zst');
    await writeFile(zst, zstdCompressSync(await readFile(dump)));
    const out = join(dir, 'from-zst.hprof');
    assert.equal((await heapdump('redact', zst, out)).code, 0);
    assert.ok((await readFile(out)).equals(await readFile(join(dir, 'strings.hprof'))));
    const again = await heapdump('redact', zst, out);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /exists \(use --force to overwrite it\)/);
    assert.equal((await heapdump('redact', zst, out, '--force')).code, 0);
    const foreign = join(dir, 'notes.hprof');
    await writeFile(foreign, 'password=hunter2\n');
    const bad = await heapdump('redact', foreign, join(dir, 'notes-redacted.hprof'));
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /stops being HPROF \(not an HPROF file at offset 0\)/);
    assert.ok((await readFile(join(dir, 'notes-redacted.hprof'))).every((b) => b === 0));
    const usage = await heapdump('redact', dump, join(dir, 'x.hprof'), '--mode', 'all');
    assert.equal(usage.code, 2);
  });
});
