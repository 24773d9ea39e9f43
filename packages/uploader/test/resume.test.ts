// Resume, restart or abandon (resume.ts) in-process: saved states on disk (a real StateStore), the store a
// stand-in that records what is sent to it (an abandoned upload is aborted there).
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import { dumpKey } from '@kube-heapdump/contract';
import pino from 'pino';
import { FileChanged } from '../src/dump-file.ts';
import { Journal } from '../src/journal.ts';
import { Restart } from '../src/multipart.ts';
import { Resume } from '../src/resume.ts';
import { ONCE_RETRY } from '../src/s3.ts';
import { STATE_DIR, StateStore, type UploadState } from '../src/state.ts';
import { logLines, podConfig, suiteDirs } from './fixtures.ts';

const FILE = 'java_pid1.hprof';
const ST = { dev: 7, ino: 42 };

describe('resume, restart or abandon (resume.ts)', () => {
  const newDir = suiteDirs('kh-resume-');
  async function setUp(env: Record<string, string> = {}) {
    const dir = await newDir();
    const { log, lines } = logLines('info');
    const cfg = podConfig(dir, undefined, env);
    const sent: { command: string; input: Record<string, unknown> }[] = [];
    const s3 = {
      send: async (c: { constructor: { name: string }; input: Record<string, unknown> }) => {
        sent.push({ command: c.constructor.name, input: c.input });
        return {};
      },
    } as unknown as S3Client;
    const store = new StateStore(dir);
    const resume = new Resume({
      cfg,
      store,
      log,
      session: {
        s3,
        bucket: cfg.bucket,
        checksum: cfg.checksum,
        log,
        retry: { policy: ONCE_RETRY, log },
        onBytes: () => {},
      },
    });
    /** A saved upload of FILE by this pod (`pod`: another's). */
    const save = async (over: Partial<UploadState> = {}, pod = 'shop-1') => {
      const startedAt = new Date('2026-12-01T10:00:00Z');
      const key = dumpKey({
        prefix: cfg.prefix,
        namespace: 'prod',
        app: 'shop',
        pod,
        startedAt,
        id: '0123abcd',
        file: FILE,
        compression: 'zstd',
      });
      const state: UploadState = {
        version: 2,
        file: FILE,
        ...ST,
        key,
        uploadId: 'upload-1',
        startedAt: startedAt.toISOString(),
        compression: 'zstd',
        redaction: 'none',
        crc32: true,
        parts: [],
        ...over,
      };
      await store.save(state);
      return state;
    };
    const saved = async () => readdir(join(dir, STATE_DIR)).catch(() => []);
    return { dir, cfg, store, resume, save, saved, sent, lines };
  }

  it('starts new when nothing is saved', async () => {
    const t = await setUp();
    assert.equal(await t.resume.find({ file: FILE, st: ST }, 'none'), undefined);
    assert.deepEqual(t.sent, []);
  });

  it("resumes this file's saved upload, with its parts", async () => {
    const t = await setUp();
    const state = await t.save();
    const found = await t.resume.find({ file: FILE, st: ST }, 'none');
    assert.ok(found instanceof Journal);
    assert.equal(found.state.key, state.key);
    assert.equal(found.state.uploadId, 'upload-1');
    assert.deepEqual(t.sent, [], 'nothing aborted');
  });

  it('ships nothing again for a dump shipped before whose file was kept', async () => {
    const t = await setUp();
    await t.save({ completedAt: '2026-12-01T10:01:00Z', doneAt: '2026-12-01T10:02:00Z' });
    assert.equal(await t.resume.find({ file: FILE, st: ST }, 'none'), 'shipped');
    assert.equal((await t.saved()).length, 1, 'its state stays');
  });

  it('abandons the saved upload of a file another has replaced: aborted in the store, forgotten here', async () => {
    const t = await setUp();
    const state = await t.save();
    assert.equal(await t.resume.find({ file: FILE, st: { ...ST, ino: 43 } }, 'none'), undefined);
    assert.deepEqual(t.sent, [
      {
        command: 'AbortMultipartUploadCommand',
        input: { Bucket: 'dumps', Key: state.key, UploadId: 'upload-1' },
      },
    ]);
    assert.deepEqual(await t.saved(), []);
    const said = t.lines.find((l) => l.msg === 'upload abandoned');
    assert.equal(said?.why, 'a new file replaced the one being uploaded');
  });

  it('abandons an upload whose parts were redacted otherwise, unless its object is complete', async () => {
    const t = await setUp();
    await t.save({ redaction: 'none' });
    assert.equal(await t.resume.find({ file: FILE, st: ST }, 'strings'), undefined);
    assert.equal(
      t.lines.find((l) => l.msg === 'upload abandoned')?.why,
      'its parts were redacted with none, not strings',
    );
    await t.save({ redaction: 'none', completedAt: '2026-12-01T10:01:00Z' });
    assert.ok((await t.resume.find({ file: FILE, st: ST }, 'strings')) instanceof Journal);
    assert.equal(t.sent.length, 1, 'the complete one is not aborted');
  });

  it("discards, and says so, a saved state with another pod's key", async () => {
    const t = await setUp();
    await t.save({}, 'shop-2');
    assert.equal(await t.resume.find({ file: FILE, st: ST }, 'none'), undefined);
    const said = t.lines.find((l) => l.msg === 'discarded a saved upload state that cannot be trusted');
    assert.match(String(said?.why), /is not one of this pod's/);
    assert.deepEqual(await t.saved(), []);
    assert.deepEqual(t.sent, [], 'not ours to abort');
  });

  it('sweeps: the upload of a file gone is abandoned, one kept stays', async () => {
    const t = await setUp();
    await t.save();
    await t.resume.sweep(() => true);
    assert.equal((await t.saved()).length, 1);
    await t.resume.sweep((file) => file !== FILE);
    assert.deepEqual(await t.saved(), []);
    assert.equal(t.lines.find((l) => l.msg === 'upload abandoned')?.why, 'its dump file is gone');
    assert.equal(t.sent.length, 1);
  });

  it('restarts: the upload is aborted and forgotten; a file that keeps changing is left for later', async () => {
    const t = await setUp();
    await t.save();
    await t.resume.restart(FILE, new Restart('NoSuchUpload: the store lost it'), 0);
    assert.deepEqual(await t.saved(), []);
    assert.equal(t.lines.find((l) => l.msg === 'upload abandoned')?.why, 'NoSuchUpload: the store lost it');

    const state = await t.save();
    await t.resume.restart(FILE, new FileChanged('it was truncated'), 3);
    const changed = t.lines.filter((l) =>
      String(l.msg).startsWith('the dump file changed while it was uploaded'),
    );
    assert.deepEqual(
      changed.map((l) => [l.key, l.objectStored]),
      [[state.key, false]],
    );
    assert.equal(t.sent.length, 2, 'aborted');
    assert.equal(t.lines.filter((l) => l.msg === 'upload abandoned').length, 1, 'told once, by the warning');
    assert.deepEqual(await t.saved(), []);

    await t.save();
    await assert.rejects(
      t.resume.restart(FILE, new FileChanged('it was truncated'), 4),
      /it was truncated; it keeps changing, so it is kept/,
    );
  });

  it('once stored, the state goes with the file, or stays marked done while the file is kept', async () => {
    const deleting = await setUp();
    const journal = new Journal(deleting.store, await deleting.save(), pino({ level: 'silent' }));
    await deleting.resume.stored(journal);
    assert.deepEqual(await deleting.saved(), []);

    const keeping = await setUp({ HEAPDUMP_DELETE_AFTER_UPLOAD: 'false' });
    const kept = new Journal(keeping.store, await keeping.save(), pino({ level: 'silent' }));
    await keeping.resume.stored(kept);
    const loaded = await keeping.store.load(FILE);
    assert.ok(loaded && 'state' in loaded && loaded.state.doneAt !== undefined);
    assert.equal(await keeping.resume.find({ file: FILE, st: ST }, 'none'), 'shipped');
  });
});
