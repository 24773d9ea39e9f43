// The walk for the names a dump uses stops where HotSpot has written them all (the first heap sub-record that
// is not a class dump): on real OOM dumps of the fixture JVM, from the JDK on PATH and from Temurin 25 when it
// is installed (/usr/lib/jvm/temurin-25-jdk-amd64 on the dev machine), a walk of the whole dump finds no more.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runOutOfMemory } from '../../../test/support/java.ts';
import { SymbolUses } from '../src/symbol-uses.ts';

const TEMURIN_25 = '/usr/lib/jvm/temurin-25-jdk-amd64/bin';

async function oomDump(pathPrefix?: string): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'kh-symbols-'));
  try {
    const path = join(dir, 'oom.hprof');
    const flags = ['-Xmx64m', '-XX:+HeapDumpOnOutOfMemoryError', `-XX:HeapDumpPath=${path}`];
    const env = pathPrefix ? { ...process.env, PATH: `${pathPrefix}:${process.env.PATH}` } : process.env;
    const jvm = await runOutOfMemory({ alphas: 2000, betas: 100, gammas: 50, alphaArrays: 2 }, flags, env);
    assert.match(jvm.output, /Heap dump file created/);
    return await readFile(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('where a real dump has written every name use', () => {
  const jdks = [
    { name: 'the JDK on PATH', bin: undefined },
    { name: 'Temurin 25', bin: TEMURIN_25, skip: !existsSync(TEMURIN_25) && `${TEMURIN_25} not installed` },
  ];
  for (const jdk of jdks) {
    it(`${jdk.name}: a few MB in, and the whole dump uses no other name`, { skip: jdk.skip }, async () => {
      const dump = await oomDump(jdk.bin);
      const early = new SymbolUses();
      const whole = new SymbolUses({ whole: true });
      for (let at = 0; at < dump.length; at += 64 * 1024) {
        early.push(dump.subarray(at, at + 64 * 1024));
        whole.push(dump.subarray(at, at + 64 * 1024));
      }
      assert.equal(whole.failure, undefined);
      assert.ok(early.namesKnown);
      assert.ok(
        early.namesKnownAt < 8 << 20 && early.namesKnownAt < dump.length / 4,
        `${early.namesKnownAt}`,
      );
      assert.equal(whole.lateUses, 0);
      assert.deepEqual(early.ids, whole.ids);
      assert.ok(early.ids.size > 1000, `${early.ids.size} names`);
    });
  }
});
