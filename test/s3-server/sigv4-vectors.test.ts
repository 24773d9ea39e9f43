// The server's signature code checked against AWS's published chunked-upload example
// (S3 API reference, "Transferring Payload in Multiple Chunks"), an oracle we did not write.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { AwsChunkedDecoder } from '../support/s3/aws-chunked.ts';
import * as sigv4 from '../support/s3/sigv4.ts';

const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const amzDate = '20130524T000000Z';
const credential = sigv4.parseCredential('AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request');
const seed = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';
const chunkSigs = [
  'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
  '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
  'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
];

function body(sigs: string[], second = Buffer.alloc(1024, 'a')): Buffer {
  return Buffer.concat([
    Buffer.from(`10000;chunk-signature=${sigs[0]}\r\n`),
    Buffer.alloc(65536, 'a'),
    Buffer.from(`\r\n400;chunk-signature=${sigs[1]}\r\n`),
    second,
    Buffer.from(`\r\n0;chunk-signature=${sigs[2]}\r\n\r\n`),
  ]);
}

async function decode(raw: Buffer, pieceSize: number): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < raw.length; i += pieceSize) pieces.push(raw.subarray(i, i + pieceSize));
  const decoder = new AwsChunkedDecoder({
    key: sigv4.signingKey(secret, credential),
    amzDate,
    credential,
    seedSignature: seed,
  });
  const [out] = await Promise.all([buffer(decoder), pipeline(Readable.from(pieces), decoder)]);
  return out;
}

describe('SigV4 against the AWS documentation example', () => {
  it('computes the seed signature of the example PUT', () => {
    const headers = new Map<string, string[]>([
      ['content-encoding', ['aws-chunked']],
      ['content-length', ['66824']],
      ['host', ['s3.amazonaws.com']],
      ['x-amz-content-sha256', ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD']],
      ['x-amz-date', [amzDate]],
      ['x-amz-decoded-content-length', ['66560']],
      ['x-amz-storage-class', ['REDUCED_REDUNDANCY']],
    ]);
    const canonical = sigv4.canonicalRequest({
      method: 'PUT',
      path: '/examplebucket/chunkObject.txt',
      rawQuery: '',
      headers,
      signedHeaders: [...headers.keys()],
      payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    });
    const signature = sigv4.sign(
      sigv4.signingKey(secret, credential),
      sigv4.stringToSign(amzDate, credential, canonical),
    );
    assert.equal(signature, seed);
  });

  for (const pieceSize of [1, 7, 4096, 1 << 20]) {
    it(`decodes the signed chunks fed ${pieceSize} bytes at a time`, async () => {
      const out = await decode(body(chunkSigs), pieceSize);
      assert.equal(out.length, 66560);
      assert.ok(out.every((b) => b === 0x61));
    });
  }

  it('refuses a tampered chunk, a wrong signature and a missing final chunk', async () => {
    const tampered = Buffer.alloc(1024, 'a');
    tampered[10] = 0x62;
    await assert.rejects(decode(body(chunkSigs, tampered), 4096), { code: 'SignatureDoesNotMatch' });
    await assert.rejects(decode(body([chunkSigs[0]!, chunkSigs[2]!, chunkSigs[1]!]), 4096), {
      code: 'SignatureDoesNotMatch',
    });
    const full = body(chunkSigs);
    const truncated = full.subarray(0, full.length - 80);
    await assert.rejects(decode(truncated, 4096), { code: 'IncompleteBody' });
  });

  it('encodes queries the SigV4 way', () => {
    assert.equal(
      sigv4.canonicalQuery('b=2&a=1&prefix=a%20b%2Bc&uploads'),
      'a=1&b=2&prefix=a%20b%2Bc&uploads=',
    );
    assert.equal(sigv4.uriEncode("a b*(')!~"), 'a%20b%2A%28%27%29%21~');
  });
});
