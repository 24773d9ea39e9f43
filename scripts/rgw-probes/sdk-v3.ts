// What the AWS SDK v3 sends to a `scripts/rgw` gateway for stream bodies, and what RGW answers
// (docs/rgw-facts.md, fact e). Usage: scripts/with-node24 node scripts/rgw-probes/sdk-v3.ts /tmp/rgw.json
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import {
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

const rgw = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as {
  endpoint: string;
  region: string;
  bucket: string;
  owner: { accessKeyId: string; secretAccessKey: string };
};
const body = Buffer.alloc(1024 * 1024, 'x');
const shown = [
  'content-length',
  'transfer-encoding',
  'content-encoding',
  'x-amz-content-sha256',
  'x-amz-decoded-content-length',
  'x-amz-trailer',
];

for (const calculation of ['WHEN_SUPPORTED', 'WHEN_REQUIRED'] as const) {
  const s3 = new S3Client({
    endpoint: rgw.endpoint,
    region: rgw.region,
    forcePathStyle: true,
    credentials: rgw.owner,
    maxAttempts: 1,
    requestChecksumCalculation: calculation,
  });
  let sent = '';
  s3.middlewareStack.add(
    (next) => async (args) => {
      const headers = (args.request as { headers: Record<string, string> }).headers;
      sent = shown.map((h) => `${h}: ${headers[h] ?? '-'}`).join(', ');
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low' },
  );
  const key = `sdk-v3/${calculation}`;
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: rgw.bucket, Key: key }));
  const cases: [string, () => Promise<{ $metadata: { httpStatusCode?: number } }>][] = [
    ['PutObject Buffer', () => s3.send(new PutObjectCommand({ Bucket: rgw.bucket, Key: key, Body: body }))],
    [
      'PutObject stream with ContentLength',
      () =>
        s3.send(
          new PutObjectCommand({
            Bucket: rgw.bucket,
            Key: key,
            Body: Readable.from([body]),
            ContentLength: body.length,
          }),
        ),
    ],
    [
      'PutObject stream without ContentLength',
      () => s3.send(new PutObjectCommand({ Bucket: rgw.bucket, Key: key, Body: Readable.from([body]) })),
    ],
    [
      'UploadPart stream with ContentLength and our ChecksumCRC32',
      () =>
        s3.send(
          new UploadPartCommand({
            Bucket: rgw.bucket,
            Key: key,
            UploadId,
            PartNumber: 1,
            Body: Readable.from([body]),
            ContentLength: body.length,
            ChecksumCRC32: 'AAAAAA==', // wrong on purpose: RGW 16 does not look at it
          }),
        ),
    ],
  ];
  for (const [name, command] of cases) {
    let answer: string;
    try {
      const out = await command();
      answer = String(out.$metadata.httpStatusCode);
    } catch (err) {
      const e = err as Error & { $metadata?: { httpStatusCode?: number } };
      answer = e.$metadata?.httpStatusCode
        ? `${e.$metadata.httpStatusCode} ${e.name}`
        : `${e.name}: ${e.message}`;
    }
    console.log(`${calculation} ${name}: ${answer} (sent ${sent})`);
  }
  s3.destroy();
}
