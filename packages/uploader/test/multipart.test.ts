// The multipart session and the shipper in-process, against the strict S3 server (and a fault-injecting
// proxy in front of it): restart on a lost upload, a new key when the key is taken, a clear error for a
// store that answers without an ETag, adoption after a lost Complete answer, what the store proved it checked.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  AbortMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { DEFAULT_CREDENTIAL } from '../../../test/support/s3/server.ts';
import { type S3Fixture, startS3Fixture } from '../../../test/support/s3-fixture.ts';
import { startS3Proxy } from '../../../test/support/s3-proxy.ts';
import { PartDigester } from '../src/digests.ts';
import { Journal } from '../src/journal.ts';
import { createLogger, type Logger } from '../src/log.ts';
import {
  createUpload,
  MultipartSession,
  Restart,
  type SessionDeps,
  StoreAnswerError,
} from '../src/multipart.ts';
import { GaveUp, ONCE_RETRY } from '../src/s3.ts';
import { StateStore } from '../src/state.ts';
import { logLines, loopbackClient } from './fixtures.ts';

process.env.AWS_ACCESS_KEY_ID = DEFAULT_CREDENTIAL.accessKeyId;
process.env.AWS_SECRET_ACCESS_KEY = DEFAULT_CREDENTIAL.secretAccessKey;
const log = createLogger('error');
const MiB = 1024 * 1024;

function client(endpoint: string) {
  return loopbackClient(endpoint, log);
}

function deps(endpoint: string, checksum: SessionDeps['checksum'] = 'auto'): SessionDeps {
  return {
    s3: client(endpoint),
    bucket: 'dumps',
    checksum,
    retry: { policy: { ...ONCE_RETRY, baseMs: 10, capMs: 50 }, log },
    log,
    onBytes: () => {},
  };
}

/** A part plan from bytes in memory. */
function plan(partNumber: number, bytes: Buffer, md5: boolean) {
  const d = new PartDigester(md5);
  d.update(bytes);
  return {
    record: { partNumber, firstBlock: partNumber, lastBlock: partNumber },
    size: bytes.length,
    digests: d.digests(),
    sha256: createHash('sha256').update(bytes).digest('hex'),
    cost: bytes.length,
    body: () => Readable.from([bytes]),
  };
}

describe('multipart session', () => {
  let fixture: S3Fixture;
  let dir: string;
  let n = 0;
  const part1 = Buffer.alloc(5 * MiB, 1);
  const part2 = Buffer.from('the end');
  before(async () => {
    fixture = await startS3Fixture();
    dir = await mkdtemp(join(tmpdir(), 'kh-session-'));
  });
  after(async () => {
    await fixture.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function session(d: SessionDeps) {
    const key = `t/ns/app/pod/20261128T000000Z-0000000${++n}-java_pid1.hprof`;
    const state = await createUpload(d, {
      file: `f${n}.hprof`,
      dev: 1,
      ino: n,
      key,
      startedAt: new Date(),
      compression: 'none',
      redaction: 'none',
      metadata: { pod: 'pod' },
    });
    return new MultipartSession(d, new Journal(new StateStore(dir), state, log));
  }

  it('proves CRC32 with a store that checks it: parts and object verified, MD5 only until it answers', async () => {
    const s = await session(deps(fixture.server.endpoint));
    assert.equal(s.wantsMd5(1), true, 'undecided: part 1 carries Content-MD5 too');
    await s.uploadPart(plan(1, part1, s.wantsMd5(1)));
    assert.equal(s.wantsMd5(2), false, 'the store answered our CRC32 back');
    await s.uploadPart(plan(2, part2, s.wantsMd5(2)));
    const done = await s.complete();
    assert.deepEqual(
      { object: done.object, adopted: done.adopted, parts: s.partsIntegrity() },
      {
        object: 'crc32',
        adopted: false,
        parts: 'crc32',
      },
    );
  });

  it('falls back to Content-MD5 on every part when the store does not answer CRC32, and proves the object by its ETag', async () => {
    const proxy = await startS3Proxy(fixture.server.endpoint, [
      { operation: 'UploadPart', fault: { kind: 'strip-header', header: 'x-amz-checksum-crc32' }, times: 99 },
      // Like RGW: no CRC32 of the whole object in the answer either.
      {
        operation: 'CompleteMultipartUpload',
        fault: {
          kind: 'edit-answer',
          edit: (xml) => xml.replace(/<ChecksumCRC32>[^<]*<\/ChecksumCRC32>/, ''),
        },
      },
    ]);
    try {
      const s = await session(deps(proxy.endpoint));
      await s.uploadPart(plan(1, part1, s.wantsMd5(1)));
      assert.equal(s.wantsMd5(2), true);
      await s.uploadPart(plan(2, part2, s.wantsMd5(2)));
      const done = await s.complete();
      assert.equal(done.object, 'etag');
      assert.equal(s.partsIntegrity(), 'md5');
    } finally {
      await proxy.close();
    }
  });

  it('with a completion answered without an ETag (RGW 16), a HEAD that may read proves the object by its ETag', async () => {
    const proxy = await startS3Proxy(fixture.server.endpoint, [
      { operation: 'UploadPart', fault: { kind: 'strip-header', header: 'x-amz-checksum-crc32' }, times: 99 },
      {
        operation: 'CompleteMultipartUpload',
        fault: {
          kind: 'edit-answer',
          edit: (xml) =>
            xml.replace(/<ChecksumCRC32>[^<]*<\/ChecksumCRC32>/, '').replace(/<ETag>[^<]*</, '<ETag><'),
        },
      },
    ]);
    try {
      const s = await session(deps(proxy.endpoint));
      await s.uploadPart(plan(1, part1, s.wantsMd5(1)));
      await s.uploadPart(plan(2, part2, s.wantsMd5(2)));
      const done = await s.complete();
      assert.deepEqual([done.object, done.etag], ['none', undefined]);
      assert.deepEqual(await s.verify(part1.length + part2.length, 'pod', done.etag), {
        head: true,
        etagProved: true,
      });
      // Another object's ETag at our key proves nothing.
      await fixture.client().send(
        new PutObjectCommand({
          Bucket: 'dumps',
          Key: s.state.key,
          Body: Buffer.concat([part1, part2]),
          Metadata: { pod: 'pod' },
        }),
      );
      assert.deepEqual(await s.verify(part1.length + part2.length, 'pod', undefined), {
        head: true,
        etagProved: false,
      });
    } finally {
      await proxy.close();
    }
  });

  it('a part damaged on the way is refused by the store and sent again', async () => {
    const proxy = await startS3Proxy(fixture.server.endpoint, [
      { operation: 'UploadPart', fault: { kind: 'corrupt-body', offset: 12345 } },
    ]);
    try {
      const s = await session(deps(proxy.endpoint, 'md5'));
      await s.uploadPart(plan(1, part1, true));
      await s.uploadPart(plan(2, part2, true));
      await s.complete();
      const stored = await fixture
        .client()
        .send(new GetObjectCommand({ Bucket: 'dumps', Key: s.state.key }))
        .then((r) => r.Body!.transformToByteArray());
      assert.ok(Buffer.from(stored).equals(Buffer.concat([part1, part2])));
      assert.deepEqual(
        proxy.seen.filter((r) => r.operation === 'UploadPart').map((r) => r.fault ?? 'ok'),
        ['corrupt-body', 'ok', 'ok'],
      );
    } finally {
      await proxy.close();
    }
  });

  it('restarts when the store lost the upload (NoSuchUpload)', async () => {
    const s = await session(deps(fixture.server.endpoint));
    await fixture
      .client()
      .send(
        new AbortMultipartUploadCommand({ Bucket: 'dumps', Key: s.state.key, UploadId: s.state.uploadId }),
      );
    await assert.rejects(s.uploadPart(plan(1, part1, true)), Restart);
  });

  it('restarts under a new key when the key is taken (a first Complete refused by If-None-Match)', async () => {
    const s = await session(deps(fixture.server.endpoint));
    await s.uploadPart(plan(1, part2, true));
    await fixture
      .client()
      .send(new PutObjectCommand({ Bucket: 'dumps', Key: s.state.key, Body: 'someone else' }));
    await assert.rejects(
      s.complete(),
      (e: unknown) => e instanceof Restart && /is taken/.test((e as Error).message),
    );
  });

  it('says so clearly when the store answers a part without an ETag', async () => {
    const proxy = await startS3Proxy(fixture.server.endpoint, [
      { operation: 'UploadPart', fault: { kind: 'strip-header', header: 'etag' } },
    ]);
    try {
      const s = await session(deps(proxy.endpoint));
      await assert.rejects(
        s.uploadPart(plan(1, part1, true)),
        (e: unknown) => e instanceof StoreAnswerError && /answered no ETag/.test((e as Error).message),
      );
    } finally {
      await proxy.close();
    }
  });

  it('adopts the object when the answer to its Complete was lost, instead of uploading it again', async () => {
    const proxy = await startS3Proxy(fixture.server.endpoint, [
      { operation: 'CompleteMultipartUpload', fault: { kind: 'drop-answer' } },
    ]);
    try {
      const s = await session(deps(proxy.endpoint));
      await s.uploadPart(plan(1, part2, true));
      const done = await s.complete();
      assert.equal(done.adopted, true);
      const completes = proxy.seen.filter((r) => r.operation === 'CompleteMultipartUpload');
      assert.deepEqual(
        completes.map((r) => r.fault ?? 'ok'),
        ['drop-answer', 'ok'],
      );
      const head = await fixture.client().send(new GetObjectCommand({ Bucket: 'dumps', Key: s.state.key }));
      assert.equal(await head.Body!.transformToString(), 'the end');
    } finally {
      await proxy.close();
    }
  });
});

describe('a store that answers before reading the body (issue 27.2, 27.17)', () => {
  let fixture: S3Fixture;
  let dir: string;
  let n = 0;
  before(async () => {
    fixture = await startS3Fixture({ errorsBeforeBody: true });
    dir = await mkdtemp(join(tmpdir(), 'kh-early-'));
  });
  after(async () => {
    await fixture.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Log lines at warn and above, as JSON objects. */
  function capture(): { log: Logger; lines: Record<string, unknown>[] } {
    return logLines('warn');
  }

  function depsWith(s3: S3Client, logger: Logger, maxAttempts: number): SessionDeps {
    const policy = { ...ONCE_RETRY, maxAttempts, baseMs: 10, capMs: 20, slowBaseMs: 10 };
    return {
      s3,
      bucket: 'dumps',
      checksum: 'md5',
      retry: { policy, log: logger },
      log: logger,
      onBytes: () => {},
    };
  }

  /** A 6 MiB part streamed in 16 KiB chunks: still being piped when the answer comes. */
  function streamed(partNumber: number) {
    const chunk = Buffer.alloc(16 * 1024, 7);
    const d = new PartDigester(true);
    const sha = createHash('sha256');
    for (let i = 0; i < 384; i++) {
      d.update(chunk);
      sha.update(chunk);
    }
    return {
      record: { partNumber, firstBlock: partNumber, lastBlock: partNumber },
      size: 384 * chunk.length,
      digests: d.digests(),
      sha256: sha.digest('hex'),
      cost: 0,
      body: () => Readable.from(Array.from({ length: 384 }, () => chunk)),
    };
  }

  async function session(d: SessionDeps) {
    const state = await createUpload(d, {
      file: `e${++n}.hprof`,
      dev: 1,
      ino: n,
      key: `t/ns/app/pod/20261128T000000Z-1000000${n}-java_pid1.hprof`,
      startedAt: new Date(),
      compression: 'none',
      redaction: 'none',
      metadata: { pod: 'pod' },
    });
    return new MultipartSession(d, new Journal(new StateStore(dir), state, d.log));
  }

  it('a lost upload is NoSuchUpload, and restarts', async () => {
    const { log: logger } = capture();
    const s = await session(depsWith(client(fixture.server.endpoint), logger, 3));
    await fixture
      .client()
      .send(
        new AbortMultipartUploadCommand({ Bucket: 'dumps', Key: s.state.key, UploadId: s.state.uploadId }),
      );
    await assert.rejects(s.uploadPart(streamed(1)), Restart);
  });

  it('a refused key is named InvalidAccessKeyId, retried slowly; a final answer is not retried', async () => {
    const { log: logger, lines } = capture();
    const s = await session(depsWith(client(fixture.server.endpoint), logger, 2));
    const saved = process.env.AWS_ACCESS_KEY_ID;
    process.env.AWS_ACCESS_KEY_ID = 'AKIANOTKNOWNATALL000';
    let wrongKey: S3Client;
    try {
      wrongKey = client(fixture.server.endpoint);
      await wrongKey.config.credentials();
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved;
    }
    const wrong = new MultipartSession(depsWith(wrongKey, logger, 2), s.journal);
    await assert.rejects(
      wrong.uploadPart(streamed(1)),
      (e: unknown) => e instanceof GaveUp && e.code === 'InvalidAccessKeyId' && !e.final,
    );
    assert.equal(
      lines.filter((l) => /S3 refused our credentials \(InvalidAccessKeyId\)/.test(String(l.msg))).length,
      1,
    );

    const before = fixture.server.requests.filter((r) => r.operation === 'UploadPart').length;
    await assert.rejects(
      s.uploadPart(streamed(10_001)),
      (e: unknown) => e instanceof GaveUp && e.code === 'InvalidArgument' && e.final,
    );
    assert.equal(fixture.server.requests.filter((r) => r.operation === 'UploadPart').length, before + 1);
  });

  it('a SlowDown answered mid-body is retried and logged once, not also by the SDK', async () => {
    const proxy = await startS3Proxy(fixture.server.endpoint, [
      { operation: 'UploadPart', fault: { kind: 'answer-error', status: 503, code: 'SlowDown' } },
    ]);
    try {
      const { log: logger, lines } = capture();
      const s = await session(depsWith(client(proxy.endpoint), logger, 3));
      await s.uploadPart(streamed(1));
      assert.deepEqual(
        lines.filter((l) => /S3|SDK/.test(String(l.msg))).map((l) => `${String(l.msg)} ${String(l.code)}`),
        ['S3 call failed (SlowDown), retrying SlowDown'],
      );
    } finally {
      await proxy.close();
    }
  });
});
