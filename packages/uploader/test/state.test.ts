// The upload state on disk: what a restart finds after a crash at any point.
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { STATE_DIR, StateStore, type UploadState } from '../src/state.ts';

const upload: UploadState = {
  version: 1,
  file: 'java_pid1.hprof',
  ino: 42,
  key: 'k',
  uploadId: 'u',
  startedAt: '2026-11-28T00:00:00.000Z',
  compression: 'gzip',
  parts: [],
};
const part = (n: number, etag = `e${n}`) => ({
  partNumber: n,
  firstBlock: n,
  lastBlock: n,
  etag,
  size: 5,
  checksum: 'AAAAAA==',
});

describe('upload state store', () => {
  it('keeps parts in an append-only journal: last record wins, a torn last line is ignored', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kh-state-'));
    try {
      const store = new StateStore(dir);
      await store.saveParts(upload.file, []);
      await store.save(upload);
      await store.savePart(upload.file, part(1));
      await store.savePart(upload.file, part(2));
      await store.savePart(upload.file, part(1, 'again'));
      await appendFile(join(dir, STATE_DIR, `${upload.file}.parts`), '{"partNumber":3,"firstBl'); // killed mid-append
      await store.save({ ...upload, completedAt: 'now' });
      const loaded = await store.load(upload.file);
      assert.equal(loaded?.completedAt, 'now');
      assert.deepEqual(loaded?.parts, [part(1, 'again'), part(2)]);
      await store.saveParts(upload.file, [part(1)]);
      assert.deepEqual((await store.load(upload.file))?.parts, [part(1)]);
      await writeFile(join(dir, STATE_DIR, 'other.hprof.json.999999.tmp'), 'left by a killed run');
      assert.deepEqual(await store.files(), [upload.file]);
      await store.remove(upload.file);
      assert.deepEqual(await readdir(join(dir, STATE_DIR)), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
