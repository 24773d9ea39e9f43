// The provisioned bucket: aws.s3.Bucket plus one resource per setting (aws v7 style), all children of the
// component. Thin: every decision is in policies.ts or the arguments.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { ProvisionedBucketArgs } from './args.ts';
import { FieldError } from './errors.ts';
import { denyInsecureTransportPolicy } from './policies.ts';

export const DEFAULT_RETENTION_DAYS = 30;

/** `storage.provision.retentionDays`, checked: a whole number of days, 1 or more (S3 refuses others). */
export function retentionDays(days: number | undefined): number {
  const d = days ?? DEFAULT_RETENTION_DAYS;
  if (!Number.isInteger(d) || d < 1) {
    throw new FieldError('storage.provision.retentionDays', `${d} must be a whole number of days, 1 or more`);
  }
  return d;
}

export interface ProvisionedBucket {
  bucket: aws.s3.Bucket;
  name: pulumi.Output<string>;
  arn: pulumi.Output<string>;
  region: pulumi.Output<string>;
}

export function provisionBucket(
  name: string,
  args: ProvisionedBucketArgs,
  parent: pulumi.Resource,
): ProvisionedBucket {
  const opts = { parent };
  const bucket = new aws.s3.Bucket(
    `${name}-dumps`,
    {
      ...(args.name !== undefined ? { bucket: args.name } : {}),
      forceDestroy: args.forceDestroy ?? false,
      tags: { 'kube-heapdump': name },
    },
    opts,
  );

  new aws.s3.BucketServerSideEncryptionConfiguration(
    `${name}-dumps-encryption`,
    {
      bucket: bucket.bucket,
      rules: [
        {
          applyServerSideEncryptionByDefault: pulumi
            .output(args.kmsKeyArn)
            .apply((kmsKeyArn) =>
              kmsKeyArn === undefined
                ? { sseAlgorithm: 'AES256' }
                : { sseAlgorithm: 'aws:kms', kmsMasterKeyId: kmsKeyArn },
            ),
          bucketKeyEnabled: pulumi.output(args.kmsKeyArn).apply((k) => k !== undefined),
        },
      ],
    },
    opts,
  );

  const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
    `${name}-dumps-public-access`,
    {
      bucket: bucket.bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    opts,
  );

  new aws.s3.BucketOwnershipControls(
    `${name}-dumps-ownership`,
    { bucket: bucket.bucket, rule: { objectOwnership: 'BucketOwnerEnforced' } },
    opts,
  );

  new aws.s3.BucketLifecycleConfiguration(
    `${name}-dumps-lifecycle`,
    {
      bucket: bucket.bucket,
      rules: [
        {
          id: 'expire-heap-dumps',
          status: 'Enabled',
          filter: {},
          expiration: {
            days: pulumi.output(args.retentionDays).apply(retentionDays),
          },
        },
        {
          id: 'abort-incomplete-uploads',
          status: 'Enabled',
          filter: {},
          abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
        },
      ],
    },
    opts,
  );

  // After the public access block: S3 checks new policies against it.
  new aws.s3.BucketPolicy(
    `${name}-dumps-tls-only`,
    {
      bucket: bucket.bucket,
      policy: bucket.arn.apply((arn) => JSON.stringify(denyInsecureTransportPolicy(arn))),
    },
    { parent, dependsOn: [publicAccessBlock] },
  );

  return { bucket, name: bucket.bucket, arn: bucket.arn, region: bucket.region };
}
