// The uploader's environment contract: defaults, every variable, every refusal naming its variable, and
// the literal env the component renders parsing back to the same settings.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  EnvError,
  parseNotifyEnv,
  parseUploaderEnv,
  resolveStore,
  UPLOADER_DEFAULTS,
  UPLOADER_ENV,
  type UploaderSettings,
  uploaderEnvValues,
} from '../src/index.ts';

const base = { HEAPDUMP_BUCKET: 'dumps', AWS_REGION: 'eu-west-1' };

describe('uploader environment', () => {
  it('applies the documented defaults', () => {
    const c = parseUploaderEnv(base, 'pod-abc');
    assert.deepEqual(c, {
      dir: '/dumps',
      bucket: 'dumps',
      prefix: 'heapdumps/',
      endpoint: undefined,
      forcePathStyle: false,
      region: 'eu-west-1',
      compression: 'zstd',
      checksum: 'auto',
      deleteAfterUpload: true,
      quietSeconds: 60,
      concurrency: 16,
      bufferMiB: 16,
      timeoutSeconds: 30,
      shutdownSeconds: 25,
      metricsPort: 9779,
      logLevel: 'info',
      pod: { name: 'pod-abc', namespace: 'default', node: 'unknown', app: 'pod-abc' },
    });
  });

  it('reads every variable of the contract', () => {
    const c = parseUploaderEnv(
      {
        HEAPDUMP_DIR: '/d',
        HEAPDUMP_BUCKET: 'my.bucket-1',
        HEAPDUMP_PREFIX: 'team/dumps',
        HEAPDUMP_S3_ENDPOINT: 'https://obs.cn-north-4.myhuaweicloud.com',
        HEAPDUMP_S3_FORCE_PATH_STYLE: 'true',
        AWS_REGION: 'cn-north-4',
        HEAPDUMP_COMPRESSION: 'gzip',
        HEAPDUMP_DELETE_AFTER_UPLOAD: 'false',
        HEAPDUMP_QUIET_SECONDS: '2.5',
        HEAPDUMP_METRICS_PORT: '0',
        HEAPDUMP_S3_CHECKSUM: 'md5',
        HEAPDUMP_S3_CONCURRENCY: '4',
        HEAPDUMP_BUFFER_MIB: '64',
        HEAPDUMP_S3_TIMEOUT_SECONDS: '10',
        HEAPDUMP_SHUTDOWN_SECONDS: '55',
        HEAPDUMP_LOG_LEVEL: 'debug',
        POD_NAME: 'p',
        POD_NAMESPACE: 'n',
        NODE_NAME: 'node',
        HEAPDUMP_APP: 'a',
        HEAPDUMP_REDACT: 'primitives',
        HEAPDUMP_OWNER_UID: '0',
        HEAPDUMP_MAX_DUMP_BYTES: '4294967296',
      },
      'host',
    );
    assert.deepEqual(c, {
      dir: '/d',
      bucket: 'my.bucket-1',
      prefix: 'team/dumps/',
      endpoint: 'https://obs.cn-north-4.myhuaweicloud.com',
      forcePathStyle: true,
      region: 'cn-north-4',
      compression: 'gzip',
      checksum: 'md5',
      deleteAfterUpload: false,
      quietSeconds: 2.5,
      concurrency: 4,
      bufferMiB: 64,
      timeoutSeconds: 10,
      shutdownSeconds: 55,
      metricsPort: 0,
      logLevel: 'debug',
      redact: 'primitives',
      ownerUid: 0,
      maxDumpBytes: 4294967296,
      pod: { name: 'p', namespace: 'n', node: 'node', app: 'a' },
    });
  });

  it('notifications: Events on by default inside a cluster, the API server from Kubernetes, a checked webhook URL', () => {
    assert.deepEqual(parseNotifyEnv({}), {
      events: true,
      serviceAccountDir: '/var/run/secrets/kubernetes.io/serviceaccount',
      apiServer: undefined,
      webhookUrl: undefined,
      podUid: undefined,
    });
    assert.deepEqual(
      parseNotifyEnv({
        KUBERNETES_SERVICE_HOST: '10.96.0.1',
        KUBERNETES_SERVICE_PORT: '443',
        HEAPDUMP_EVENTS: 'false',
        HEAPDUMP_SERVICE_ACCOUNT_DIR: '/sa',
        HEAPDUMP_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x',
        POD_UID: 'u-1',
      }),
      {
        events: false,
        serviceAccountDir: '/sa',
        apiServer: 'https://10.96.0.1:443',
        webhookUrl: 'https://hooks.slack.com/services/T/B/x',
        podUid: 'u-1',
      },
    );
    assert.equal(parseNotifyEnv({ KUBERNETES_SERVICE_HOST: 'fd00::1' }).apiServer, 'https://[fd00::1]:443');
    for (const [env, variable, message] of [
      [{ HEAPDUMP_EVENTS: 'yes' }, 'HEAPDUMP_EVENTS', /must be true or false/],
      [{ HEAPDUMP_WEBHOOK_URL: 'hooks.slack.com/x' }, 'HEAPDUMP_WEBHOOK_URL', /is not a URL/],
      [{ HEAPDUMP_WEBHOOK_URL: 'ftp://h/x' }, 'HEAPDUMP_WEBHOOK_URL', /must be an http\(s\) URL/],
    ] as const) {
      assert.throws(
        () => parseNotifyEnv(env),
        (e: unknown) => e instanceof EnvError && e.variable === variable && message.test(e.message),
      );
    }
  });

  it('signs for us-east-1 with an endpoint and no region; AWS_DEFAULT_REGION stands in for AWS_REGION', () => {
    assert.equal(
      parseUploaderEnv({ HEAPDUMP_BUCKET: 'dumps', HEAPDUMP_S3_ENDPOINT: 'http://minio:9000' }, 'h').region,
      'us-east-1',
    );
    assert.equal(
      parseUploaderEnv({ HEAPDUMP_BUCKET: 'dumps', AWS_DEFAULT_REGION: 'ap-east-1' }, 'h').region,
      'ap-east-1',
    );
  });

  it('takes what S3 and S3-compatible stores take: a 512-byte UTF-8 prefix, a zonegroup as region, a node name', () => {
    const cfg = parseUploaderEnv(
      {
        HEAPDUMP_BUCKET: 'dumps',
        HEAPDUMP_S3_ENDPOINT: 'http://rgw:7480',
        AWS_REGION: 'zone_group.1',
        HEAPDUMP_PREFIX: `${'日'.repeat(170)}/`,
        NODE_NAME: 'ip-10-0-1-7.eu-west-3.compute.internal',
      },
      'h',
    );
    assert.equal(cfg.region, 'zone_group.1');
    assert.equal(Buffer.byteLength(cfg.prefix), 511);
    assert.equal(cfg.pod.node, 'ip-10-0-1-7.eu-west-3.compute.internal');
  });

  it('keeps an empty prefix (dumps at the top of the bucket), unlike other empty values', () => {
    const c = parseUploaderEnv({ ...base, HEAPDUMP_PREFIX: '', HEAPDUMP_COMPRESSION: '' }, 'h');
    assert.equal(c.prefix, '');
    assert.equal(c.compression, UPLOADER_DEFAULTS.compression);
  });

  const bad: [Record<string, string>, string, RegExp][] = [
    [{ AWS_REGION: 'x' }, 'HEAPDUMP_BUCKET', /is required/],
    [{ ...base, HEAPDUMP_BUCKET: 'Bad_Bucket' }, 'HEAPDUMP_BUCKET', /not a valid bucket name/],
    [{ HEAPDUMP_BUCKET: 'dumps' }, 'AWS_REGION', /required when HEAPDUMP_S3_ENDPOINT is not set/],
    [{ ...base, HEAPDUMP_S3_ENDPOINT: 'minio:9000' }, 'HEAPDUMP_S3_ENDPOINT', /must be an http/],
    [{ ...base, HEAPDUMP_S3_ENDPOINT: 'not a url' }, 'HEAPDUMP_S3_ENDPOINT', /is not a URL/],
    [{ ...base, HEAPDUMP_S3_ENDPOINT: 'https://k:s3cret@h' }, 'HEAPDUMP_S3_ENDPOINT', /holds credentials/],
    [{ ...base, HEAPDUMP_COMPRESSION: 'lz4' }, 'HEAPDUMP_COMPRESSION', /not one of zstd, gzip, none/],
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
    [{ ...base, HEAPDUMP_S3_CHECKSUM: 'sha1' }, 'HEAPDUMP_S3_CHECKSUM', /not one of auto, crc32, md5, off/],
    [{ ...base, HEAPDUMP_S3_CONCURRENCY: '0' }, 'HEAPDUMP_S3_CONCURRENCY', /an integer from 1 to 64/],
    [{ ...base, HEAPDUMP_BUFFER_MIB: '2' }, 'HEAPDUMP_BUFFER_MIB', /from 8 to 4096/],
    [{ ...base, HEAPDUMP_LOG_LEVEL: 'trace' }, 'HEAPDUMP_LOG_LEVEL', /not one of debug, info, warn, error/],
    [{ ...base, HEAPDUMP_PREFIX: '/abs' }, 'HEAPDUMP_PREFIX', /must not start with/],
    [{ ...base, POD_NAMESPACE: 'a/b' }, 'POD_NAMESPACE', /cannot be a key segment/],
    [{ ...base, HEAPDUMP_APP: '..' }, 'HEAPDUMP_APP', /cannot be a key segment/],
    [{ ...base, POD_NAME: 'pod name' }, 'POD_NAME', /cannot be a key segment/],
    [{ ...base, HEAPDUMP_REDACT: 'all' }, 'HEAPDUMP_REDACT', /not one of none, strings, primitives/],
    [{ ...base, HEAPDUMP_OWNER_UID: 'app' }, 'HEAPDUMP_OWNER_UID', /an integer from 0 to/],
    [{ ...base, HEAPDUMP_OWNER_UID: '-1' }, 'HEAPDUMP_OWNER_UID', /an integer from 0 to/],
    [{ ...base, HEAPDUMP_MAX_DUMP_BYTES: '0' }, 'HEAPDUMP_MAX_DUMP_BYTES', /an integer from 1 to/],
    [{ ...base, HEAPDUMP_MAX_DUMP_BYTES: '1.5' }, 'HEAPDUMP_MAX_DUMP_BYTES', /an integer/],
    // Values no upload could ever work with (issue 27.6): refused at start rather than retried forever.
    [{ ...base, HEAPDUMP_PREFIX: '日'.repeat(500) }, 'HEAPDUMP_PREFIX', /1500 bytes in UTF-8, more than 512/],
    [
      { ...base, HEAPDUMP_PREFIX: `${'p'.repeat(400)}/`, POD_NAME: 'x'.repeat(200) },
      'HEAPDUMP_PREFIX',
      /leaves no room in S3's 1024-byte keys/,
    ],
    [{ ...base, NODE_NAME: 'node\nX-Injected: 1' }, 'NODE_NAME', /"node\\nX-Injected: 1" is not a node name/],
    [{ ...base, NODE_NAME: 'nœud-1' }, 'NODE_NAME', /is not a node name/],
    [{ ...base, AWS_REGION: 'bad/region' }, 'AWS_REGION', /is not an AWS region/],
    [
      { HEAPDUMP_BUCKET: 'dumps', AWS_DEFAULT_REGION: 'EU West' },
      'AWS_DEFAULT_REGION',
      /is not an AWS region/,
    ],
    [
      { ...base, HEAPDUMP_S3_ENDPOINT: 'http://rgw:7480', AWS_REGION: 'zg/1' },
      'AWS_REGION',
      /"zg\/1" is not a region/,
    ],
  ];
  for (const [env, variable, message] of bad) {
    it(`refuses ${variable}=${JSON.stringify(env[variable] ?? '(unset)').slice(0, 40)}, naming the variable`, () => {
      assert.throws(
        () => parseUploaderEnv(env, 'h'),
        (err: unknown) =>
          err instanceof EnvError &&
          err.variable === variable &&
          message.test(err.message) &&
          err.message.startsWith(variable) &&
          !err.message.includes('s3cret'),
      );
    });
  }

  it('parses the env it renders back to the same settings, for every choice', () => {
    const settings: UploaderSettings & { app: string } = {
      dir: '/var/dumps',
      bucket: 'obs-bucket',
      prefix: 'team/',
      endpoint: 'https://obs.cn-north-4.myhuaweicloud.com',
      region: 'cn-north-4',
      forcePathStyle: true,
      checksum: 'off',
      compression: 'none',
      deleteAfterUpload: true,
      quietSeconds: 30,
      concurrency: 8,
      bufferMiB: 48,
      timeoutSeconds: 20,
      shutdownSeconds: 100,
      metricsPort: 9100,
      logLevel: 'warn',
      redact: 'strings',
      ownerUid: 1000,
      maxDumpBytes: 2 * 2 ** 30,
      app: 'orders',
    };
    for (const variant of [
      settings,
      {
        ...settings,
        endpoint: undefined,
        prefix: '',
        compression: 'gzip' as const,
        redact: 'primitives' as const,
      },
    ]) {
      const env = Object.fromEntries(uploaderEnvValues(variant).map((e) => [e.name, e.value]));
      const { pod, ...parsed } = parseUploaderEnv({ ...env, POD_NAME: 'orders-1' }, 'h');
      const { app, ...expected } = variant;
      assert.deepEqual(parsed, expected);
      assert.equal(pod.app, app);
      assert.ok(Object.keys(env).every((name) => Object.values(UPLOADER_ENV).includes(name as never)));
    }
  });

  it('resolves the store part from any source, as the CLI does with its flags', () => {
    const flags: Record<string, string> = {
      HEAPDUMP_BUCKET: 'bucket-1',
      HEAPDUMP_S3_ENDPOINT: 'http://127.0.0.1:9000',
    };
    assert.deepEqual(
      resolveStore((v) => flags[v]),
      {
        bucket: 'bucket-1',
        prefix: 'heapdumps/',
        endpoint: 'http://127.0.0.1:9000',
        region: 'us-east-1',
        forcePathStyle: false,
      },
    );
  });
});
