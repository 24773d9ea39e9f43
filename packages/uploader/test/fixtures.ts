// What the uploader's in-process suites set up alike: a logger whose lines the test reads back, an S3
// client for a loopback store, the configuration of a pod shipping to it, and a Shipper with quick retries.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before } from 'node:test';
import { parseUploaderEnv, type UploaderConfig } from '@kube-heapdump/contract';
import pino from 'pino';
import { Limiter } from '../src/limiter.ts';
import type { Logger } from '../src/log.ts';
import { Metrics } from '../src/metrics.ts';
import { createS3Client, ONCE_RETRY } from '../src/s3.ts';
import { Shipper } from '../src/shipper.ts';
import { StateStore } from '../src/state.ts';

const MiB = 1024 * 1024;

/** A fresh directory per call, all under one temporary root made before the suite and removed after it. */
export function suiteDirs(prefix: string): () => Promise<string> {
  let root: string;
  let n = 0;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), prefix));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });
  return () => mkdtemp(join(root, `${++n}-`));
}

/** A logger at `level` whose JSON lines land, parsed, in `lines`. */
export function logLines(level: pino.Level = 'info'): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { log: pino({ level }, sink), lines };
}

/** An S3 client for a store on loopback (path-style addressing). */
export function loopbackClient(endpoint: string, log: Logger) {
  return createS3Client(
    { region: 'us-east-1', endpoint, forcePathStyle: true, maxSockets: 8, idleTimeoutMs: 5000 },
    log,
  );
}

/**
 * The configuration of pod prod/shop/`POD_NAME` (default shop-1) shipping `dir` to bucket `dumps`: at
 * `endpoint`, or in AWS's us-east-1 when there is none.
 */
export function podConfig(
  dir: string,
  endpoint: string | undefined,
  env: Record<string, string> = {},
): UploaderConfig {
  return parseUploaderEnv(
    {
      HEAPDUMP_DIR: dir,
      HEAPDUMP_BUCKET: 'dumps',
      ...(endpoint === undefined
        ? { AWS_REGION: 'us-east-1' }
        : { HEAPDUMP_S3_ENDPOINT: endpoint, HEAPDUMP_S3_FORCE_PATH_STYLE: 'true' }),
      POD_NAME: 'shop-1',
      POD_NAMESPACE: 'prod',
      HEAPDUMP_APP: 'shop',
      ...env,
    },
    'h',
  );
}

/** A Shipper for `cfg` with quick retries (state in its dump directory). */
export function testShipper(
  cfg: UploaderConfig,
  s3: ReturnType<typeof loopbackClient>,
  log: Logger,
): Shipper {
  return new Shipper({
    cfg,
    s3,
    log,
    metrics: new Metrics(),
    state: new StateStore(cfg.dir),
    retry: { ...ONCE_RETRY, baseMs: 10, capMs: 50 },
    limiter: new Limiter({ slots: cfg.concurrency, bytes: cfg.bufferMiB * MiB }),
    version: 'test',
    pollMs: 20,
  });
}
