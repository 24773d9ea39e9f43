// `heapdump inspect` as a user runs it: a separate process on real dump files.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { analyzeFile, HISTOGRAM_LIMITS } from '@kube-heapdump/hprof';
import { FIXTURE_CLASS, HeldJvm } from '../../../test/support/java.ts';
import { RUN_SOURCE } from '../../../test/support/node.ts';
import { run } from '../../../test/support/processes.ts';
import { HprofWriter, sampleDump } from '../../hprof/test/synthetic.ts';

const cli = join(import.meta.dirname, '../src/main.ts');
const heapdump = (...args: string[]) => run(process.execPath, [...RUN_SOURCE, cli, ...args]);

describe('heapdump inspect', () => {
  let dir: string;
  let dump: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kh-inspect-'));
    dump = join(dir, 'app.hprof');
    const jvm = await HeldJvm.start({ alphas: 23456, betas: 10, gammas: 10, alphaArrays: 3 });
    try {
      await jvm.dump(dump);
    } finally {
      await jvm.close();
    }
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('prints the verdict, header facts and an aligned class table', async () => {
    const r = await heapdump('inspect', dump, '--top', '40');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Verdict {3}complete$/m);
    assert.match(r.stdout, /^Format {4}JAVA PROFILE 1\.0\.2, 8-byte identifiers, written \d{4}-/m);
    const row = r.stdout.split('\n').find((l) => l.endsWith(` ${FIXTURE_CLASS.alpha}`));
    assert.match(row ?? '', /^\s*\d+\s+23,456\s+[\d.]+ KiB\s+HeapFixture\$Alpha$/);
    const header = r.stdout.split('\n').find((l) => /^\s*#\s+instances/.test(l))!;
    assert.equal(header.indexOf('class'), row!.indexOf('HeapFixture'), 'class column aligned');
  });

  it('prints the same summary as JSON that the library returns', async () => {
    const r = await heapdump('inspect', dump, '--json', '--top', '5');
    assert.equal(r.code, 0, r.stderr);
    const printed = JSON.parse(r.stdout);
    assert.deepEqual(printed, JSON.parse(JSON.stringify(await analyzeFile(dump, { top: 5 }))));
    assert.equal(printed.schema, 'kube-heapdump/hprof-summary/v1');
    assert.equal(printed.topClasses.length, 5);
  });

  it('reads .hprof.gz and .hprof.zst', async () => {
    const raw = await readFile(dump);
    for (const [name, bytes, compression] of [
      ['app.hprof.gz', gzipSync(raw), 'gzip'],
      ['app.hprof.zst', zstdCompressSync(raw), 'zstd'],
    ] as const) {
      await writeFile(join(dir, name), bytes);
      const r = await heapdump('inspect', join(dir, name), '--json');
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout);
      assert.equal(s.verdict, 'complete');
      assert.equal(s.compression, compression);
      assert.equal(s.bytes, raw.length);
    }
  });

  it('exits 1 with the reason for an incomplete or foreign file', async () => {
    const raw = await readFile(dump);
    await writeFile(join(dir, 'cut.hprof'), raw.subarray(0, Math.floor(raw.length * 0.7)));
    const cut = await heapdump('inspect', join(dir, 'cut.hprof'));
    assert.equal(cut.code, 1);
    assert.match(cut.stdout, /^Verdict {3}incomplete: the dump is cut inside a heap dump segment/m);
    await writeFile(join(dir, 'notes.txt'), 'not a heap dump\n');
    const foreign = await heapdump('inspect', join(dir, 'notes.txt'));
    assert.equal(foreign.code, 1);
    assert.match(foreign.stdout, /^Verdict {3}invalid: not an HPROF file: it begins "n"/m);
  });

  it('says what is wrong in one line, exit 2, for bad usage', async () => {
    const missing = await heapdump('inspect', join(dir, 'nope.hprof'));
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, `heapdump: cannot read ${join(dir, 'nope.hprof')}: no such file\n`);
    const directory = await heapdump('inspect', dir);
    assert.equal(directory.code, 2);
    assert.match(directory.stderr, /it is a directory/);
    const badTop = await heapdump('inspect', dump, '--top', 'many');
    assert.equal(badTop.code, 2);
    assert.match(badTop.stderr, /"many" is not a positive integer/);
    const noFile = await heapdump('inspect');
    assert.equal(noFile.code, 2);
    assert.match(noFile.stderr, /missing required argument 'file|key'/);
    const unknown = await heapdump('explode');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'explode'/);
    assert.doesNotMatch(missing.stderr + badTop.stderr + unknown.stderr, /\n\s+at /, 'no stack trace');
  });

  it('documents every verb and flag in --help', async () => {
    const top = await heapdump('--help');
    assert.equal(top.code, 0);
    assert.match(top.stdout, /inspect \[options\] <file\|key>/);
    const verb = await heapdump('inspect', '--help');
    assert.equal(verb.code, 0);
    for (const flag of ['--top <n>', '--json']) assert.ok(verb.stdout.includes(flag), flag);
  });
});

describe('heapdump inspect on crafted dumps (issue 19.4)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kh-inspect-crafted-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('says when the histogram reached its class limit, and still calls the dump complete', async () => {
    const n = HISTOGRAM_LIMITS.classes + 1000;
    const w = new HprofWriter(4);
    w.segment(...Array.from({ length: n }, (_, i) => w.instance(i + 1, 0x100000 + i, 0)));
    const file = join(dir, 'classes.hprof');
    await writeFile(file, w.end().toBuffer());
    const r = await heapdump('inspect', file);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Verdict {3}complete$/m);
    assert.match(r.stdout, /^Capped {4}1,000 objects of classes past the 65,536 tracked/m);
  });

  it('calls a header timestamp no date holds invalid: exit 1 with the reason, not a crash', async () => {
    const bytes = sampleDump(8);
    bytes.writeUInt32BE(0x7fffffff, 23);
    const file = join(dir, 'timestamp.hprof');
    await writeFile(file, bytes);
    const r = await heapdump('inspect', file);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^Verdict {3}invalid: header timestamp \d+ ms is not a date/m);
  });
});
