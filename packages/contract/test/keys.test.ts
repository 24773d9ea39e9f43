// The key layout (keys.ts): made, read back, unique per upload, valid for every file name.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type DumpKeyParts,
  dumpKey,
  fileKind,
  isDumpFileName,
  keySafeName,
  keyTimestamp,
  newDumpId,
  originPrefix,
  parseDumpKey,
  summaryKey,
} from '../src/index.ts';

const at = new Date('2026-11-28T07:09:01.599Z');
const parts = (over: Partial<DumpKeyParts> = {}): DumpKeyParts => ({
  prefix: 'heapdumps/',
  namespace: 'prod',
  app: 'shop',
  pod: 'shop-1',
  startedAt: at,
  id: '0a1b2c3d',
  file: 'java_pid1.hprof',
  compression: 'zstd',
  ...over,
});

describe('object keys', () => {
  it('follow <prefix><namespace>/<app>/<pod>/<UTC time>-<id>-<file>[.gz|.zst]', () => {
    assert.equal(keyTimestamp(at), '20261128T070901Z');
    assert.equal(
      dumpKey(parts()),
      'heapdumps/prod/shop/shop-1/20261128T070901Z-0a1b2c3d-java_pid1.hprof.zst',
    );
    assert.equal(
      dumpKey(parts({ prefix: '', compression: 'gzip' })),
      'prod/shop/shop-1/20261128T070901Z-0a1b2c3d-java_pid1.hprof.gz',
    );
    assert.equal(
      dumpKey(parts({ compression: 'none' })),
      'heapdumps/prod/shop/shop-1/20261128T070901Z-0a1b2c3d-java_pid1.hprof',
    );
    assert.equal(
      dumpKey(parts({ file: 'java_pid1.hprof.gz' })),
      'heapdumps/prod/shop/shop-1/20261128T070901Z-0a1b2c3d-java_pid1.hprof.gz',
      'the JVM gzipped it already',
    );
    assert.equal(summaryKey('a/b.hprof.gz'), 'a/b.hprof.gz.summary.json');
    assert.throws(() => dumpKey(parts({ id: 'XYZ' })), /not 8 hex digits/);
  });

  it('differ for two dumps of the same file, pod and second: the id is random per upload', () => {
    const ids = new Set(Array.from({ length: 1000 }, newDumpId));
    assert.equal(ids.size, 1000);
    for (const id of ids) assert.match(id, /^[0-9a-f]{8}$/);
  });

  it('tell heap dumps, crash logs and Flight Recorder files apart by name', () => {
    assert.equal(fileKind('java_pid1.hprof'), 'heap-dump');
    assert.equal(fileKind('java_pid1.hprof.gz'), 'heap-dump');
    assert.equal(fileKind('hs_err_pid1.log'), 'hs-err');
    assert.equal(fileKind('flight-recording.jfr'), 'jfr');
    for (const no of [
      'hs_err_pid.log',
      'hs_err_pid1.log.1',
      'x_hs_err_pid1.log',
      'app.log',
      '.r.jfr',
      'r.jfr.tmp',
    ])
      assert.equal(fileKind(no), undefined, no);
  });

  it('recognise dump files and ignore pieces, dot-files and others', () => {
    for (const yes of ['java_pid1.hprof', 'java_pid42.hprof.gz', 'app.hprof', '日本.hprof'])
      assert.ok(isDumpFileName(yes), yes);
    for (const no of [
      'java_pid1.hprof.p0',
      '.java_pid1.hprof',
      '.heapdump-uploader',
      'core.1',
      'x.hprof.tmp',
    ])
      assert.ok(!isDumpFileName(no), no);
  });

  it('map every file name to a valid, distinct key segment that keeps the .hprof ending', () => {
    assert.equal(keySafeName('java_pid1.hprof'), 'java_pid1.hprof');
    const odd = [
      '日本.hprof',
      'a\nb.hprof',
      'esc\u001b[31m.hprof',
      `${'x'.repeat(240)}.hprof`,
      'a b.hprof.gz',
    ];
    const safe = odd.map(keySafeName);
    assert.equal(new Set(safe).size, odd.length);
    for (const [i, s] of safe.entries()) {
      assert.match(s, /^[A-Za-z0-9._~-]{1,90}\.hprof(\.gz)?$/, odd[i]);
      assert.ok(isDumpFileName(s));
      const key = dumpKey(parts({ file: odd[i]! }));
      assert.equal(parseDumpKey('heapdumps/', key)?.file, s.replace(/\.gz$/, ''));
    }
    assert.equal(keySafeName('a b.hprof.gz').endsWith('.hprof.gz'), true);
  });
});

describe('reading keys back', () => {
  const whole = new Date('2026-11-28T07:09:01.000Z');
  it('parses every key dumpKey makes back into its parts', () => {
    for (const prefix of ['heapdumps/', '', 'a/b/'])
      for (const compression of ['gzip', 'zstd', 'none'] as const) {
        const p = parts({ prefix, compression, startedAt: whole, pod: 'shop-7d9f-x1' });
        const key = dumpKey(p);
        assert.deepEqual(parseDumpKey(prefix, key), {
          key,
          namespace: 'prod',
          app: 'shop',
          pod: 'shop-7d9f-x1',
          startedAt: whole,
          id: '0a1b2c3d',
          file: 'java_pid1.hprof',
          kind: 'heap-dump',
          compression,
        });
      }
  });

  it('reads crash logs and recordings back with their kind, compressed or not', () => {
    for (const [file, kind] of [
      ['hs_err_pid7.log', 'hs-err'],
      ['flight-recording.jfr', 'jfr'],
      ['日本.jfr', 'jfr'],
    ] as const)
      for (const compression of ['gzip', 'zstd', 'none'] as const) {
        const parsed = parseDumpKey('heapdumps/', dumpKey(parts({ file, compression })));
        assert.equal(parsed?.kind, kind, file);
        assert.equal(parsed?.compression, compression, `${file} ${compression}`);
        assert.equal(parsed?.file, keySafeName(file));
      }
  });

  it('refuses summaries, other prefixes and foreign keys', () => {
    const key = 'heapdumps/prod/shop/p/20261128T070901Z-0a1b2c3d-java_pid1.hprof.gz';
    assert.ok(parseDumpKey('heapdumps/', key));
    for (const [prefix, other] of [
      ['heapdumps/', `${key}.summary.json`],
      ['other/', key],
      ['heapdumps/', 'heapdumps/prod/shop/20261128T070901Z-0a1b2c3d-java_pid1.hprof'],
      ['heapdumps/', 'heapdumps/prod/shop/p/20261128T070901Z-java_pid1.hprof'],
      ['heapdumps/', 'heapdumps/prod/shop/p/yesterday-0a1b2c3d-java_pid1.hprof'],
      ['heapdumps/', 'heapdumps/prod/shop/p/20261128T070901Z-0a1b2c3d-notes.txt'],
    ] as const) {
      assert.equal(parseDumpKey(prefix, other), undefined, other);
    }
  });

  it('narrows a listing by namespace, then app, then pod', () => {
    assert.equal(originPrefix('h/', {}), 'h/');
    assert.equal(originPrefix('h/', { namespace: 'n', app: 'a' }), 'h/n/a/');
    assert.equal(originPrefix('h/', { app: 'a' }), 'h/', 'app without namespace cannot narrow the prefix');
  });
});
