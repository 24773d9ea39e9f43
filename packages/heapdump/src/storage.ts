// HeapDumpStorage: the bucket (or existing storage) and the uploader's identity, reusable by many workloads,
// with a Pulumi transform that adds heap dumps to workloads we do not construct (a Helm chart, YAML, another
// component) and the options for calling addHeapDumps yourself. Identity per target: a Secret in every
// namespace that runs an uploader; an IRSA role (or Pod Identity association) for each ServiceAccount used.
import type * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { HeapDumpOptions } from './add-heap-dumps.ts';
import { checkAnalysisIdentity, provisionAnalysis } from './analysis.ts';
import { type AnalysisArgs, analysisSettings } from './analysis-args.ts';
import type { HeapDumpsArgs, IdentityArgs, StorageArgs, UploaderArgs } from './args.ts';
import { eventsAccess, eventsRoleWanted } from './events-rbac.ts';
import {
  accessKeySecret,
  accessKeyUser,
  existingSecretCredentials,
  irsaTrust,
  podIdentityAssociation,
  uploaderRole,
} from './identity.ts';
import { uploaderImage } from './image.ts';
import { type Plan, planResources } from './plan.ts';
import { podIdentityTrustPolicy } from './policies.ts';
import { checkStorageArgs, createStorageCore, isPlain, type StorageCore } from './storage-core.ts';
import type { UploaderCredentials } from './uploader-container.ts';
import { prepareWrap, selectWorkload, type WorkloadObject, type WorkloadSelector } from './wrap-workload.ts';

export const HEAPDUMP_STORAGE_TYPE = 'heapdump:index:HeapDumpStorage';

export interface HeapDumpStorageArgs {
  /** Where dumps are stored. Default: a provisioned, hardened bucket. */
  storage?: StorageArgs;
  /** How uploaders authenticate. Default: an access key, in a Secret in each namespace that runs an uploader. */
  identity?: IdentityArgs;
  /** The uploader sidecar, for every workload wrapped. */
  uploader?: pulumi.Input<UploaderArgs>;
  /** Where and how the JVMs write dumps, for every workload wrapped (a selector's `containers` names the JVMs). */
  heapDumps?: pulumi.Input<HeapDumpsArgs>;
  /** Analyse every stored dump in the cluster, one Job per dump (`namespaces` required). Default off. */
  analysis?: AnalysisArgs;
}

/** Where a pod runs, for its identity. */
export interface PodPlacement {
  namespace: string;
  /** The pod's ServiceAccount. Default `default`. */
  serviceAccountName?: string;
  /** The `<app>` part of dump keys. */
  appName: string;
}

/** Options of a transform: the selector, and the app name of each workload's dump keys. */
export interface TransformOptions extends WorkloadSelector {
  /** The `<app>` part of dump keys for a workload. Default: its name. */
  appName?: (workload: { kind: string; name: string; namespace: string }) => string;
}

/** What a HeapDumpStorage keeps beside its outputs (not class fields: the schema would read them as outputs). */
interface StorageState {
  resourceName: string;
  args: HeapDumpStorageArgs;
  plan: Plan;
  core: StorageCore;
  accessKey?: aws.iam.AccessKey;
  podIdentityRole?: aws.iam.Role;
  /** Credentials per namespace (Secrets) or per namespace/ServiceAccount (roles), created on first use. */
  perTarget: Map<string, pulumi.Output<UploaderCredentials>>;
  /** Namespace/ServiceAccount pairs given the events Role. */
  eventsGranted: Set<string>;
}
const STATE = new WeakMap<HeapDumpStorage, StorageState>();
function stateOf(storage: HeapDumpStorage): StorageState {
  return STATE.get(storage) as StorageState;
}

/**
 * Dump storage and uploader identity shared by workloads: `transform()` adds heap dumps to every selected
 * workload created under a resource (`transforms` option, or `pulumi.runtime.registerResourceTransform`);
 * `podOptions()` gives the options for calling `addHeapDumps` on a pod spec yourself.
 */
export class HeapDumpStorage extends pulumi.ComponentResource {
  /** Bucket the dumps are stored in. */
  public readonly bucketName: pulumi.Output<string>;
  /** Key prefix of the dumps. */
  public readonly keyPrefix: pulumi.Output<string>;

  constructor(name: string, args: HeapDumpStorageArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    const plan = planResources(args);
    checkStorageArgs(args.storage); // before anything is registered
    const analysis = analysisSettings(args.analysis, undefined);
    if (analysis) checkAnalysisIdentity(analysis, plan.identity);
    super(HEAPDUMP_STORAGE_TYPE, name, {}, opts);
    const core = createStorageCore(name, plan, args.storage ?? {}, this);
    const state: StorageState = {
      resourceName: name,
      args,
      plan,
      core,
      perTarget: new Map(),
      eventsGranted: new Set(),
    };
    if (plan.identity === 'accessKey') state.accessKey = accessKeyUser(name, core.policy, this);
    if (plan.identity === 'podIdentity') {
      const trust = JSON.stringify(podIdentityTrustPolicy());
      state.podIdentityRole = uploaderRole(`${name}-uploader`, name, trust, core.policy, this);
    }
    STATE.set(this, state);
    if (analysis) {
      provisionAnalysis({
        name,
        settings: analysis,
        identityKind: plan.identity,
        identity: args.identity,
        core,
        uploader: args.uploader,
        parent: this,
      });
    }
    this.bucketName = core.target.apply((t) => t.bucket);
    this.keyPrefix = core.prefix;
    this.registerOutputs({ bucketName: this.bucketName, keyPrefix: this.keyPrefix });
  }

  /**
   * The uploader's credentials for a pod in `namespace` running as `serviceAccountName`, creating what that
   * needs once: the key's Secret in that namespace, or a role trusting exactly that ServiceAccount.
   */
  credentialsFor(namespace: string, serviceAccountName = 'default'): pulumi.Output<UploaderCredentials> {
    const self = stateOf(this);
    const kind = self.plan.identity;
    const perNamespace = kind === 'accessKey' || kind === 'existingSecret';
    const key = perNamespace ? namespace : `${namespace}/${serviceAccountName}`;
    const known = self.perTarget.get(key);
    if (known) return known;
    const id = `${self.resourceName}-${namespace}${perNamespace ? '' : `-${serviceAccountName}`}`;
    let credentials: pulumi.Output<UploaderCredentials>;
    if (kind === 'existingSecret') {
      credentials = existingSecretCredentials(self.args.identity ?? {});
    } else if (kind === 'accessKey') {
      credentials = accessKeySecret(
        `${id}-uploader`,
        namespace,
        self.accessKey as aws.iam.AccessKey,
        this,
      ).credentials;
    } else if (kind === 'irsa') {
      const trust = irsaTrust(self.args.identity ?? {}, namespace, serviceAccountName);
      const role = uploaderRole(`${id}-uploader`, self.resourceName, trust, self.core.policy, this);
      credentials = role.arn.apply((roleArn) => ({ kind: 'webIdentity' as const, roleArn }));
    } else {
      const role = self.podIdentityRole as aws.iam.Role;
      const association = podIdentityAssociation(
        `${id}-uploader`,
        self.args.identity ?? {},
        namespace,
        serviceAccountName,
        role,
        this,
      );
      credentials = association.id.apply(() => ({ kind: 'webIdentity' as const }));
    }
    self.perTarget.set(key, credentials);
    return credentials;
  }

  /** The options for `addHeapDumps` / `addHeapDumpsToTemplate` on a pod placed like this. */
  podOptions(pod: PodPlacement): pulumi.Output<HeapDumpOptions> {
    const self = stateOf(this);
    const serviceAccount = pod.serviceAccountName ?? 'default';
    const pair = `${pod.namespace}/${serviceAccount}`;
    if (eventsRoleWanted(self.args.uploader) && !self.eventsGranted.has(pair)) {
      self.eventsGranted.add(pair);
      eventsAccess(
        `${self.resourceName}-${pod.namespace}-${serviceAccount}`,
        pod.namespace,
        serviceAccount,
        this,
      );
    }
    return pulumi
      .all([
        self.core.target,
        this.credentialsFor(pod.namespace, pod.serviceAccountName),
        pulumi.output(self.args.uploader ?? {}),
        pulumi.output(self.args.heapDumps ?? {}),
      ])
      .apply(([target, credentials, uploader, heapDumps]) => ({
        appName: pod.appName,
        target,
        credentials,
        uploader,
        heapDumps,
        defaultUploaderImage: uploaderImage(uploader.registry),
      }));
  }

  /**
   * A resource transform adding heap dumps to every workload it selects (Deployment, StatefulSet, DaemonSet,
   * Job, CronJob). A selected workload that cannot be wrapped fails the deployment with the workload and the
   * field named; it is never skipped.
   */
  transform(options: TransformOptions = {}): pulumi.ResourceTransform {
    const self = stateOf(this);
    return (args) => {
      const object = args.props as WorkloadObject;
      const target = selectWorkload(args.type, args.name, object, options);
      if (target === undefined) return undefined;
      const appName = options.appName?.(target) ?? target.name;
      let prepared: ReturnType<typeof prepareWrap> | undefined;
      if (isPlain(object.spec) && isPlain(self.args.uploader) && isPlain(self.args.heapDumps)) {
        // Everything about the pod is known now: render it now, once, so a mistake fails at once, before any
        // output resolves; the store is wired in when it exists.
        const uploader = (self.args.uploader ?? {}) as pulumi.Unwrap<UploaderArgs>;
        prepared = prepareWrap(target, object.spec ?? {}, {
          uploader,
          heapDumps: (self.args.heapDumps ?? {}) as pulumi.Unwrap<HeapDumpsArgs>,
          defaultUploaderImage: uploaderImage(uploader.registry),
        });
      }
      const spec = pulumi
        .all([pulumi.output(object.spec ?? {}), this.podOptions({ ...target, appName })])
        .apply(([plainSpec, podOptions]) => {
          const wrapped = prepared ?? prepareWrap(target, plainSpec as Record<string, unknown>, podOptions);
          for (const warning of wrapped.warnings) pulumi.log.warn(warning, this);
          return wrapped.wire(podOptions);
        });
      return { props: { ...args.props, spec }, opts: args.opts };
    };
  }
}
