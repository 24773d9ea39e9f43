// What a dump file is, decided once when it is opened (open-dump.ts): its kind by name, JVM gzip by its first
// bytes, and the files that cannot be shipped under redaction.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { RedactMode } from '@kube-heapdump/contract';
import { Refused } from '../src/dump-file.ts';
import { openDump } from '../src/open-dump.ts';

const HPROF = Buffer.from('JAVA PROFILE 1.0.2\0');

describe('opening a dump (open-dump.ts)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kh-open-'));
    await writeFile(join(dir, 'java_pid1.hprof'), HPROF, { mode: 0o600 });
    await writeFile(join(dir, 'java_pid2.hprof'), gzipSync(HPROF), { mode: 0o600 });
    await writeFile(join(dir, 'hs_err_pid3.log'), '# A fatal error', { mode: 0o600 });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const open = (file: string, redact: RedactMode = 'none') =>
    openDump(file, { dir, maxBytes: 1 << 20, quietMs: 50, pollMs: 10, redact });

  it('says what the file is: an HPROF heap dump, one the JVM gzipped whatever its name, a crash log', async () => {
    for (const [file, kind, jvmGzip] of [
      ['java_pid1.hprof', 'heap-dump', false],
      ['java_pid2.hprof', 'heap-dump', true],
      ['hs_err_pid3.log', 'hs-err', false],
    ] as const) {
      const dump = await open(file);
      try {
        assert.deepEqual([dump.file, dump.kind, dump.jvmGzip], [file, kind, jvmGzip]);
      } finally {
        await dump.fh.close();
      }
    }
  });

  it('refuses, under redaction, what cannot be redacted: a JVM-gzipped dump, a file of another kind', async () => {
    const dump = await open('java_pid1.hprof', 'strings');
    await dump.fh.close();
    for (const file of ['java_pid2.hprof', 'hs_err_pid3.log']) {
      await assert.rejects(
        open(file, 'strings'),
        (err) => err instanceof Refused && err.reason === 'cannot-redact',
        file,
      );
    }
  });
});
