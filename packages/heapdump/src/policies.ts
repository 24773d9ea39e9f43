// IAM documents as pure functions of names and ARNs, so every rule about them is a plain test.

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Principal?: string | Record<string, string>;
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

/** `arn:aws:s3:::bucket` -> `aws`; the partition of every other ARN we build for that bucket. */
export function partitionOf(arn: string): string {
  const partition = arn.split(':')[1];
  if (!arn.startsWith('arn:') || !partition) throw new Error(`"${arn}" is not an ARN`);
  return partition;
}

/**
 * What the uploader may do, and nothing more: put objects (and abort its own multipart uploads) under the
 * prefix. No Get, List or Delete: a leaked key can add dumps but never read one. The uploader resumes
 * uploads with nothing beyond this (its own state file says which parts are done).
 * With SSE-KMS, S3 needs the caller's kms:GenerateDataKey to encrypt and kms:Decrypt to assemble a multipart
 * upload (AWS: "Multipart upload API and permissions"), both only through S3 in the bucket's region.
 */
export function uploaderPolicy(opts: PrefixAccess): PolicyDocument {
  const statements: PolicyStatement[] = [
    {
      Sid: 'PutHeapDumps',
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
      Resource: `${opts.bucketArn}/${opts.prefix}*`,
    },
  ];
  if (opts.kmsKeyArn !== undefined) {
    statements.push(
      kmsThroughS3('EncryptHeapDumps', ['kms:GenerateDataKey', 'kms:Decrypt'], opts.kmsKeyArn, opts.region),
    );
  }
  return { Version: '2012-10-17', Statement: statements };
}

/** A policy's subject: the dumps under a prefix of a bucket, its SSE-KMS key and region when there are. */
export interface PrefixAccess {
  bucketArn: string;
  prefix: string;
  kmsKeyArn?: string | undefined;
  region?: string | undefined;
}

/** Use of the bucket's SSE-KMS key, only through S3 in the bucket's region when that is known. */
export function kmsThroughS3(
  sid: string,
  actions: string[],
  kmsKeyArn: string,
  region: string | undefined,
): PolicyStatement {
  const statement: PolicyStatement = { Sid: sid, Effect: 'Allow', Action: actions, Resource: kmsKeyArn };
  if (region !== undefined) {
    statement.Condition = { StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` } };
  }
  return statement;
}

/** Bucket policy: every request without TLS is denied, whoever makes it. */
export function denyInsecureTransportPolicy(bucketArn: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ],
  };
}

/** The OIDC issuer (`oidc.eks.<region>.amazonaws.com/id/<id>`) from the provider's ARN. */
export function oidcIssuerFromProviderArn(providerArn: string): string {
  const marker = ':oidc-provider/';
  const at = providerArn.indexOf(marker);
  if (!providerArn.startsWith('arn:') || at < 0 || at + marker.length === providerArn.length) {
    throw new Error(
      `"${providerArn}" is not an IAM OIDC provider ARN (arn:aws:iam::<account>:oidc-provider/<issuer>)`,
    );
  }
  return providerArn.slice(at + marker.length);
}

/** IRSA trust: only this ServiceAccount's projected token, audience sts.amazonaws.com. */
export function irsaTrustPolicy(opts: {
  oidcProviderArn: string;
  namespace: string;
  serviceAccount: string;
}): PolicyDocument {
  const issuer = oidcIssuerFromProviderArn(opts.oidcProviderArn);
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'HeapDumpUploaderServiceAccount',
        Effect: 'Allow',
        Principal: { Federated: opts.oidcProviderArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            [`${issuer}:sub`]: `system:serviceaccount:${opts.namespace}:${opts.serviceAccount}`,
            [`${issuer}:aud`]: 'sts.amazonaws.com',
          },
        },
      },
    ],
  };
}

/** EKS Pod Identity trust: the agent assumes the role and tags the session with the pod's identity. */
export function podIdentityTrustPolicy(): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'EksPodIdentity',
        Effect: 'Allow',
        Principal: { Service: 'pods.eks.amazonaws.com' },
        Action: ['sts:AssumeRole', 'sts:TagSession'],
      },
    ],
  };
}
