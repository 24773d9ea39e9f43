// What a new upload is (new-upload.ts): its key, compression and the object's metadata, fixed before it starts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DUMP_METADATA, parseDumpKey } from '@kube-heapdump/contract';
import { newUpload } from '../src/new-upload.ts';
import { podConfig } from './fixtures.ts';

describe('a new upload (new-upload.ts)', () => {
  const cfg = podConfig('/dumps', undefined, { HEAPDUMP_COMPRESSION: 'zstd', NODE_NAME: 'node-1' });
  const startedAt = new Date('2026-12-01T10:00:00.500Z');
  const o = { startedAt, redact: 'strings' as const, version: '9.9.9' };

  it("is keyed and described as this pod's dump, compressed as configured", () => {
    const u = newUpload(cfg, { file: 'java_pid1.hprof', st: { dev: 3, ino: 9 }, jvmGzip: false }, o);
    const key = parseDumpKey(cfg.prefix, u.key);
    assert.deepEqual(
      [key?.namespace, key?.app, key?.pod, key?.file, key?.startedAt.toISOString()],
      ['prod', 'shop', 'shop-1', 'java_pid1.hprof', '2026-12-01T10:00:00.000Z'],
    );
    assert.ok(u.key.endsWith('-java_pid1.hprof.zst'));
    assert.deepEqual(
      [u.file, u.dev, u.ino, u.compression, u.redaction],
      ['java_pid1.hprof', 3, 9, 'zstd', 'strings'],
    );
    assert.deepEqual(u.metadata, {
      [DUMP_METADATA.pod]: 'shop-1',
      [DUMP_METADATA.namespace]: 'prod',
      [DUMP_METADATA.node]: 'node-1',
      [DUMP_METADATA.app]: 'shop',
      [DUMP_METADATA.file]: 'java_pid1.hprof',
      [DUMP_METADATA.startedAt]: '2026-12-01T10:00:00.500Z',
      [DUMP_METADATA.compression]: 'zstd',
      [DUMP_METADATA.redaction]: 'strings',
      [DUMP_METADATA.uploaderVersion]: '9.9.9',
    });
  });

  it('declares gzip, whatever is configured, for a dump the JVM gzipped', () => {
    const u = newUpload(cfg, { file: 'java_pid1.hprof', st: { dev: 3, ino: 9 }, jvmGzip: true }, o);
    assert.equal(u.compression, 'gzip');
    assert.equal(u.metadata[DUMP_METADATA.compression], 'gzip');
    assert.ok(u.key.endsWith('-java_pid1.hprof.gz'));
  });

  it('gives each upload its own key', () => {
    const dump = { file: 'java_pid1.hprof', st: { dev: 3, ino: 9 }, jvmGzip: false };
    assert.notEqual(newUpload(cfg, dump, o).key, newUpload(cfg, dump, o).key);
  });
});
