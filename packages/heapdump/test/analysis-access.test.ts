// The analysis Jobs' IAM policy with SSE-KMS (analysis-access.ts): the key is used only through S3, in the
// bucket's region when it is known. (analysis.test.ts checks the S3 statements and the components.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analysisPolicy } from '../src/analysis-access.ts';

const bucket = {
  bucketArn: 'arn:aws:s3:::dumps',
  prefix: 'heapdumps/',
  kmsKeyArn: 'arn:aws:kms:eu-west-1:1:key/k',
};

test('with a KMS key: decrypt to read dumps, generate data keys to write reports, through S3 in the region', () => {
  const doc = analysisPolicy({ ...bucket, region: 'eu-west-1' });
  assert.deepEqual(doc.Statement.at(-1), {
    Sid: 'DecryptHeapDumps',
    Effect: 'Allow',
    Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
    Resource: 'arn:aws:kms:eu-west-1:1:key/k',
    Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } },
  });
});

test('without a region, no condition; without a key, no KMS statement', () => {
  assert.equal(analysisPolicy(bucket).Statement.at(-1)?.Condition, undefined);
  assert.equal(analysisPolicy(bucket).Statement.length, 3);
  assert.equal(analysisPolicy({ bucketArn: bucket.bucketArn, prefix: bucket.prefix }).Statement.length, 2);
});
