// Where dumps go and what the uploader may do there, shared by HeapDumpEnabledApp and HeapDumpStorage: the
// provisioned bucket or the existing one, the key prefix, the upload target the uploader's env is made from,
// and the uploader's IAM policy.
import { DEFAULT_PREFIX } from '@kube-heapdump/contract';
import * as pulumi from '@pulumi/pulumi';
import { analysisPolicy } from './analysis-access.ts';
import type { ExistingBucketArgs, StorageArgs } from './args.ts';
import { provisionBucket, retentionDays } from './bucket.ts';
import { FieldError } from './errors.ts';
import { checkEndpoint, normalizePrefix, type Plan } from './plan.ts';
import { type PolicyDocument, uploaderPolicy } from './policies.ts';
import type { UploadTarget } from './uploader-container.ts';

export interface StorageCore {
  target: pulumi.Output<UploadTarget>;
  prefix: pulumi.Output<string>;
  /** What the uploader may do (for the IAM user or role). */
  policy: pulumi.Output<PolicyDocument>;
  /** What the analysis controller and its Jobs may do (analysis-access.ts). */
  analysisPolicy: pulumi.Output<PolicyDocument>;
}

export function createStorageCore(
  name: string,
  plan: Plan,
  storage: StorageArgs,
  parent: pulumi.Resource,
): StorageCore {
  const prefix = pulumi.output(storage.prefix ?? DEFAULT_PREFIX).apply(normalizePrefix);
  let target: pulumi.Output<UploadTarget>;
  let bucketArn: pulumi.Output<string>;
  let kmsKeyArn: pulumi.Output<string | undefined> = pulumi.output(undefined);
  if (plan.storage === 'provision') {
    const provision = storage.provision ?? {};
    const bucket = provisionBucket(name, provision, parent);
    bucketArn = bucket.arn;
    kmsKeyArn = pulumi.output(provision.kmsKeyArn);
    target = pulumi.all([bucket.name, bucket.region, prefix]).apply(([bucketName, region, p]) => ({
      bucket: bucketName,
      prefix: p,
      region,
      forcePathStyle: false,
      checksums: true,
    }));
  } else {
    target = pulumi.all([pulumi.output(storage.existing), prefix]).apply(([e, p]) => existingTarget(e, p));
    bucketArn = target.apply((t) => `arn:aws:s3:::${t.bucket}`);
  }
  const policy = pulumi
    .all([bucketArn, prefix, kmsKeyArn, target])
    .apply(([arn, p, kms, t]) =>
      uploaderPolicy({ bucketArn: arn, prefix: p, kmsKeyArn: kms, region: t.region }),
    );
  const analysis = pulumi
    .all([bucketArn, prefix, kmsKeyArn, target])
    .apply(([arn, p, kms, t]) =>
      analysisPolicy({ bucketArn: arn, prefix: p, kmsKeyArn: kms, region: t.region }),
    );
  return { target, prefix, policy, analysisPolicy: analysis };
}

/** The upload target of `storage.existing`, checked. */
export function existingTarget(
  e: pulumi.Unwrap<ExistingBucketArgs> | undefined,
  prefix: string,
): UploadTarget {
  if (e === undefined || !e.bucket) throw new FieldError('storage.existing.bucket', 'is required');
  if (e.endpoint !== undefined) checkEndpoint(e.endpoint);
  const region = e.region ?? (e.endpoint !== undefined ? 'us-east-1' : undefined);
  if (region === undefined) {
    throw new FieldError('storage.existing.region', 'is required for an AWS bucket (no endpoint given)');
  }
  return {
    bucket: e.bucket,
    prefix,
    endpoint: e.endpoint,
    region,
    forcePathStyle: e.forcePathStyle ?? false,
    checksums: e.checksums ?? true,
  };
}

/** The storage arguments known now (not Outputs), checked before any resource is registered. */
export function checkStorageArgs(storage: StorageArgs | undefined): void {
  const days = storage?.provision?.retentionDays;
  if (isPlain(days)) retentionDays(days as number | undefined);
  const prefix = storage?.prefix;
  if (typeof prefix === 'string') normalizePrefix(prefix);
  const existing = storage?.existing;
  if (existing !== undefined && isPlain(existing) && isPlain(storage?.prefix))
    placeholderTarget(storage as pulumi.Unwrap<StorageArgs>);
}

/** A stand-in target: checks plain storage arguments before the bucket exists. */
function placeholderTarget(storage: pulumi.Unwrap<StorageArgs> | undefined): UploadTarget {
  const prefix = normalizePrefix(storage?.prefix ?? DEFAULT_PREFIX);
  const existing = storage?.existing;
  return existing
    ? existingTarget(existing, prefix)
    : { bucket: 'provisioned', prefix, region: 'provisioned', forcePathStyle: false, checksums: true };
}

/** True when no value in `value` is an Output or a Promise: everything is known now. */
export function isPlain(value: unknown): boolean {
  if (pulumi.Output.isInstance(value) || value instanceof Promise) return false;
  if (Array.isArray(value)) return value.every(isPlain);
  if (value !== null && typeof value === 'object') return Object.values(value).every(isPlain);
  return true;
}
