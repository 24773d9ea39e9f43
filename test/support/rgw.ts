// A real Ceph RADOS Gateway on 127.0.0.1 (scripts/rgw), for tests that must meet a real S3 implementation.
// How it differs from AWS S3 (If-None-Match on completion, checksums, aws-chunked bodies): docs/rgw-facts.md.
// A suite uses the gateway HEAPDUMP_TEST_RGW names (the JSON line `scripts/rgw start` printed: .ci/run starts
// one for the whole run), else starts its own when Ceph is installed. Without Ceph the suite is one skipped
// test naming the install line, except under CI=true, where it fails: CI must not pass without it.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { run } from './processes.ts';

const SCRIPT = join(import.meta.dirname, '../../scripts/rgw');

/** The variable naming a running gateway's JSON file (`scripts/rgw start DIR > FILE`). */
export const RGW_ENV = 'HEAPDUMP_TEST_RGW';
/** What scripts/rgw needs on PATH, and the Debian packages that provide it. */
const CEPH_TOOLS = ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'monmaptool', 'ceph', 'curl'];
export const CEPH_INSTALL = 'apt-get install -y ceph-mon ceph-osd radosgw ceph-common curl';

export interface RgwCredential {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface RgwServer {
  endpoint: string;
  region: string;
  /** Owned by `owner`. */
  bucket: string;
  /** The S3 user heapdump-owner: full access. */
  owner: RgwCredential;
  /** Its subuser heapdump-owner:uploader: writes (put, multipart, delete) but cannot read or list. */
  putOnly: RgwCredential;
  pids: number[];
  /** The cluster's directory: its ceph.conf (for radosgw-admin) and logs. */
  dir: string;
  /** Stops the daemons; idempotent. DIR keeps the logs. */
  stop(): Promise<void>;
}

/** Starts mon, OSD and radosgw with their state in `dir` (new or empty); the first run on a machine installs Ceph. */
export async function startRgw(dir: string): Promise<RgwServer> {
  const started = await run(SCRIPT, ['start', dir], process.env, 600_000);
  if (started.code !== 0)
    throw new Error(`scripts/rgw start ${dir} exited with ${started.code}:\n${started.stderr}`);
  const server = JSON.parse(started.stdout) as Omit<RgwServer, 'stop'>;
  return {
    ...server,
    async stop() {
      const stopped = await run(SCRIPT, ['stop', dir]);
      if (stopped.code !== 0)
        throw new Error(`scripts/rgw stop ${dir} exited with ${stopped.code}:\n${stopped.stderr}`);
    },
  };
}

function missingCephTools(): string[] {
  return CEPH_TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
}

const inCi = () => !['', '0', 'false', undefined].includes(process.env.CI?.toLowerCase());

/**
 * Why tests needing RGW cannot run here (undefined: they run). Only off CI: there a missing Ceph is a
 * failure (rgwForSuite says how to install it), not a skip.
 */
function rgwSkipReason(): string | undefined {
  if (process.env[RGW_ENV] || inCi()) return undefined;
  const missing = missingCephTools();
  if (missing.length === 0) return undefined;
  return `Ceph RGW not installed (no ${missing.join(', ')}): run \`${CEPH_INSTALL}\` (Debian 12) to run this suite; .ci/run does`;
}

/**
 * `describe(name, body)` for tests that need a gateway; where they cannot run (rgwSkipReason), one skipped
 * test of that name, saying how to install Ceph.
 */
export function describeWithRgw(name: string, body: () => void): void {
  const skip = rgwSkipReason();
  if (skip) it(name, { skip }, () => {});
  else describe(name, body);
}

/**
 * The gateway for one test file: the one HEAPDUMP_TEST_RGW names (left running: whoever started it stops
 * it), else a new one in a temporary directory (stop() stops it and removes the directory).
 */
export async function rgwForSuite(): Promise<RgwServer> {
  const file = process.env[RGW_ENV];
  if (file) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new Error(
        `${RGW_ENV}=${file}: ${(err as Error).message} (it must name what \`scripts/rgw start DIR\` printed)`,
      );
    }
    return { ...(JSON.parse(text) as Omit<RgwServer, 'stop'>), stop: async () => {} };
  }
  const missing = missingCephTools();
  if (missing.length > 0) {
    throw new Error(
      `the Ceph RGW suite runs in CI (CI=${process.env.CI}) but Ceph is not installed (no ${missing.join(', ')}): ` +
        `run \`${CEPH_INSTALL}\`, or set ${RGW_ENV} to a running gateway's JSON (.ci/run does both)`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'kh-rgw-'));
  const server = await startRgw(dir).catch(async (err: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw err;
  });
  return {
    ...server,
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An SDK client for the gateway (path style: the only addressing it serves on 127.0.0.1). */
export function rgwClient(rgw: RgwServer, credential: RgwCredential = rgw.owner): S3Client {
  return new S3Client({
    endpoint: rgw.endpoint,
    region: rgw.region,
    forcePathStyle: true,
    credentials: { accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey },
    maxAttempts: 1,
  });
}

/** A new bucket of the owner's (so tests sharing one gateway never see each other's objects). */
export async function newRgwBucket(rgw: RgwServer, name: string): Promise<string> {
  const bucket = `${name}-${randomBytes(4).toString('hex')}`;
  const client = rgwClient(rgw);
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
  return bucket;
}

/** `radosgw-admin` on the gateway's cluster; its JSON answer. */
export async function rgwAdmin(rgw: RgwServer, args: string[]): Promise<unknown> {
  const r = await run('radosgw-admin', ['-c', join(rgw.dir, 'ceph.conf'), ...args]);
  if (r.code !== 0) throw new Error(`radosgw-admin ${args.join(' ')} exited with ${r.code}: ${r.stderr}`);
  return r.stdout.trim() ? JSON.parse(r.stdout) : undefined;
}
