// HeapDumpEnabledApp: a Java workload whose heap dumps reach a bucket. The shell around the pure builders:
// it creates the storage (StorageCore), the identity and the workload, and reports warnings through Pulumi.

import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { checkAnalysisIdentity, provisionAnalysis } from './analysis.ts';
import { analysisSettings } from './analysis-args.ts';
import { type AppUploader, checkPodArgs, type PlainAppArgs, prepareAppWorkload } from './app-workload.ts';
import type { HeapDumpEnabledAppArgs, WorkloadKind } from './args.ts';
import { FieldError } from './errors.ts';
import { eventsAccess, eventsRoleWanted } from './events-rbac.ts';
import { createIdentity } from './identity.ts';
import { uploaderImage } from './image.ts';
import { PART_OF_LABEL } from './names.ts';
import { planResources } from './plan.ts';
import { checkStorageArgs, createStorageCore, isPlain } from './storage-core.ts';
import type { UploadTarget } from './uploader-container.ts';
import { checkKind, type RenderedWorkload } from './workload.ts';

export const HEAPDUMP_ENABLED_APP_TYPE = 'heapdump:index:HeapDumpEnabledApp';

type Metadata = {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  [key: string]: unknown;
};

/**
 * A Java app on Kubernetes whose heap dumps reach S3-compatible storage: the JVM dumps on OutOfMemoryError
 * to a shared volume, an uploader sidecar streams each dump to the bucket, and developers get them with
 * `heapdump list` / `heapdump get`.
 */
export class HeapDumpEnabledApp extends pulumi.ComponentResource {
  /** Name of the workload (a Deployment unless `kind` says otherwise). */
  public readonly deploymentName: pulumi.Output<string>;
  /** Name of the workload; the same as `deploymentName`, whatever the kind. */
  public readonly workloadName: pulumi.Output<string>;
  /** Namespace of the workload. */
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
    // Every argument known now is checked before anything is registered (this component included): one
    // error, once, naming the field.
    const plan = planResources(args);
    const kind = checkKind(args.kind);
    checkPodArgs(args, kind);
    checkStorageArgs(args.storage);
    // Known now, the workload is rendered (and checked) now, once; the store is wired in when it exists.
    const prepared = isPlain(args)
      ? prepareAppWorkload(kind, args as PlainAppArgs, appUploader(args as PlainAppArgs))
      : undefined;
    const analysis = analysisSettings(args.analysis, plainNamespace(args));
    if (analysis) checkAnalysisIdentity(analysis, plan.identity);
    super(HEAPDUMP_ENABLED_APP_TYPE, name, {}, opts);
    const storage = createStorageCore(name, plan, args.storage ?? {}, this);
    const metadata = pulumi.output(args.workloadMetadata ?? {}) as pulumi.Output<Metadata>;
    const namespace = pulumi.all([pulumi.output(args.namespace), metadata]).apply(([ns, md]) => {
      if (ns !== undefined && md.namespace !== undefined && ns !== md.namespace) {
        throw new FieldError(
          'workloadMetadata.namespace',
          `"${md.namespace}" differs from namespace "${ns}"; give one`,
        );
      }
      return ns ?? md.namespace ?? 'default';
    });
    const appName = pulumi
      .all([pulumi.output(args.appName), metadata])
      .apply(([a, md]) => a ?? md.name ?? name);
    const templateServiceAccount = pulumi
      .output(args.podTemplate)
      .apply((t) => (t as { spec?: { serviceAccountName?: string } } | undefined)?.spec?.serviceAccountName);

    const identity = createIdentity({
      name,
      kind: plan.identity,
      args: args.identity ?? {},
      namespace,
      serviceAccountName: pulumi
        .all([pulumi.output(args.serviceAccountName), templateServiceAccount, appName])
        .apply(([given, inTemplate, app]) => given ?? inTemplate ?? app),
      policy: storage.policy,
      parent: this,
    });
    const podServiceAccount = pulumi
      .all([identity.serviceAccountName, pulumi.output(args.serviceAccountName)])
      .apply(([created, given]) => created ?? given);
    const rendered = pulumi
      .all([pulumi.output(args), appName, storage.target, identity.credentials, podServiceAccount])
      .apply(([plain, app, target, credentials, serviceAccount]): RenderedWorkload => {
        const workload = prepared ?? prepareAppWorkload(kind, plain as PlainAppArgs, appUploader(plain));
        return {
          spec: workload.wire({ appName: app, target, credentials }, serviceAccount),
          sizing: workload.sizing,
          warnings: workload.warnings,
        };
      });
    rendered.apply((r) => {
      for (const warning of r.warnings) pulumi.log.warn(warning, this);
    });

    const workloadMetadata = pulumi.all([metadata, appName, namespace]).apply(
      ([md, app, ns]): Metadata => ({
        ...md,
        name: md.name ?? app,
        namespace: ns,
        // The user's labels win: ours only marks a workload that says nothing of its own.
        labels: { ...PART_OF_LABEL, ...(md.labels ?? { app }) },
      }),
    );
    const workload = createWorkload(name, kind, workloadMetadata, rendered, this);

    this.deploymentName = workload.metadata.name;
    this.workloadName = workload.metadata.name;
    this.namespace = namespace;
    this.bucketName = storage.target.apply((t) => t.bucket);
    this.keyPrefix = storage.prefix;
    this.secretName = identity.secretName;
    this.serviceAccountName = pulumi
      .all([podServiceAccount, templateServiceAccount])
      .apply(([sa, inTemplate]) => sa ?? inTemplate ?? 'default');
    if (eventsRoleWanted(args.uploader)) eventsAccess(name, namespace, this.serviceAccountName, this);
    if (analysis) {
      provisionAnalysis({
        name,
        settings: analysis,
        identityKind: plan.identity,
        identity: args.identity,
        core: storage,
        uploader: args.uploader,
        parent: this,
      });
    }
    this.dumpVolumeSizeLimit = rendered.apply((r) => r.sizing.sizeLimit);
    this.listCommand = pulumi
      .all([storage.target, namespace, appName])
      .apply(([t, ns, app]) => listCommand(t, ns, app));
    this.registerOutputs({
      deploymentName: this.deploymentName,
      workloadName: this.workloadName,
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

/** The Kubernetes workload of `kind`, a child of the component. */
function createWorkload(
  name: string,
  kind: WorkloadKind,
  metadata: pulumi.Input<Metadata>,
  rendered: pulumi.Output<RenderedWorkload>,
  parent: pulumi.Resource,
): { metadata: pulumi.Output<{ name: string }> } {
  const opts = { parent };
  // The rendered spec is the user's spec of this kind plus heap dumps; its shape is the kind's.
  const spec = rendered.apply((r) => r.spec) as pulumi.Output<never>;
  const args = { metadata, spec };
  switch (kind) {
    case 'Deployment':
      return new k8s.apps.v1.Deployment(name, args, opts) as { metadata: pulumi.Output<{ name: string }> };
    case 'StatefulSet':
      return new k8s.apps.v1.StatefulSet(name, args, opts) as { metadata: pulumi.Output<{ name: string }> };
    case 'DaemonSet':
      return new k8s.apps.v1.DaemonSet(name, args, opts) as { metadata: pulumi.Output<{ name: string }> };
    case 'Job':
      return new k8s.batch.v1.Job(name, args, opts) as { metadata: pulumi.Output<{ name: string }> };
    case 'CronJob':
      return new k8s.batch.v1.CronJob(name, args, opts) as { metadata: pulumi.Output<{ name: string }> };
  }
}

/** The uploader's image and settings for the app's workload. */
function appUploader(args: Pick<PlainAppArgs, 'uploader'>): AppUploader {
  return { uploader: args.uploader ?? {}, defaultUploaderImage: uploaderImage(args.uploader?.registry) };
}

/** The app's namespace when it is known at construction (the analysis's default), else undefined. */
function plainNamespace(args: HeapDumpEnabledAppArgs): string | undefined {
  const md = args.workloadMetadata;
  const fromMetadata = isPlain(md) ? (md as Metadata | undefined)?.namespace : undefined;
  if (args.namespace !== undefined) return typeof args.namespace === 'string' ? args.namespace : undefined;
  return typeof fromMetadata === 'string' ? fromMetadata : 'default';
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
