// The strict S3 server driven by @aws-sdk/client-s3: what S3 accepts works, what S3 refuses is refused.
import assert from 'node:assert/strict';
import { createHash, createHmac, type Hash, type Hmac, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { SignatureV4 } from '@smithy/signature-v4';
import { RateLimit } from '../support/s3/rate-limit.ts';
import { DEFAULT_CREDENTIAL, requestLimit, type S3Credential } from '../support/s3/server.ts';
import { errorCode, type S3Fixture, startS3Fixture } from '../support/s3-fixture.ts';

const MiB = 1024 * 1024;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('strict S3 server with the AWS SDK', () => {
  let s3: S3Fixture;
  let client: S3Client;
  before(async () => {
    s3 = await startS3Fixture();
    client = s3.client();
  });
  after(() => s3.close());

  it('round-trips PutObject with user metadata, HeadObject and ranged GetObject', async () => {
    const body = randomBytes(100_000);
    const put = await client.send(
      new PutObjectCommand({
        Bucket: 'dumps',
        Key: 'ns/app/pod/a b+c=d.hprof',
        Body: body,
        Metadata: { pod: 'pod-1', sha256: sha256(body) },
        ContentType: 'application/octet-stream',
      }),
    );
    assert.equal(put.ETag, `"${createHash('md5').update(body).digest('hex')}"`);
    const head = await client.send(
      new HeadObjectCommand({ Bucket: 'dumps', Key: 'ns/app/pod/a b+c=d.hprof' }),
    );
    assert.equal(head.ContentLength, body.length);
    assert.deepEqual(head.Metadata, { pod: 'pod-1', sha256: sha256(body) });
    const ranged = await client.send(
      new GetObjectCommand({ Bucket: 'dumps', Key: 'ns/app/pod/a b+c=d.hprof', Range: 'bytes=1000-1999' }),
    );
    assert.equal(ranged.ContentRange, `bytes 1000-1999/${body.length}`);
    assert.deepEqual(Buffer.from(await ranged.Body!.transformToByteArray()), body.subarray(1000, 2000));
    const suffix = await client.send(
      new GetObjectCommand({ Bucket: 'dumps', Key: 'ns/app/pod/a b+c=d.hprof', Range: 'bytes=-10' }),
    );
    assert.deepEqual(Buffer.from(await suffix.Body!.transformToByteArray()), body.subarray(-10));
    assert.equal(
      await errorCode(
        client.send(
          new GetObjectCommand({
            Bucket: 'dumps',
            Key: 'ns/app/pod/a b+c=d.hprof',
            Range: `bytes=${body.length}-`,
          }),
        ),
      ),
      'InvalidRange',
    );
  });

  it('accepts an aws-chunked stream upload with a trailing CRC32 and stores the decoded bytes', async () => {
    const body = randomBytes(20 * MiB + 123);
    await client.send(
      new PutObjectCommand({
        Bucket: 'dumps',
        Key: 'stream.bin',
        Body: Readable.from([body.subarray(0, 7 * MiB), body.subarray(7 * MiB)]),
        ContentLength: body.length,
      }),
    );
    const last = s3.server.requests.at(-1)!;
    assert.equal(last.payload, 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'the SDK used aws-chunked framing');
    const got = await client.send(
      new GetObjectCommand({ Bucket: 'dumps', Key: 'stream.bin', ChecksumMode: 'ENABLED' }),
    );
    assert.equal(sha256(await got.Body!.transformToByteArray()), sha256(body));
    assert.ok(got.ChecksumCRC32, 'the stored CRC32 is returned (and was validated by the SDK)');
  });

  it('round-trips a 20 MiB multipart upload through lib-storage with equal sha256', async () => {
    const body = randomBytes(20 * MiB + 5);
    await new Upload({
      client,
      params: { Bucket: 'dumps', Key: 'mp.bin', Body: Readable.from([body]) },
      partSize: 5 * MiB,
    }).done();
    const head = await client.send(new HeadObjectCommand({ Bucket: 'dumps', Key: 'mp.bin' }));
    assert.match(head.ETag!, /^"[0-9a-f]{32}-5"$/);
    const got = await client.send(new GetObjectCommand({ Bucket: 'dumps', Key: 'mp.bin' }));
    assert.equal(sha256(await got.Body!.transformToByteArray()), sha256(body));
    // A range spanning two stored parts.
    const span = await client.send(
      new GetObjectCommand({ Bucket: 'dumps', Key: 'mp.bin', Range: `bytes=${5 * MiB - 3}-${5 * MiB + 2}` }),
    );
    assert.deepEqual(
      Buffer.from(await span.Body!.transformToByteArray()),
      body.subarray(5 * MiB - 3, 5 * MiB + 3),
    );
  });

  it('computes the AWS multipart ETag and refuses small parts, wrong order, unknown parts and dead uploads', async () => {
    const key = 'rules.bin';
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'dumps', Key: key }));
    const p1 = randomBytes(5 * MiB);
    const small = randomBytes(MiB);
    const last = randomBytes(1000);
    const e1 = (
      await client.send(
        new UploadPartCommand({ Bucket: 'dumps', Key: key, UploadId, PartNumber: 1, Body: p1 }),
      )
    ).ETag!;
    const e2 = (
      await client.send(
        new UploadPartCommand({ Bucket: 'dumps', Key: key, UploadId, PartNumber: 2, Body: small }),
      )
    ).ETag!;
    const e3 = (
      await client.send(
        new UploadPartCommand({ Bucket: 'dumps', Key: key, UploadId, PartNumber: 3, Body: last }),
      )
    ).ETag!;
    const complete = (Parts: { PartNumber: number; ETag: string }[]) =>
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'dumps',
          Key: key,
          UploadId,
          MultipartUpload: { Parts },
        }),
      );

    const parts = await client.send(new ListPartsCommand({ Bucket: 'dumps', Key: key, UploadId }));
    assert.deepEqual(
      parts.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag]),
      [
        [1, 5 * MiB, e1],
        [2, MiB, e2],
        [3, 1000, e3],
      ],
    );
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: 'dumps' }));
    assert.ok(uploads.Uploads?.some((u) => u.UploadId === UploadId && u.Key === key));

    const refused: [[number, string][], string][] = [
      [
        [
          [1, e1],
          [2, e2],
          [3, e3],
        ],
        'EntityTooSmall',
      ],
      [
        [
          [3, e3],
          [1, e1],
        ],
        'InvalidPartOrder',
      ],
      [
        [
          [1, e2],
          [3, e3],
        ],
        'InvalidPart',
      ],
      [
        [
          [1, e1],
          [4, e3],
        ],
        'InvalidPart',
      ],
    ];
    for (const [parts, code] of refused) {
      assert.equal(
        await errorCode(complete(parts.map(([PartNumber, ETag]) => ({ PartNumber, ETag })))),
        code,
        code,
      );
    }
    assert.equal(
      await errorCode(client.send(new GetObjectCommand({ Bucket: 'dumps', Key: key }))),
      'NoSuchKey',
      'nothing visible before Complete',
    );

    const done = await complete([
      { PartNumber: 1, ETag: e1 },
      { PartNumber: 3, ETag: e3 },
    ]);
    const md5s = Buffer.concat([e1, e3].map((e) => Buffer.from(e.replaceAll('"', ''), 'hex')));
    assert.equal(done.ETag, `"${createHash('md5').update(md5s).digest('hex')}-2"`);
    const got = await client.send(new GetObjectCommand({ Bucket: 'dumps', Key: key }));
    assert.equal(sha256(await got.Body!.transformToByteArray()), sha256(Buffer.concat([p1, last])));
    assert.equal(
      await errorCode(
        complete([
          { PartNumber: 1, ETag: e1 },
          { PartNumber: 3, ETag: e3 },
        ]),
      ),
      'NoSuchUpload',
    );

    const second = await client.send(
      new CreateMultipartUploadCommand({ Bucket: 'dumps', Key: 'aborted.bin' }),
    );
    await client.send(
      new AbortMultipartUploadCommand({ Bucket: 'dumps', Key: 'aborted.bin', UploadId: second.UploadId }),
    );
    const partOfAborted = (PartNumber: number) =>
      errorCode(
        client.send(
          new UploadPartCommand({
            Bucket: 'dumps',
            Key: 'aborted.bin',
            UploadId: second.UploadId,
            PartNumber,
            Body: 'x',
          }),
        ),
      );
    assert.equal(await partOfAborted(1), 'NoSuchUpload');
    assert.equal(await partOfAborted(10001), 'InvalidArgument');
  });

  it('lists with prefix, delimiter and continuation tokens', async () => {
    const keys = ['list/a/1', 'list/a/2', 'list/b/1', 'list/c', 'list/d', 'list/e/1'];
    for (const Key of keys) await client.send(new PutObjectCommand({ Bucket: 'dumps', Key, Body: Key }));
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(
        new ListObjectsV2Command({
          Bucket: 'dumps',
          Prefix: 'list/',
          Delimiter: '/',
          MaxKeys: 2,
          ContinuationToken: token,
        }),
      );
      pages++;
      seen.push(
        ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!),
        ...(page.Contents ?? []).map((c) => c.Key!),
      );
      token = page.NextContinuationToken;
    } while (token);
    assert.deepEqual(seen.sort(), ['list/a/', 'list/b/', 'list/c', 'list/d', 'list/e/']);
    assert.equal(pages, 3);
    const flat = await client.send(new ListObjectsV2Command({ Bucket: 'dumps', Prefix: 'list/a/' }));
    assert.deepEqual(
      flat.Contents?.map((c) => c.Key),
      ['list/a/1', 'list/a/2'],
    );
    await client.send(new DeleteObjectCommand({ Bucket: 'dumps', Key: 'list/c' }));
    const afterDelete = await client.send(new ListObjectsV2Command({ Bucket: 'dumps', Prefix: 'list/c' }));
    assert.equal(afterDelete.KeyCount, 0);
  });

  it('never overwrites with If-None-Match: * (PutObject and CompleteMultipartUpload)', async () => {
    await client.send(
      new PutObjectCommand({ Bucket: 'dumps', Key: 'once', Body: 'first', IfNoneMatch: '*' }),
    );
    assert.equal(
      await errorCode(
        client.send(new PutObjectCommand({ Bucket: 'dumps', Key: 'once', Body: 'second', IfNoneMatch: '*' })),
      ),
      'PreconditionFailed',
    );
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: 'dumps', Key: 'once' }),
    );
    const { ETag } = await client.send(
      new UploadPartCommand({ Bucket: 'dumps', Key: 'once', UploadId, PartNumber: 1, Body: 'x' }),
    );
    assert.equal(
      await errorCode(
        client.send(
          new CompleteMultipartUploadCommand({
            Bucket: 'dumps',
            Key: 'once',
            UploadId,
            IfNoneMatch: '*',
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag }] },
          }),
        ),
      ),
      'PreconditionFailed',
    );
    const got = await client.send(new GetObjectCommand({ Bucket: 'dumps', Key: 'once' }));
    assert.equal(await got.Body!.transformToString(), 'first');
  });

  it('refuses bad digests: Content-MD5, x-amz-checksum-crc32 and x-amz-content-sha256', async () => {
    assert.equal(
      await errorCode(
        client.send(
          new PutObjectCommand({
            Bucket: 'dumps',
            Key: 'bad',
            Body: 'hello',
            ContentMD5: createHash('md5').update('other').digest('base64'),
          }),
        ),
      ),
      'BadDigest',
    );
    assert.equal(
      await errorCode(
        client.send(
          new PutObjectCommand({ Bucket: 'dumps', Key: 'bad', Body: 'hello', ChecksumCRC32: 'AAAAAA==' }),
        ),
      ),
      'BadDigest',
    );
    const res = await signedFetch(s3.server.endpoint, DEFAULT_CREDENTIAL, 'PUT', '/dumps/bad', 'hello', {
      'x-amz-content-sha256': sha256(Buffer.from('not hello')),
    });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /XAmzContentSHA256Mismatch/);
    assert.equal(
      await errorCode(client.send(new HeadObjectCommand({ Bucket: 'dumps', Key: 'bad' }))),
      'NotFound',
    );
  });

  it('authenticates: wrong secret, unknown key, anonymous and unsigned x-amz headers are refused', async () => {
    const wrong = s3.client({ ...DEFAULT_CREDENTIAL, secretAccessKey: 'not-the-secret' });
    assert.equal(
      await errorCode(wrong.send(new PutObjectCommand({ Bucket: 'dumps', Key: 'x', Body: 'x' }))),
      'SignatureDoesNotMatch',
    );
    assert.equal(
      await errorCode(
        wrong.send(new PutObjectCommand({ Bucket: 'dumps', Key: 'x', Body: randomBytes(3 * MiB) })),
      ),
      'SignatureDoesNotMatch',
    );
    const unknown = s3.client({ accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'x' });
    assert.equal(
      await errorCode(unknown.send(new ListObjectsV2Command({ Bucket: 'dumps' }))),
      'InvalidAccessKeyId',
    );
    const anonymous = await fetch(`${s3.server.endpoint}/dumps/stream.bin`);
    assert.equal(anonymous.status, 403);
    assert.match(await anonymous.text(), /AccessDenied/);
    const res = await signedFetch(
      s3.server.endpoint,
      DEFAULT_CREDENTIAL,
      'GET',
      '/dumps/stream.bin',
      undefined,
      {},
      { 'x-amz-meta-sneaky': '1' },
    );
    assert.equal(res.status, 403);
    assert.match(await res.text(), /not signed: x-amz-meta-sneaky/);
  });

  it('serves presigned GET URLs and refuses tampered or expired ones', async () => {
    await client.send(
      new PutObjectCommand({ Bucket: 'dumps', Key: 'shared/dump.hprof', Body: 'presigned body' }),
    );
    const url = await getSignedUrl(
      client,
      new GetObjectCommand({ Bucket: 'dumps', Key: 'shared/dump.hprof' }),
      { expiresIn: 60 },
    );
    const ok = await fetch(url);
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'presigned body');
    const tampered = await fetch(url.replace('shared/dump.hprof', 'shared/other.hprof'));
    assert.equal(tampered.status, 403);
    assert.match(await tampered.text(), /SignatureDoesNotMatch/);
    const expired = await getSignedUrl(
      client,
      new GetObjectCommand({ Bucket: 'dumps', Key: 'shared/dump.hprof' }),
      {
        expiresIn: 1,
        signingDate: new Date(Date.now() - 10_000),
      },
    );
    const res = await fetch(expired);
    assert.equal(res.status, 403);
    assert.match(await res.text(), /Request has expired/);
  });

  it('refuses a request signed for another region, naming the expected one', async () => {
    const res = await signedFetch(
      s3.server.endpoint,
      DEFAULT_CREDENTIAL,
      'GET',
      '/dumps',
      undefined,
      {},
      {},
      'eu-west-1',
    );
    assert.equal(res.status, 400);
    assert.match(await res.text(), /AuthorizationHeaderMalformed.*expecting 'us-east-1'/s);
  });
});

describe('strict S3 server with a put-only credential policy', () => {
  const putOnly: S3Credential = {
    accessKeyId: 'AKIAPUTONLY',
    secretAccessKey: 'put-only-secret',
    policy: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
          Resource: 'arn:aws:s3:::dumps/heapdumps/*',
        },
      ],
    },
  };
  let s3: S3Fixture;
  before(async () => {
    s3 = await startS3Fixture({ credentials: [DEFAULT_CREDENTIAL, putOnly] });
  });
  after(() => s3.close());

  it('lets it write and abort under its prefix, and nothing else', async () => {
    const c = s3.client(putOnly);
    await c.send(new PutObjectCommand({ Bucket: 'dumps', Key: 'heapdumps/a.hprof', Body: 'x' }));
    await new Upload({
      client: c,
      params: { Bucket: 'dumps', Key: 'heapdumps/big.hprof', Body: randomBytes(11 * MiB) },
      partSize: 5 * MiB,
    }).done();
    const { UploadId } = await c.send(
      new CreateMultipartUploadCommand({ Bucket: 'dumps', Key: 'heapdumps/c.hprof' }),
    );
    await c.send(new AbortMultipartUploadCommand({ Bucket: 'dumps', Key: 'heapdumps/c.hprof', UploadId }));
    assert.equal(
      await errorCode(c.send(new GetObjectCommand({ Bucket: 'dumps', Key: 'heapdumps/a.hprof' }))),
      'AccessDenied',
    );
    assert.equal(
      await errorCode(c.send(new ListObjectsV2Command({ Bucket: 'dumps', Prefix: 'heapdumps/' }))),
      'AccessDenied',
    );
    assert.equal(
      await errorCode(c.send(new DeleteObjectCommand({ Bucket: 'dumps', Key: 'heapdumps/a.hprof' }))),
      'AccessDenied',
    );
    assert.equal(
      await errorCode(c.send(new PutObjectCommand({ Bucket: 'dumps', Key: 'elsewhere/a.hprof', Body: 'x' }))),
      'AccessDenied',
    );
    const admin = s3.client();
    const listed = await admin.send(new ListObjectsV2Command({ Bucket: 'dumps', Prefix: 'heapdumps/' }));
    assert.deepEqual(
      listed.Contents?.map((o) => [o.Key, o.Size]),
      [
        ['heapdumps/a.hprof', 1],
        ['heapdumps/big.hprof', 11 * MiB],
      ],
    );
  });
});

describe('strict S3 server across a restart', () => {
  it('keeps objects and pending multipart uploads in its directory', async () => {
    const first = await startS3Fixture();
    const c = first.client();
    await c.send(new PutObjectCommand({ Bucket: 'dumps', Key: 'kept', Body: 'kept' }));
    const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: 'dumps', Key: 'pending' }));
    const part = randomBytes(5 * MiB);
    const { ETag } = await c.send(
      new UploadPartCommand({ Bucket: 'dumps', Key: 'pending', UploadId, PartNumber: 1, Body: part }),
    );
    const port = first.server.port;
    await first.server.stop();
    const second = await startS3Fixture({ dir: first.dir, port });
    try {
      const c2 = second.client();
      assert.equal(
        await (
          await c2.send(new GetObjectCommand({ Bucket: 'dumps', Key: 'kept' }))
        ).Body!.transformToString(),
        'kept',
      );
      const parts = await c2.send(new ListPartsCommand({ Bucket: 'dumps', Key: 'pending', UploadId }));
      assert.deepEqual(
        parts.Parts?.map((p) => p.ETag),
        [ETag],
      );
      await c2.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'dumps',
          Key: 'pending',
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag }] },
        }),
      );
      const got = await c2.send(new GetObjectCommand({ Bucket: 'dumps', Key: 'pending' }));
      assert.equal(sha256(await got.Body!.transformToByteArray()), sha256(part));
    } finally {
      await second.close();
      await first.close();
    }
  });
});

describe('strict S3 server rate limit and discard mode', () => {
  it('limits ingest to the configured rate', async () => {
    const s3 = await startS3Fixture({ rateBytesPerSecond: 20e6 });
    try {
      const started = performance.now();
      await s3.client().send(new PutObjectCommand({ Bucket: 'dumps', Key: 'slow', Body: randomBytes(10e6) }));
      const seconds = (performance.now() - started) / 1000;
      assert.ok(seconds >= 0.45, `10 MB at 20 MB/s took ${seconds.toFixed(2)} s`);
    } finally {
      await s3.close();
    }
  });

  it('accepts uploads without keeping bytes, and says so on GetObject', async () => {
    const s3 = await startS3Fixture({ discard: true });
    try {
      const c = s3.client();
      await new Upload({
        client: c,
        params: { Bucket: 'dumps', Key: 'd', Body: randomBytes(11 * MiB) },
        partSize: 5 * MiB,
      }).done();
      assert.equal(
        (await c.send(new HeadObjectCommand({ Bucket: 'dumps', Key: 'd' }))).ContentLength,
        11 * MiB,
      );
      assert.equal(
        await errorCode(c.send(new GetObjectCommand({ Bucket: 'dumps', Key: 'd' }))),
        'NotImplemented',
      );
    } finally {
      await s3.close();
    }
  });
});

describe('strict S3 server as an S3-like link and a light sink (benchmarks)', () => {
  it('caps each request, not the sum: each request has a limit of its own, the server-wide rate one for all', () => {
    // The mechanism, on a clock that stands still (no timing): what each 4 MB reservation at 20 MB/s waits.
    const still = () => 0;
    const shared = new RateLimit(20e6, still);
    assert.deepEqual([shared.reserve(4e6), shared.reserve(4e6)], [0, 200], 'the link: the second waits');
    const [a, b] = [
      requestLimit({ requestBytesPerSecond: 20e6 }, still),
      requestLimit({ requestBytesPerSecond: 20e6 }, still),
    ];
    assert.ok(a && b && a !== b);
    assert.deepEqual(
      [a.reserve(4e6), b.reserve(4e6)],
      [0, 0],
      'two requests at once: neither waits for the other',
    );
    assert.equal(a.reserve(4e6), 200, 'each request is still capped');
    assert.equal(requestLimit({}), undefined);
  });

  it('a capped request takes at least its bytes over the rate, plus the latency', async () => {
    const s3 = await startS3Fixture({ requestBytesPerSecond: 20e6, latencyMs: 50 });
    try {
      const c = s3.client();
      const put = (key: string) =>
        c.send(new PutObjectCommand({ Bucket: 'dumps', Key: key, Body: randomBytes(4e6) }));
      const started = performance.now();
      await put('one');
      const single = (performance.now() - started) / 1000;
      // A lower bound only: a loaded machine makes it slower, never faster. Two at once are served too.
      assert.ok(single >= 0.2 + 0.05, `4 MB at 20 MB/s plus 50 ms took ${single.toFixed(2)} s`);
      await Promise.all([put('a'), put('b')]);
    } finally {
      await s3.close();
    }
  });

  it('as a light sink, answers with the digests the request claims, without checking them', async () => {
    const s3 = await startS3Fixture({ discard: true, trustPayload: true });
    try {
      const body = randomBytes(1000);
      const claimed = createHash('md5').update('not the body').digest('base64');
      const r = await s3
        .client()
        .send(new PutObjectCommand({ Bucket: 'dumps', Key: 'light', Body: body, ContentMD5: claimed }));
      assert.equal(r.ETag, `"${Buffer.from(claimed, 'base64').toString('hex')}"`);
    } finally {
      await s3.close();
    }
    await assert.rejects(startS3Fixture({ trustPayload: true }), /trustPayload needs discard/);
  });
});

/** SHA-256 (or HMAC-SHA256 when given a key) in the shape @smithy/signature-v4 expects. */
class Sha256 {
  private readonly secret: Uint8Array | string | undefined;
  private hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.secret = secret === undefined || typeof secret === 'string' ? secret : toBytes(secret);
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(typeof data === 'string' ? data : toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

function toBytes(d: ArrayBuffer | ArrayBufferView): Uint8Array {
  return ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new Uint8Array(d);
}

/** A request signed by the SDK's own signer, for cases the S3 client will not produce. */
async function signedFetch(
  endpoint: string,
  credential: S3Credential,
  method: string,
  path: string,
  body: string | undefined,
  signedExtra: Record<string, string>,
  unsignedExtra: Record<string, string> = {},
  region = 'us-east-1',
): Promise<Response> {
  const url = new URL(endpoint);
  const signer = new SignatureV4({
    credentials: credential,
    region,
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const signed = await signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path,
    query: {},
    headers: {
      host: url.host,
      'x-amz-content-sha256': body === undefined ? sha256(Buffer.alloc(0)) : sha256(Buffer.from(body)),
      ...signedExtra,
    },
    body,
  });
  return fetch(`${endpoint}${path}`, { method, headers: { ...signed.headers, ...unsignedExtra }, body });
}
