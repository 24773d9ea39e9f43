// The IAM documents the component writes (policies.ts), pure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  denyInsecureTransportPolicy,
  irsaTrustPolicy,
  oidcIssuerFromProviderArn,
  uploaderPolicy,
} from '../src/policies.ts';

test('the uploader policy grants put and abort under the prefix, nothing to read, list or delete', () => {
  const doc = uploaderPolicy({ bucketArn: 'arn:aws-cn:s3:::dumps', prefix: 'team/' });
  const actions = doc.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
  assert.deepEqual(actions.sort(), ['s3:AbortMultipartUpload', 's3:PutObject']);
  assert.deepEqual(
    doc.Statement.map((s) => s.Resource),
    ['arn:aws-cn:s3:::dumps/team/*'],
  );
  assert.ok(doc.Statement.every((s) => s.Effect === 'Allow' && !JSON.stringify(s).includes('*:*')));
});

test('with a KMS key the policy adds data-key use through S3 in the bucket region only', () => {
  const key = 'arn:aws:kms:eu-west-1:111122223333:key/abc';
  const doc = uploaderPolicy({
    bucketArn: 'arn:aws:s3:::d',
    prefix: '',
    kmsKeyArn: key,
    region: 'eu-west-1',
  });
  assert.deepEqual(doc.Statement[1], {
    Sid: 'EncryptHeapDumps',
    Effect: 'Allow',
    Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
    Resource: key,
    Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } },
  });
  assert.equal(doc.Statement[0]?.Resource, 'arn:aws:s3:::d/*');
});

test('the bucket policy denies any request without TLS, on the bucket and its objects', () => {
  const [deny] = denyInsecureTransportPolicy('arn:aws:s3:::d').Statement;
  assert.equal(deny?.Effect, 'Deny');
  assert.equal(deny?.Principal, '*');
  assert.equal(deny?.Action, 's3:*');
  assert.deepEqual(deny?.Resource, ['arn:aws:s3:::d', 'arn:aws:s3:::d/*']);
  assert.deepEqual(deny?.Condition, { Bool: { 'aws:SecureTransport': 'false' } });
});

test('IRSA trust names the issuer from the provider ARN; a malformed ARN is refused', () => {
  const arn = 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC';
  assert.equal(oidcIssuerFromProviderArn(arn), 'oidc.eks.us-east-1.amazonaws.com/id/ABC');
  const trust = irsaTrustPolicy({ oidcProviderArn: arn, namespace: 'ns', serviceAccount: 'sa' });
  assert.equal(
    trust.Statement[0]?.Condition?.StringEquals?.['oidc.eks.us-east-1.amazonaws.com/id/ABC:sub'],
    'system:serviceaccount:ns:sa',
  );
  assert.throws(
    () => oidcIssuerFromProviderArn('oidc.eks.us-east-1.amazonaws.com/id/ABC'),
    /not an IAM OIDC provider ARN/,
  );
});
