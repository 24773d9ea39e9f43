// The uploader's pure core: configuration, key layout, block schedule, CRC32 combination.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { combinedCrc32, crc32Base64, crc32Combine } from '../src/crc32.ts';
import {
  blockSize,
  blockStart,
  ConfigError,
  dumpKey,
  isDumpFileName,
  keyTimestamp,
  MAX_DUMP_BYTES,
  MAX_PARTS,
  parseConfig,
  summaryKey,
} from '../src/index.ts';
import { parseDumpKey } from '../src/keys.ts';

const base = { HEAPDUMP_BUCKET: 'dumps', AWS_REGION: 'eu-west-1' };

describe('uploader configuration', () => {
  it('applies the documented defaults', () => {
    const c = parseConfig(base, 'pod-abc');
    assert.deepEqual(
      { ...c, pod: undefined },
      {
        dir: '/dumps',
        bucket: 'dumps',
        prefix: 'heapdumps/',
        endpoint: undefined,
        forcePathStyle: false,
        region: 'eu-west-1',
        compression: 'zstd',
        deleteAfterUpload: true,
        quietSeconds: 60,
        metricsPort: 9779,
        checksums: true,
        pod: undefined,
      },
    );
    assert.deepEqual(c.pod, { name: 'pod-abc', namespace: 'default', node: 'unknown', app: 'pod-abc' });
  });

  it('reads every variable of the contract', () => {
    const c = parseConfig(
      {
        HEAPDUMP_DIR: '/d',
        HEAPDUMP_BUCKET: 'my.bucket-1',
        HEAPDUMP_PREFIX: 'team/dumps',
        HEAPDUMP_S3_ENDPOINT: 'https://obs.cn-north-4.myhuaweicloud.com',
        HEAPDUMP_S3_FORCE_PATH_STYLE: 'true',
        AWS_REGION: 'cn-north-4',
        HEAPDUMP_COMPRESSION: 'zstd',
        HEAPDUMP_DELETE_AFTER_UPLOAD: 'false',
        HEAPDUMP_QUIET_SECONDS: '2.5',
        HEAPDUMP_METRICS_PORT: '0',
        HEAPDUMP_S3_CHECKSUM: 'off',
        POD_NAME: 'p',
        POD_NAMESPACE: 'n',
        NODE_NAME: 'node',
        HEAPDUMP_APP: 'a',
      },
      'host',
    );
    assert.equal(c.prefix, 'team/dumps/', 'a prefix gets its trailing slash');
    assert.equal(c.endpoint, 'https://obs.cn-north-4.myhuaweicloud.com');
    assert.equal(c.region, 'cn-north-4');
    assert.equal(c.forcePathStyle, true);
    assert.equal(c.compression, 'zstd');
    assert.equal(c.deleteAfterUpload, false);
    assert.equal(c.quietSeconds, 2.5);
    assert.equal(c.metricsPort, 0);
    assert.equal(c.checksums, false);
    assert.deepEqual(c.pod, { name: 'p', namespace: 'n', node: 'node', app: 'a' });
    assert.equal(
      parseConfig({ HEAPDUMP_BUCKET: 'dumps', HEAPDUMP_S3_ENDPOINT: 'http://minio:9000' }, 'h').region,
      'us-east-1',
    );
  });

  const bad: [Record<string, string>, string, RegExp][] = [
    [{ AWS_REGION: 'x' }, 'HEAPDUMP_BUCKET', /is required/],
    [{ ...base, HEAPDUMP_BUCKET: 'Bad_Bucket' }, 'HEAPDUMP_BUCKET', /not a valid bucket name/],
    [{ HEAPDUMP_BUCKET: 'dumps' }, 'AWS_REGION', /required when HEAPDUMP_S3_ENDPOINT is not set/],
    [{ ...base, HEAPDUMP_S3_ENDPOINT: 'minio:9000' }, 'HEAPDUMP_S3_ENDPOINT', /must be an http/],
    [{ ...base, HEAPDUMP_S3_ENDPOINT: 'not a url' }, 'HEAPDUMP_S3_ENDPOINT', /is not a URL/],
    [{ ...base, HEAPDUMP_COMPRESSION: 'lz4' }, 'HEAPDUMP_COMPRESSION', /not one of none, gzip, zstd/],
    [
      { ...base, HEAPDUMP_S3_FORCE_PATH_STYLE: 'yes' },
      'HEAPDUMP_S3_FORCE_PATH_STYLE',
      /must be true or false/,
    ],
    [{ ...base, HEAPDUMP_DELETE_AFTER_UPLOAD: '1' }, 'HEAPDUMP_DELETE_AFTER_UPLOAD', /must be true or false/],
    [{ ...base, HEAPDUMP_QUIET_SECONDS: '-1' }, 'HEAPDUMP_QUIET_SECONDS', /from 1 to 86400/],
    [{ ...base, HEAPDUMP_QUIET_SECONDS: 'soon' }, 'HEAPDUMP_QUIET_SECONDS', /must be a number/],
    [{ ...base, HEAPDUMP_METRICS_PORT: '70000' }, 'HEAPDUMP_METRICS_PORT', /an integer from 0 to 65535/],
    [{ ...base, HEAPDUMP_METRICS_PORT: '80.5' }, 'HEAPDUMP_METRICS_PORT', /an integer/],
    [{ ...base, HEAPDUMP_S3_CHECKSUM: 'md5' }, 'HEAPDUMP_S3_CHECKSUM', /not one of crc32, off/],
    [{ ...base, HEAPDUMP_PREFIX: '/abs' }, 'HEAPDUMP_PREFIX', /must not start with/],
    [{ ...base, POD_NAMESPACE: 'a/b' }, 'POD_NAMESPACE', /cannot be a key segment/],
    [{ ...base, HEAPDUMP_APP: '..' }, 'HEAPDUMP_APP', /cannot be a key segment/],
  ];
  for (const [env, variable, message] of bad) {
    it(`refuses ${variable}=${env[variable] ?? '(unset)'}, naming the variable`, () => {
      assert.throws(
        () => parseConfig(env, 'h'),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.variable === variable &&
          message.test(err.message) &&
          err.message.startsWith(variable),
      );
    });
  }
});

describe('object keys', () => {
  const pod = { namespace: 'prod', app: 'shop', name: 'shop-1' };
  const at = new Date('2026-11-28T07:09:01.599Z');
  it('follows <prefix><namespace>/<app>/<pod>/<UTC timestamp>-<file>[.gz|.zst]', () => {
    assert.equal(keyTimestamp(at), '20261128T070901Z');
    assert.equal(
      dumpKey('heapdumps/', pod, at, 'java_pid1.hprof', 'gzip'),
      'heapdumps/prod/shop/shop-1/20261128T070901Z-java_pid1.hprof.gz',
    );
    assert.equal(
      dumpKey('', pod, at, 'java_pid1.hprof', 'zstd'),
      'prod/shop/shop-1/20261128T070901Z-java_pid1.hprof.zst',
    );
    assert.equal(
      dumpKey('x/', pod, at, 'java_pid1.hprof', 'none'),
      'x/prod/shop/shop-1/20261128T070901Z-java_pid1.hprof',
    );
    assert.equal(
      dumpKey('x/', pod, at, 'java_pid1.hprof.gz', 'zstd'),
      'x/prod/shop/shop-1/20261128T070901Z-java_pid1.hprof.gz',
      'the JVM gzipped it already',
    );
    assert.equal(
      dumpKey('x/', pod, at, 'java_pid1.hprof', 'gzip', 2),
      'x/prod/shop/shop-1/20261128T070901Z-n2-java_pid1.hprof.gz',
    );
    assert.equal(summaryKey('a/b.hprof.gz'), 'a/b.hprof.gz.summary.json');
  });

  it('recognises dump files and ignores pieces, dot-files and others', () => {
    for (const yes of ['java_pid1.hprof', 'java_pid42.hprof.gz', 'app.hprof'])
      assert.ok(isDumpFileName(yes), yes);
    for (const no of [
      'java_pid1.hprof.p0',
      'java_pid1.hprof.p12',
      '.java_pid1.hprof',
      '.heapdump-uploader',
      'core.1',
      'x.hprof.tmp',
    ]) {
      assert.ok(!isDumpFileName(no), no);
    }
  });
});

describe('reading keys back', () => {
  const at = new Date('2026-11-28T07:09:01.000Z');
  it('parses every key dumpKey makes back into its parts', () => {
    for (const prefix of ['heapdumps/', '', 'a/b/'])
      for (const compression of ['gzip', 'zstd', 'none'] as const)
        for (const attempt of [1, 3]) {
          const pod = { namespace: 'prod', app: 'shop', name: 'shop-7d9f-x1' };
          const key = dumpKey(prefix, pod, at, 'java_pid1.hprof', compression, attempt);
          assert.deepEqual(parseDumpKey(prefix, key), {
            key,
            namespace: 'prod',
            app: 'shop',
            pod: 'shop-7d9f-x1',
            startedAt: at,
            file: 'java_pid1.hprof',
            compression,
          });
        }
  });

  it('refuses summaries, other prefixes and foreign keys', () => {
    const key = 'heapdumps/prod/shop/p/20261128T070901Z-java_pid1.hprof.gz';
    assert.ok(parseDumpKey('heapdumps/', key));
    for (const [prefix, other] of [
      ['heapdumps/', `${key}.summary.json`],
      ['other/', key],
      ['heapdumps/', 'heapdumps/prod/shop/20261128T070901Z-java_pid1.hprof'],
      ['heapdumps/', 'heapdumps/prod/shop/p/yesterday-java_pid1.hprof'],
      ['heapdumps/', 'heapdumps/prod/shop/p/20261128T070901Z-notes.txt'],
    ] as const) {
      assert.equal(parseDumpKey(prefix, other), undefined, other);
    }
  });
});

describe('block schedule', () => {
  const partsFor = (bytes: number) => {
    let n = 1;
    while (blockStart(n) + blockSize(n) < bytes) n++;
    return n;
  };
  it('is contiguous, keeps 8 MiB blocks up to 62.5 GiB, and fits ~1 TiB in 10,000 parts below 5 GiB', () => {
    for (let n = 1; n < MAX_PARTS; n++)
      assert.equal(blockStart(n + 1), blockStart(n) + blockSize(n), `block ${n}`);
    // The memory of the parts in flight (one block each) is the same for every dump up to 62.5 GiB.
    assert.equal(blockSize(1), 8 * 2 ** 20);
    assert.equal(blockSize(8000), 8 * 2 ** 20);
    assert.equal(partsFor(16 * 2 ** 30), 2048);
    assert.equal(partsFor(62.5 * 2 ** 30), 8000);
    assert.equal(blockSize(8001), 16 * 2 ** 20);
    assert.equal(partsFor(MAX_DUMP_BYTES), MAX_PARTS);
    assert.equal(partsFor(MAX_DUMP_BYTES + 1), MAX_PARTS + 1);
    // 8000 x 8 MiB, then 250 blocks each of 16 MiB, 32 MiB, ... 2 GiB.
    assert.equal(MAX_DUMP_BYTES, 8000 * 8 * 2 ** 20 + 250 * 8 * 2 ** 20 * (2 ** 9 - 2));
    assert.ok(MAX_DUMP_BYTES > 2 ** 40, 'over 1 TiB');
    assert.equal(blockSize(MAX_PARTS), 2 * 2 ** 30, "the largest part stays below S3's 5 GiB");
  });
});

describe('whole-object CRC32 from part CRC32s', () => {
  it('equals the CRC32 of the concatenation, for empty, small, odd and multi-MiB parts', () => {
    const sizes = [0, 1, 7, 4096, 5 * 2 ** 20 + 3, 0, 8 * 2 ** 20];
    const parts = sizes.map((n, i) => randomBytes(n).fill(i, 0, Math.min(n, 17)));
    const whole = crc32(Buffer.concat(parts));
    const combined = parts.reduce((c, p) => crc32Combine(c, crc32(p), p.length), 0);
    assert.equal(combined, whole);
    const fromRecords = combinedCrc32(parts.map((p) => ({ checksum: crc32Base64([p]), size: p.length })));
    assert.equal(Buffer.from(fromRecords, 'base64').readUInt32BE(0), whole);
  });

  it('handles lengths beyond 32 bits (a 5 GiB part) like zlib', () => {
    // x^(8n) for n = 5 GiB must not wrap: combining a zero-length-equivalent identity still holds, and
    // combining over 2^32 + k bytes equals stepping over 2^32 then k bytes.
    const a = crc32(Buffer.from('heap'));
    const big = 5 * 2 ** 30;
    const stepped = crc32Combine(crc32Combine(a, 0, 2 ** 32), 0, big - 2 ** 32);
    assert.equal(crc32Combine(a, 0, big), stepped);
    assert.notEqual(crc32Combine(a, 0, big), crc32Combine(a, 0, big % 2 ** 32));
  });

  it('splits a part into chunks without changing its CRC32', () => {
    const body = randomBytes(3 * 2 ** 20 + 11);
    assert.equal(crc32Base64([body.subarray(0, 100), body.subarray(100)]), crc32Base64([body]));
  });
});
