// The catalog's pure rules in-process (catalog.ts): the filters as flags, what a summary-less dump shows, sizes
// a dump can have, `latest~N`, and how a stored dump is compressed. (store-verbs.test.ts runs the verbs.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DUMP_METADATA, dumpKey } from '@kube-heapdump/contract';
import { filterFlags, latestIndex, possibleSize, storedCompression, verdictOf } from '../src/catalog.ts';
import type { Store } from '../src/store.ts';

test('filters read back as the flags that set them, control characters escaped', () => {
  assert.equal(filterFlags({}), '');
  assert.equal(
    filterFlags({ namespace: 'shop', app: 'cart', pod: 'cart-1', since: new Date('2026-11-28T07:00:00Z') }),
    '-n shop --app cart --pod cart-1 --since 2026-11-28T07:00:00.000Z',
  );
  assert.equal(filterFlags({ app: 'a\u001b[31m' }), '--app a\\x1b[31m');
});

test('a dump without a readable summary says why instead of a verdict', () => {
  const facts = { originalBytes: undefined, sha256: undefined };
  assert.equal(verdictOf({ ...facts, summary: 'stored', verdict: 'complete' }), 'complete');
  assert.equal(verdictOf({ ...facts, summary: 'stored', verdict: undefined }), '?');
  assert.equal(verdictOf({ ...facts, summary: 'missing', verdict: undefined }), 'no summary');
  assert.equal(verdictOf({ ...facts, summary: 'unreadable', verdict: undefined }), 'unreadable');
});

test('a size from metadata is digits up to 1 PiB, else unknown', () => {
  assert.equal(possibleSize('0'), 0);
  assert.equal(possibleSize('1073741824'), 2 ** 30);
  assert.equal(possibleSize(String(2 ** 50)), 2 ** 50);
  for (const forged of [String(2 ** 50 + 1), '99999999999999999', '-1', '1e9', '12 ', '']) {
    assert.equal(possibleSize(forged), undefined, forged);
  }
});

test('latest, latest~N, and anything else a key', () => {
  assert.equal(latestIndex('latest'), 0);
  assert.equal(latestIndex('latest~2'), 2);
  for (const key of ['latest~', 'latest~-1', 'Latest', 'p/shop/x.hprof'])
    assert.equal(latestIndex(key), undefined, key);
});

test("a stored dump's compression: the metadata, else the key's suffix", () => {
  const store = { prefix: 'p/' } as Store;
  const key = (compression: 'gzip' | 'zstd' | 'none') =>
    dumpKey({
      prefix: 'p/',
      namespace: 'shop',
      app: 'cart',
      pod: 'cart-1',
      startedAt: new Date('2026-11-28T07:00:00Z'),
      id: '0123abcd',
      file: 'java_pid1.hprof',
      compression,
    });
  assert.equal(storedCompression(store, key('zstd'), undefined), 'zstd');
  assert.equal(storedCompression(store, key('gzip'), {}), 'gzip');
  assert.equal(storedCompression(store, key('none'), undefined), 'none');
  assert.equal(storedCompression(store, key('zstd'), { [DUMP_METADATA.compression]: 'gzip' }), 'gzip');
  assert.equal(storedCompression(store, key('gzip'), { [DUMP_METADATA.compression]: 'lz4' }), 'gzip');
  assert.equal(storedCompression(store, 'elsewhere/x.hprof.zst', undefined), 'zstd');
  assert.equal(storedCompression(store, 'elsewhere/x.hprof.gz', undefined), 'gzip');
  assert.equal(storedCompression(store, 'elsewhere/x.hprof', undefined), 'none');
});
