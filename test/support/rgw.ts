// A real Ceph RADOS Gateway on 127.0.0.1 (scripts/rgw), for tests that must meet a real S3 implementation.
// How it differs from AWS S3 (If-None-Match on completion, checksums, aws-chunked bodies): docs/rgw-facts.md.
import { join } from 'node:path';
import { run } from './processes.ts';

const SCRIPT = join(import.meta.dirname, '../../scripts/rgw');

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
