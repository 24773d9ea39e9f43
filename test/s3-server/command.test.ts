// The server as a separate process: started by its command, bounded memory on a 1 GiB multipart upload.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { peakRss, run, startWithReadyLine, stop } from '../support/processes.ts';
import { DEFAULT_CREDENTIAL } from '../support/s3/server.ts';

const MiB = 1024 * 1024;
const serverScript = join(import.meta.dirname, '../support/s3-server.ts');

describe('s3-server command', () => {
  let dir: string;
  let child: ChildProcess;
  let endpoint: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kh-s3cmd-'));
    const started = await startWithReadyLine<{ endpoint: string }>(process.execPath, [
      serverScript,
      '--dir',
      dir,
      '--port',
      '0',
      '--bucket',
      'dumps',
    ]);
    child = started.child;
    endpoint = started.ready.endpoint;
  });
  after(async () => {
    await stop(child);
    await rm(dir, { recursive: true, force: true });
  });

  it('ingests a 1 GiB multipart upload with bounded memory', async (t) => {
    const size = 1024 * MiB;
    const block = randomBytes(MiB);
    const body = Readable.from(
      (function* () {
        for (let i = 0; i < size / MiB; i++) yield block;
      })(),
    );
    const idle = await peakRss(child.pid!);
    const client = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: DEFAULT_CREDENTIAL,
    });
    const started = performance.now();
    await new Upload({
      client,
      params: { Bucket: 'dumps', Key: 'big.bin', Body: body },
      partSize: 16 * MiB,
      queueSize: 4,
    }).done();
    const seconds = (performance.now() - started) / 1000;
    const head = await client.send(new HeadObjectCommand({ Bucket: 'dumps', Key: 'big.bin' }));
    client.destroy();
    assert.equal(head.ContentLength, size);
    const rss = await peakRss(child.pid!);
    const mib = (n: number) => `${(n / MiB).toFixed(0)} MiB`;
    t.diagnostic(
      `1 GiB multipart ingest: ${(size / 1e6 / seconds).toFixed(0)} MB/s; server peak RSS ${mib(rss)} (idle ${mib(idle)})`,
    );
    // Idle is ~95 MiB (Node 24 plus type stripping); what streaming adds must stay bounded.
    assert.ok(rss - idle < 112 * MiB, `server RSS grew by ${mib(rss - idle)}`);
    assert.ok(rss < 224 * MiB, `server peak RSS ${mib(rss)}`);
  });

  it('refuses bad arguments with a clear message and exit code 2', async () => {
    const noDir = await run(process.execPath, [serverScript]);
    assert.equal(noDir.code, 2);
    assert.match(noDir.stderr, /--dir is required/);
    const badRate = await run(process.execPath, [serverScript, '--dir', dir, '--rate', 'fast']);
    assert.equal(badRate.code, 2);
    assert.match(badRate.stderr, /rate "fast" is not like 125MB\/s/);
    const unknown = await run(process.execPath, [serverScript, '--dir', dir, '--bogus']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /bogus/);
  });
});
