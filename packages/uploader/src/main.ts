#!/usr/bin/env node
// heapdump-uploader: the sidecar. Configuration comes from the environment (see README); flags: --once, --help.
import { access, constants, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { EnvError, parseUploaderEnv, redactUrl, type UploaderConfig } from '@kube-heapdump/contract';
import pkg from '../package.json' with { type: 'json' };
import { createLogger } from './log.ts';
import { Metrics, serveMetrics } from './metrics.ts';
import { createS3Client, DAEMON_RETRY, ONCE_RETRY } from './s3.ts';
import { Shipper } from './shipper.ts';
import { StateStore } from './state.ts';
import { Uploader } from './uploader.ts';

const HELP = `heapdump-uploader ${pkg.version}: streams JVM heap dumps to S3-compatible storage while they are written.

Usage: heapdump-uploader [--once]

  --once      ship the dumps in the directory (waiting for ones being written), then exit: 0 if all were
              stored, 1 if any failed
  --version   print the version
  --help      this text

Configuration (environment): HEAPDUMP_DIR (/dumps), HEAPDUMP_BUCKET (required), HEAPDUMP_PREFIX (heapdumps/),
HEAPDUMP_S3_ENDPOINT, HEAPDUMP_S3_FORCE_PATH_STYLE (false), HEAPDUMP_S3_CHECKSUM (crc32|off),
HEAPDUMP_COMPRESSION (gzip|zstd|none), HEAPDUMP_DELETE_AFTER_UPLOAD (true), HEAPDUMP_QUIET_SECONDS (60),
HEAPDUMP_METRICS_PORT (9779, 0 = off), HEAPDUMP_LOG_LEVEL (info), POD_NAME, POD_NAMESPACE, NODE_NAME,
HEAPDUMP_APP, and the AWS SDK's credential chain (AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE, ...).`;

function fail(message: string): never {
  process.stderr.write(`heapdump-uploader: ${message}\n`);
  process.exit(2);
}

async function checkDirectory(dir: string): Promise<void> {
  try {
    if (!(await stat(dir)).isDirectory()) fail(`HEAPDUMP_DIR ${dir} is not a directory`);
    await access(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    fail(
      `HEAPDUMP_DIR ${dir} ${code === 'ENOENT' ? 'does not exist' : `is not usable (${code}): the uploader must read and delete dumps there`}`,
    );
  }
}

async function main(): Promise<void> {
  let once = false;
  try {
    const { values } = parseArgs({
      options: {
        once: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
      },
    });
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return;
    }
    if (values.version) {
      process.stdout.write(`${pkg.version}\n`);
      return;
    }
    once = values.once ?? false;
  } catch (err) {
    fail(`${(err as Error).message} (see --help)`);
  }
  let cfg: UploaderConfig;
  try {
    cfg = parseUploaderEnv(process.env, hostname());
  } catch (err) {
    if (err instanceof EnvError) fail(err.message);
    throw err;
  }
  await checkDirectory(cfg.dir);

  const log = createLogger(cfg.logLevel);
  const metrics = new Metrics();
  const state = new StateStore(cfg.dir);
  const stopping = new AbortController();
  const shipper = new Shipper({
    cfg,
    s3: createS3Client(cfg),
    log,
    metrics,
    state,
    retry: once ? ONCE_RETRY : DAEMON_RETRY,
    version: pkg.version,
    pollMs: 100,
    // Parts in flight, each an 8 MiB buffer: 3 kept a 2.2 GB upload as fast as 4 (loopback, 2 cores) at
    // 127 instead of 136 MiB peak RSS.
    concurrency: 3,
    stopping: stopping.signal,
  });
  const uploader = new Uploader({ cfg, shipper, state, log, metrics });
  const { pod, endpoint, bucket, prefix, compression, checksums } = cfg;
  log.info(
    {
      version: pkg.version,
      dir: cfg.dir,
      bucket,
      prefix,
      endpoint: endpoint && redactUrl(endpoint),
      compression,
      checksums,
      pod,
      once,
    },
    'uploader starting',
  );

  if (once) {
    const failed = await uploader.once();
    log.info({ failed }, 'done');
    process.exit(failed > 0 ? 1 : 0);
  }

  const server =
    cfg.metricsPort > 0
      ? await serveMetrics(metrics, cfg.metricsPort).catch((err: Error) =>
          fail(`HEAPDUMP_METRICS_PORT ${cfg.metricsPort}: ${err.message}`),
        )
      : undefined;
  const shutdown = (signal: string) => {
    log.info({ signal, inProgress: metrics.inProgress }, 'stopping: finishing uploads under way');
    stopping.abort();
    void uploader.stop().then(() => {
      server?.close();
      log.info('stopped');
      process.exit(0);
    });
  };
  process.once('SIGTERM', shutdown).once('SIGINT', shutdown);
  await uploader.start();
}

await main();
