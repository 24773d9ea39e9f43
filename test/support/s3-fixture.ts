// Test helpers: a strict S3 server in a temp directory, and SDK clients pointed at it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import {
  DEFAULT_CREDENTIAL,
  type S3Credential,
  type S3Server,
  type S3ServerOptions,
  startS3Server,
} from './s3/server.ts';

export interface S3Fixture {
  server: S3Server;
  dir: string;
  client(credential?: S3Credential): S3Client;
  close(): Promise<void>;
}

export async function startS3Fixture(options: Partial<S3ServerOptions> = {}): Promise<S3Fixture> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'kh-s3-')));
  const server = await startS3Server({ buckets: ['dumps'], ...options, dir });
  const clients: S3Client[] = [];
  return {
    server,
    dir,
    client(credential = DEFAULT_CREDENTIAL) {
      const c = new S3Client({
        endpoint: server.endpoint,
        region: server.region,
        forcePathStyle: true,
        credentials: { accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey },
        maxAttempts: 1,
      });
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.destroy();
      await server.stop();
      if (!options.dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The error code an SDK call failed with, or 'no error'. */
export async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (err) {
    return (err as { Code?: string; name?: string }).Code ?? (err as Error).name;
  }
}
