// HeapDumpEnabledApp: a Java Deployment whose heap dumps reach a bucket. The shell around the pure builders:
// it creates the bucket, the identity and the Deployment, and reports warnings through Pulumi.

import { DEFAULT_PREFIX } from '@kube-heapdump/contract';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { HeapDumpEnabledAppArgs } from './args.ts';
import { provisionBucket } from './bucket.ts';
import { createIdentity } from './identity.ts';
import { uploaderImage } from './image.ts';
import { checkEndpoint, normalizePrefix, planResources } from './plan.ts';
import { ArgsError, renderDeployment, type UploadTarget } from './pod-spec.ts';
import { uploaderPolicy } from './policies.ts';

export const HEAPDUMP_ENABLED_APP_TYPE = 'heapdump:index:HeapDumpEnabledApp';

/**
 * A Java app on Kubernetes whose heap dumps reach S3-compatible storage: the JVM dumps on OutOfMemoryError
 * to a shared volume, an uploader sidecar streams each dump to the bucket, and developers get them with
 * `heapdump list` / `heapdump get`.
 */
export class HeapDumpEnabledApp extends pulumi.ComponentResource {
  /** Name of the Deployment. */
  public readonly deploymentName: pulumi.Output<string>;
  /** Namespace of the Deployment. */
  public readonly namespace: pulumi.Output<string>;
  /** Bucket the dumps are stored in. */
  public readonly bucketName: pulumi.Output<string>;
  /** Key prefix of the dumps (`<prefix><namespace>/<app>/<pod>/...`). */
  public readonly keyPrefix: pulumi.Output<string>;
  /** Secret with the uploader's access key, when the identity uses one. */
  public readonly secretName: pulumi.Output<string | undefined>;
  /** ServiceAccount of the pods (created for irsa and podIdentity; `default` unless given otherwise). */
  public readonly serviceAccountName: pulumi.Output<string>;
  /** Size limit of the dump volume, as rendered. */
  public readonly dumpVolumeSizeLimit: pulumi.Output<string>;
  /** The command a developer runs to list this app's dumps. */
  public readonly listCommand: pulumi.Output<string>;

  constructor(name: string, args: HeapDumpEnabledAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super(HEAPDUMP_ENABLED_APP_TYPE, name, {}, opts);
    const plan = planResources(args);
    if (isPlain(args)) checkPlainArgs(name, args);
    const storage = args.storage ?? {};
    const namespace = pulumi.output(args.namespace ?? 'default');
    const appName = pulumi.output(args.appName ?? name);
    const prefix = pulumi.output(storage.prefix ?? DEFAULT_PREFIX).apply(normalizePrefix);

    let target: pulumi.Output<UploadTarget>;
    let bucketArn: pulumi.Output<string>;
    let kmsKeyArn: pulumi.Output<string | undefined> = pulumi.output(undefined);
    if (plan.storage === 'provision') {
      const provision = storage.provision ?? {};
      const bucket = provisionBucket(name, provision, this);
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
      const existing = pulumi.output(storage.existing);
      target = pulumi.all([existing, prefix]).apply(([e, p]) => existingTarget(e, p));
      bucketArn = target.apply((t) => `arn:aws:s3:::${t.bucket}`);
    }

    const serviceAccountName = pulumi.output(args.serviceAccountName ?? appName);
    const identity = createIdentity({
      name,
      kind: plan.identity,
      args: args.identity ?? {},
      namespace,
      serviceAccountName,
      policy: pulumi
        .all([bucketArn, prefix, kmsKeyArn, target])
        .apply(([arn, p, kms, t]) =>
          uploaderPolicy({ bucketArn: arn, prefix: p, kmsKeyArn: kms, region: t.region }),
        ),
      parent: this,
    });

    const podServiceAccount = pulumi
      .all([identity.serviceAccountName, pulumi.output(args.serviceAccountName)])
      .apply(([created, given]) => created ?? given);
    const uploader = pulumi.output(args.uploader ?? {});
    const rendered = pulumi
      .all([
        pulumi.output(args),
        appName,
        target,
        identity.credentials,
        podServiceAccount,
        uploader,
        pulumi.output(args.heapDumps ?? {}),
      ])
      .apply(([app, appNameValue, t, credentials, serviceAccount, up, heapDumps]) =>
        renderDeployment({
          appName: appNameValue,
          app,
          heapDumps,
          uploader: up,
          target: t,
          credentials,
          serviceAccountName: serviceAccount,
          defaultUploaderImage: uploaderImage(up.registry),
        }),
      );
    rendered.apply((r) => {
      for (const warning of r.warnings) pulumi.log.warn(warning, this);
    });

    const deployment = new k8s.apps.v1.Deployment(
      name,
      {
        metadata: {
          name: appName,
          namespace,
          labels: { app: appName, 'app.kubernetes.io/part-of': 'kube-heapdump' },
        },
        spec: rendered.apply((r) => r.spec),
      },
      { parent: this },
    );

    this.deploymentName = deployment.metadata.name;
    this.namespace = namespace;
    this.bucketName = target.apply((t) => t.bucket);
    this.keyPrefix = prefix;
    this.secretName = identity.secretName;
    this.serviceAccountName = podServiceAccount.apply((sa) => sa ?? 'default');
    this.dumpVolumeSizeLimit = rendered.apply((r) => r.sizing.sizeLimit);
    this.listCommand = pulumi
      .all([target, namespace, appName])
      .apply(([t, ns, app]) => listCommand(t, ns, app));
    this.registerOutputs({
      deploymentName: this.deploymentName,
      namespace: this.namespace,
      bucketName: this.bucketName,
      keyPrefix: this.keyPrefix,
      secretName: this.secretName,
      serviceAccountName: this.serviceAccountName,
      dumpVolumeSizeLimit: this.dumpVolumeSizeLimit,
      listCommand: this.listCommand,
    });
  }
}

/** True when no value in the arguments is an Output or a Promise: everything is known now. */
function isPlain(value: unknown): boolean {
  if (pulumi.Output.isInstance(value) || value instanceof Promise) return false;
  if (Array.isArray(value)) return value.every(isPlain);
  if (value !== null && typeof value === 'object') return Object.values(value).every(isPlain);
  return true;
}

/**
 * Arguments known at construction are checked then, so a mistake fails `pulumi preview` at once with the
 * field named (the Deployment's own rendering repeats the checks for values that arrive later).
 */
function checkPlainArgs(name: string, args: HeapDumpEnabledAppArgs): void {
  const plain = args as pulumi.Unwrap<HeapDumpEnabledAppArgs>;
  const prefix = normalizePrefix(plain.storage?.prefix ?? DEFAULT_PREFIX);
  const existing = plain.storage?.existing;
  renderDeployment({
    appName: plain.appName ?? name,
    app: plain,
    heapDumps: plain.heapDumps ?? {},
    uploader: plain.uploader ?? {},
    target: existing
      ? existingTarget(existing, prefix)
      : { bucket: 'provisioned', prefix, region: 'provisioned', forcePathStyle: false, checksums: true },
    credentials: { kind: 'webIdentity' },
    defaultUploaderImage: uploaderImage(plain.uploader?.registry),
  });
}

function existingTarget(
  e: pulumi.Unwrap<NonNullable<HeapDumpEnabledAppArgs['storage']>['existing']>,
  prefix: string,
): UploadTarget {
  if (e === undefined || !e.bucket) throw new ArgsError('storage.existing.bucket', 'is required');
  if (e.endpoint !== undefined) checkEndpoint(e.endpoint);
  const region = e.region ?? (e.endpoint !== undefined ? 'us-east-1' : undefined);
  if (region === undefined) {
    throw new ArgsError('storage.existing.region', 'is required for an AWS bucket (no endpoint given)');
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

/** The `heapdump list` a developer runs for this app, with the store settings it needs. */
export function listCommand(target: UploadTarget, namespace: string, app: string): string {
  const words = ['heapdump', 'list', '--bucket', target.bucket, '--prefix', target.prefix];
  if (target.endpoint !== undefined) words.push('--endpoint', target.endpoint);
  words.push('--region', target.region);
  if (target.forcePathStyle) words.push('--path-style');
  words.push('--namespace', namespace, '--app', app);
  return words.map(shellWord).join(' ');
}

function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
