// The uploader's redactor reads ahead only as far as the names go, and the summary's pass counts names a dump
// uses after its heap began (another writer's order), which redaction blanked rather than keep a literal.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HprofWriter } from '../../hprof/test/synthetic.ts';
import { analyse } from '../src/analysis.ts';
import { dumpRedactor } from '../src/symbol-scan.ts';

/** Symbols, a class, its class dump, 4 MiB of instances; `late`: a LOAD_CLASS after them naming symbol 2. */
function dump(late: boolean): Buffer {
  const w = new HprofWriter(8);
  w.utf8(1, 'early/Name').utf8(2, 'late/Name').utf8(3, 'password=hunter2').utf8(999, 'CONSTANT');
  w.loadClass(1, 100, 1);
  const instances = Array.from({ length: 4096 }, (_, i) => w.instance(1000 + i, 100, 1024));
  w.segment(w.classDump(100, 0, [], 1024), ...instances);
  if (late) w.loadClass(2, 101, 2);
  return w.end().toBuffer();
}

describe('the uploader redactor', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kh-symbol-scan-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function file(bytes: Buffer, name: string) {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return open(path, 'r');
  }

  it('reads ahead to the first heap sub-record that is not a class dump, not the whole file', async () => {
    const bytes = dump(false);
    const fh = await file(bytes, 'hotspot.hprof');
    try {
      let furthest = 0;
      const redactor = await dumpRedactor('strings', fh, (end) => {
        furthest = Math.max(furthest, end);
        return Math.min(end, bytes.length);
      });
      assert.ok(furthest <= 1024 * 1024 && furthest < bytes.length / 2, `read to ${furthest}`);
      const out = Buffer.from(bytes);
      redactor.push(out);
      assert.ok(out.includes(Buffer.from('early/Name')));
      for (const gone of ['late/Name', 'password=hunter2', 'hunter2'])
        assert.ok(!out.includes(Buffer.from(gone)), gone);
    } finally {
      await fh.close();
    }
  });

  it('a name used after the heap began: blanked, counted by the summary pass, hash of what is stored', async () => {
    const bytes = dump(true);
    const fh = await file(bytes, 'foreign.hprof');
    try {
      const a = await analyse({ fh, size: bytes.length, gzip: false, redact: 'primitives' });
      assert.equal(a.lateNames, 1);
      const out = Buffer.from(bytes);
      (await dumpRedactor('primitives', fh, (end) => Math.min(end, bytes.length))).push(out);
      assert.ok(!out.includes(Buffer.from('late/Name')) && !out.includes(Buffer.from('hunter2')));
      assert.equal(a.sha256, createHash('sha256').update(out).digest('hex'));
      const hotspot = dump(false);
      const fh2 = await file(hotspot, 'hotspot2.hprof');
      try {
        const b = await analyse({ fh: fh2, size: hotspot.length, gzip: false, redact: 'primitives' });
        assert.equal(b.lateNames, undefined);
      } finally {
        await fh2.close();
      }
    } finally {
      await fh.close();
    }
  });
});
