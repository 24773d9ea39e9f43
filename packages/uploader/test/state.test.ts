// The upload state on disk: what a restart finds after a crash at any point, and what it refuses to trust.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFile, lstat, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type PartRecord, STATE_DIR, StateStore, stateId, type UploadState } from '../src/state.ts';

const upload: UploadState = {
  version: 2,
  file: 'java_pid1.hprof',
  dev: 2049,
  ino: 42,
  key: 'heapdumps/prod/shop/shop-1/20261128T000000Z-0a1b2c3d-java_pid1.hprof.zst',
  uploadId: 'u',
  startedAt: '2026-11-28T00:00:00.000Z',
  compression: 'zstd',
  crc32: true,
  parts: [],
};
const part = (n: number, etag = `e${n}`): PartRecord => ({
  partNumber: n,
  firstBlock: n,
  lastBlock: n,
  etag,
  size: 5,
  checksum: 'AAAAAA==',
  verified: 'crc32',
});

describe('upload state store', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kh-state-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('keeps parts in an append-only journal: last record wins, a torn last line is ignored', async () => {
    const store = new StateStore(dir);
    await store.saveParts(upload.file, []);
    await store.save(upload);
    await store.savePart(upload.file, part(1));
    await store.savePart(upload.file, part(2));
    await store.savePart(upload.file, part(1, 'again'));
    const id = stateId(upload.file);
    await appendFile(join(dir, STATE_DIR, `${id}.parts`), '{"partNumber":3,"firstBl'); // killed mid-append
    await store.save({ ...upload, completedAt: 'now' });
    const loaded = await store.load(upload.file);
    assert.ok(loaded && 'state' in loaded);
    assert.equal(loaded.state.completedAt, 'now');
    assert.deepEqual(loaded.state.parts, [part(1, 'again'), part(2)]);
    await store.saveParts(upload.file, [part(1)]);
    const again = await store.load(upload.file);
    assert.deepEqual(again && 'state' in again ? again.state.parts : undefined, [part(1)]);
    await writeFile(join(dir, STATE_DIR, `${'f'.repeat(16)}.json.999999.tmp`), 'left by a killed run');
    assert.deepEqual(await store.ids(), [id]);
    await store.remove(upload.file);
    assert.deepEqual(await readdir(join(dir, STATE_DIR)), []);
  });

  it('names state files by a hash, so any file name fits (non-ASCII, newlines, 240+ characters)', async () => {
    const store = new StateStore(dir);
    for (const file of ['日本.hprof', 'a\nb.hprof', `${'x'.repeat(250)}.hprof`]) {
      await store.save({ ...upload, file });
      const loaded = await store.load(file);
      assert.ok(loaded && 'state' in loaded, file);
      assert.equal(loaded.state.file, file);
      await store.remove(file);
    }
  });

  it('discards a state that names another file, is not ours to trust, or does not hold together', async () => {
    const store = new StateStore(dir);
    await mkdir(join(dir, STATE_DIR), { recursive: true });
    const plant = (id: string, content: unknown) =>
      writeFile(
        join(dir, STATE_DIR, `${id}.json`),
        typeof content === 'string' ? content : JSON.stringify(content),
      );
    // A crafted state naming a file outside the directory, under the id of a real dump's name.
    await plant(stateId('java_pid1.hprof'), { ...upload, file: '../../victim' });
    const crafted = await store.load('java_pid1.hprof');
    assert.deepEqual(crafted, { discarded: 'it names another file than its own' });
    for (const [content, why] of [
      ['not json', /not JSON/],
      [{ ...upload, version: 1 }, /version/],
      [{ ...upload, ino: -1 }, /device and inode/],
      [{ ...upload, uploadId: 7 }, /upload id/],
      [{ ...upload, compression: 'lz4' }, /compression/],
    ] as const) {
      await plant(stateId(upload.file), content);
      const loaded = await store.load(upload.file);
      assert.ok(loaded && 'discarded' in loaded, JSON.stringify(content));
      assert.match(loaded.discarded, why);
    }
    assert.deepEqual(await readdir(join(dir, STATE_DIR)), [], 'discarded states are removed');
    // The caller's own rule (a key outside this pod's prefix) discards too.
    await store.save(upload);
    const foreign = await store.load(upload.file, (s) =>
      s.key.startsWith('other/') ? undefined : 'not our key',
    );
    assert.deepEqual(foreign, { discarded: 'not our key' });
  });

  it('never follows a state directory or state file the app container replaced with a link or a FIFO', async () => {
    const volume = await mkdtemp(join(tmpdir(), 'kh-state-volume-'));
    const elsewhere = await mkdtemp(join(tmpdir(), 'kh-state-elsewhere-'));
    try {
      await writeFile(join(elsewhere, 'precious.tmp'), 'keep');
      await writeFile(join(elsewhere, `${stateId(upload.file)}.json`), JSON.stringify(upload));
      await symlink(elsewhere, join(volume, STATE_DIR));
      const store = new StateStore(volume);
      assert.deepEqual(await store.ids(), [], 'no state read through the link');
      assert.deepEqual(await readdir(elsewhere), [`${stateId(upload.file)}.json`, 'precious.tmp'].sort());
      assert.equal(
        (await lstat(join(volume, STATE_DIR)).catch(() => undefined))?.isSymbolicLink(),
        undefined,
      );
      await store.save(upload);
      assert.ok((await lstat(join(volume, STATE_DIR))).isDirectory(), 'a real directory made in its place');
      // A FIFO where the parts journal should be: discarded at once, never waited on.
      assert.equal(spawnSync('mkfifo', [join(volume, STATE_DIR, `${stateId(upload.file)}.parts`)]).status, 0);
      const loaded = await store.load(upload.file);
      assert.ok(
        loaded &&
          'discarded' in loaded &&
          /not a state file: it is not a regular file \(fifo\)/.test(loaded.discarded),
        JSON.stringify(loaded),
      );
    } finally {
      await rm(volume, { recursive: true, force: true });
      await rm(elsewhere, { recursive: true, force: true });
    }
  });
});
