// Interoperability with a client we did not write: the aws CLI (botocore), multipart up and down.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run } from '../support/processes.ts';
import { DEFAULT_CREDENTIAL, type S3Credential } from '../support/s3/server.ts';
import { type S3Fixture, startS3Fixture } from '../support/s3-fixture.ts';

const putOnly: S3Credential = {
  accessKeyId: 'AKIACLIPUTONLY',
  secretAccessKey: 'cli-put-only',
  policy: { Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::dumps/*' }] },
};

describe('strict S3 server with the aws CLI', () => {
  let s3: S3Fixture;
  before(async () => {
    s3 = await startS3Fixture({ credentials: [DEFAULT_CREDENTIAL, putOnly] });
  });
  after(() => s3.close());

  const aws = (args: string[], credential: S3Credential = DEFAULT_CREDENTIAL) =>
    run('aws', ['--endpoint-url', s3.server.endpoint, ...args], {
      PATH: process.env.PATH,
      HOME: s3.dir,
      AWS_ACCESS_KEY_ID: credential.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credential.secretAccessKey,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    });

  it('round-trips a 20 MiB multipart upload with equal sha256', async () => {
    const body = randomBytes(20 * 1024 * 1024 + 17);
    const src = join(s3.dir, 'src.bin');
    const dst = join(s3.dir, 'dst.bin');
    await writeFile(src, body);
    const up = await aws(['s3', 'cp', src, 's3://dumps/cli/dump.hprof']);
    assert.equal(up.code, 0, up.stderr);
    const mp = s3.server.requests.filter((r) => r.operation === 'UploadPart' && r.key === 'cli/dump.hprof');
    assert.ok(mp.length >= 3, `the CLI uploaded in parts (${mp.length})`);
    const down = await aws(['s3', 'cp', 's3://dumps/cli/dump.hprof', dst]);
    assert.equal(down.code, 0, down.stderr);
    const hash = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    assert.equal(hash(await readFile(dst)), hash(body));
    const ls = await aws(['s3', 'ls', 's3://dumps/cli/']);
    assert.match(ls.stdout, /20971537 dump\.hprof/);
  });

  it('reports SignatureDoesNotMatch for a wrong secret and AccessDenied for the put-only credential', async () => {
    const wrong = await aws(['s3', 'ls', 's3://dumps/'], { ...DEFAULT_CREDENTIAL, secretAccessKey: 'wrong' });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /SignatureDoesNotMatch/);
    const list = await aws(['s3', 'ls', 's3://dumps/'], putOnly);
    assert.notEqual(list.code, 0);
    assert.match(list.stderr, /AccessDenied/);
    const src = join(s3.dir, 'small.bin');
    await writeFile(src, 'small');
    const put = await aws(['s3', 'cp', src, 's3://dumps/put-only/small.bin'], putOnly);
    assert.equal(put.code, 0, put.stderr);
    const get = await aws(['s3', 'cp', 's3://dumps/put-only/small.bin', join(s3.dir, 'back.bin')], putOnly);
    assert.notEqual(get.code, 0);
    assert.match(get.stderr, /403|Forbidden|AccessDenied/);
  });
});
