// How `heapdump inspect` reads to a developer on real dumps: one unit system, a total row, --top for every
// list, identical arrays grouped, the size convention only on request, names from the dump escaped, colour
// only on a terminal and never with NO_COLOR / --no-color.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURE_CLASS, HeldJvm, runOutOfMemory } from '../../../test/support/java.ts';
import { RUN_SOURCE } from '../../../test/support/node.ts';
import { run } from '../../../test/support/processes.ts';

const cli = join(import.meta.dirname, '../src/main.ts');
const heapdump = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, [...RUN_SOURCE, cli, ...args], { PATH: process.env.PATH, ...env });
const ESC = '\u001b';

describe('heapdump output', () => {
  let dir: string;
  let held: string;
  let oom: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kh-output-'));
    held = join(dir, 'held.hprof');
    const jvm = await HeldJvm.start({ alphas: 2_000, betas: 10, gammas: 10, alphaArrays: 3 });
    try {
      await jvm.dump(held);
    } finally {
      await jvm.close();
    }
    // Dies of OOM filling the heap with identical long[65536] arrays: the largest-array list repeats them.
    const oomDir = join(dir, 'oom');
    const r = await runOutOfMemory({ alphas: 10, betas: 1, gammas: 1, alphaArrays: 1 }, [
      '-Xmx24m',
      '-XX:+HeapDumpOnOutOfMemoryError',
      `-XX:HeapDumpPath=${oomDir}.hprof`,
    ]);
    assert.notEqual(r.code, 0, r.output);
    oom = `${oomDir}.hprof`;
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('a total row, IEC units only, and no size footnote unless --explain', async () => {
    const r = await heapdump(['inspect', held, '--top', '5']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^total\s+[\d,]+\s+[\d.]+ MiB\s+all [\d,]+ classes \(top 5 of the classes shown\)$/m,
    );
    assert.doesNotMatch(r.stdout, /\b(MB|KB|GB)\b|\d bytes\b/);
    assert.doesNotMatch(r.stdout, /Sizes:/);
    const explained = await heapdump(['inspect', held, '--explain']);
    assert.match(explained.stdout, /\n\nSizes: shallow bytes = object header/);
    const help = await heapdump(['inspect', '--help']);
    assert.match(help.stdout, /Sizes: shallow bytes = object header/);
  });

  it('identical largest arrays are one row with their count; --top limits that list too', async () => {
    const r = await heapdump(['inspect', oom, '--top', '3']);
    assert.equal(r.code, 0, r.stderr);
    const arrays = r.stdout.split('Largest arrays\n')[1]?.split('\n') ?? [];
    assert.match(arrays[0] ?? '', /^arrays\s+length\s+bytes each\s+type$/);
    const rows = arrays.slice(1).filter((l) => l.trim() !== '');
    assert.ok(rows.length >= 1 && rows.length <= 3, r.stdout);
    assert.match(rows[0] ?? '', /^\s*([2-9]|10)\s+65,536\s+512\.0 KiB\s+long\[\]$/);
    assert.equal(new Set(rows).size, rows.length, 'no repeated row');
    const classes = (r.stdout.split('Largest arrays')[0] ?? '')
      .split('\n')
      .filter((l) => /^\s*\d+\s+[\d,]+\s+[\d.]+ [KM]?i?B\s+\S/.test(l));
    assert.equal(classes.length, 3);
  });

  it('a class name holding an escape sequence is printed escaped', async () => {
    // Same length, so the HPROF string record stays valid: the class is now named with ESC sequences.
    const raw = await readFile(held);
    const name = Buffer.from(FIXTURE_CLASS.gamma);
    const evil = Buffer.from(`HeapFixt${ESC}[2J${ESC}[31m`);
    assert.equal(evil.length, name.length);
    const at = raw.indexOf(name);
    assert.ok(at > 0);
    evil.copy(raw, at);
    const hostile = join(dir, `evil${ESC}]0;owned${'\u0007'}.hprof`);
    await writeFile(hostile, raw);
    for (const args of [
      ['inspect', hostile, '--top', '100'],
      ['inspect', hostile, '--json'],
    ]) {
      const r = await heapdump(args);
      assert.equal(r.code, 0, r.stderr);
      if (args.includes('--json')) {
        assert.ok(!r.stdout.includes(ESC), 'JSON escapes it as \\u001b');
        continue;
      }
      assert.ok(!r.stdout.includes(ESC), 'no raw ESC reaches the terminal');
      assert.ok(!r.stdout.includes('\u0007'));
      assert.match(r.stdout, /HeapFixt\\x1b\[2J\\x1b\[31m$/m);
      assert.match(r.stdout, /^File {6}\S*evil\\x1b\]0;owned\\x07\.hprof /m);
    }
  });

  it('colour on a terminal, never with NO_COLOR or --no-color, never in a pipe', async () => {
    const green = `${ESC}[32mcomplete${ESC}[0m`;
    const piped = await heapdump(['inspect', held]);
    assert.ok(!piped.stdout.includes(ESC));
    // A real terminal: `script` runs the command on a pseudo-terminal.
    const command = [process.execPath, ...RUN_SOURCE, cli, 'inspect', held].map((a) => `'${a}'`).join(' ');
    const tty = await run('script', ['-qec', command, '/dev/null'], {
      PATH: process.env.PATH,
      TERM: 'xterm',
    });
    assert.equal(tty.code, 0, tty.stderr);
    assert.ok(tty.stdout.includes(`Verdict   ${green}`), JSON.stringify(tty.stdout.slice(0, 300)));
    const noColor = await run('script', ['-qec', command, '/dev/null'], {
      PATH: process.env.PATH,
      TERM: 'xterm',
      NO_COLOR: '1',
    });
    assert.ok(!noColor.stdout.includes(`${ESC}[`), 'NO_COLOR');
    const flag = await run('script', ['-qec', `${command} --no-color`, '/dev/null'], {
      PATH: process.env.PATH,
      TERM: 'xterm',
    });
    assert.equal(flag.code, 0, flag.stdout);
    assert.ok(!flag.stdout.includes(`${ESC}[`), '--no-color');
    const forced = await heapdump(['inspect', held], { FORCE_COLOR: '1' });
    assert.ok(forced.stdout.includes(green));
  });
});
