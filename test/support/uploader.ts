// The real uploader as a separate process, its JSON log lines collected for assertions.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { bundle } from '../../scripts/bundle.ts';
import { RUN_SOURCE } from './node.ts';
import { DEFAULT_CREDENTIAL } from './s3/server.ts';
import type { S3Fixture } from './s3-fixture.ts';

export const UPLOADER_MAIN = join(import.meta.dirname, '../../packages/uploader/src/main.ts');

/** Bundles the uploader as its image and npm package ship it; returns the file. */
export async function bundleUploader(outdir: string): Promise<string> {
  const out = join(outdir, 'main.js');
  await bundle(UPLOADER_MAIN, out);
  return out;
}

/** The node flags of the image's exec-form ENTRYPOINT ["node", ...flags, "/app/main.js"]. */
export function imageNodeFlags(): string[] {
  const dockerfile = readFileSync(join(import.meta.dirname, '../../packages/uploader/Dockerfile'), 'utf8');
  const line = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
  if (!line) throw new Error('the uploader Dockerfile has no exec-form ENTRYPOINT');
  const argv = JSON.parse(line) as string[];
  if (argv[0] !== 'node' || argv.at(-1) !== '/app/main.js') throw new Error(`unexpected ENTRYPOINT ${line}`);
  return argv.slice(1, -1);
}

export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

export class UploaderProcess {
  readonly child: ChildProcess;
  readonly logs: LogLine[] = [];
  stderr = '';
  private readonly listeners = new Set<() => void>();
  readonly exited: Promise<number | null>;

  constructor(
    env: Record<string, string>,
    args: string[] = [],
    main = UPLOADER_MAIN,
    nodeFlags: string[] = [],
  ) {
    const source = main.endsWith('.ts') ? RUN_SOURCE : [];
    this.child = spawn(process.execPath, [...source, ...nodeFlags, main, ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        AWS_CONFIG_FILE: '/nonexistent',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
        AWS_EC2_METADATA_DISABLED: 'true',
        HEAPDUMP_METRICS_PORT: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        this.logs.push({ level: 'raw', msg: line });
      }
      for (const l of this.listeners) l();
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d;
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Resolves with the first log line (already seen or coming) that matches. */
  waitForLog(match: (l: LogLine) => boolean, timeoutMs = 60_000, what = 'log line'): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.logs.find(match);
        if (!found) return false;
        cleanup();
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `timed out waiting for ${what}; logs:\n${this.logs.map((l) => JSON.stringify(l)).join('\n')}\n${this.stderr}`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener = () => void check();
      this.listeners.add(listener);
      check();
    });
  }

  count(match: (l: LogLine) => boolean): number {
    return this.logs.filter(match).length;
  }

  /** Sends `signal`; like the kubelet after its grace period, SIGKILLs after `graceMs` (then resolves null). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 30_000): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The uploader's environment for a dump directory and a test S3 server (path style, the strict server's
 * default credential: `extra` overrides it, and the bucket, for other servers).
 */
export function localUploaderEnv(
  s3: S3Fixture | { endpoint: string },
  dir: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    HEAPDUMP_DIR: dir,
    HEAPDUMP_BUCKET: 'dumps',
    HEAPDUMP_S3_ENDPOINT: 'server' in s3 ? s3.server.endpoint : s3.endpoint,
    HEAPDUMP_S3_FORCE_PATH_STYLE: 'true',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: DEFAULT_CREDENTIAL.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DEFAULT_CREDENTIAL.secretAccessKey,
    POD_NAME: 'shop-7d9f-abcde',
    POD_NAMESPACE: 'prod',
    NODE_NAME: 'node-1',
    HEAPDUMP_APP: 'shop',
    HEAPDUMP_QUIET_SECONDS: '5',
    ...extra,
  };
}
