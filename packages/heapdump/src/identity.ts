// The uploader's identity: the AWS and Kubernetes resources for each kind, in pieces HeapDumpEnabledApp
// (one namespace, one ServiceAccount) and HeapDumpStorage (one per namespace or ServiceAccount it wraps) share.
import * as aws from '@pulumi/aws';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { IdentityArgs, IdentityKind } from './args.ts';
import { FieldError } from './errors.ts';
import { PART_OF_LABEL } from './names.ts';
import { irsaTrustPolicy, type PolicyDocument, podIdentityTrustPolicy } from './policies.ts';
import { SECRET_KEY_DEFAULTS, type UploaderCredentials } from './uploader-container.ts';

export interface IdentityInputs {
  name: string;
  kind: IdentityKind;
  args: IdentityArgs;
  namespace: pulumi.Input<string>;
  /** ServiceAccount name for irsa / podIdentity (created here). */
  serviceAccountName: pulumi.Input<string>;
  /** What the uploader may do (uploaderPolicy), for the IAM user or role. */
  policy: pulumi.Output<PolicyDocument>;
  parent: pulumi.Resource;
}

export interface Identity {
  credentials: pulumi.Output<UploaderCredentials>;
  /** The Secret holding the keys, ours or the user's. */
  secretName: pulumi.Output<string | undefined>;
  /** The ServiceAccount we created, if any. */
  serviceAccountName: pulumi.Output<string | undefined>;
}

/** The Secret of `identity.existingSecret`, as the uploader reads it. */
export function existingSecretCredentials(
  args: IdentityArgs,
): pulumi.Output<UploaderCredentials & { kind: 'secret' }> {
  return pulumi.output(args.existingSecret).apply((s) => {
    if (!s?.name) throw new FieldError('identity.existingSecret.name', 'is required');
    return {
      kind: 'secret' as const,
      secretName: s.name,
      accessKeyIdKey: s.accessKeyIdKey ?? SECRET_KEY_DEFAULTS.accessKeyIdKey,
      secretAccessKeyKey: s.secretAccessKeyKey ?? SECRET_KEY_DEFAULTS.secretAccessKeyKey,
    };
  });
}

/** An IAM user limited by `policy`, and its access key. */
export function accessKeyUser(
  name: string,
  policy: pulumi.Output<PolicyDocument>,
  parent: pulumi.Resource,
): aws.iam.AccessKey {
  const opts = { parent };
  const user = new aws.iam.User(
    `${name}-uploader`,
    { path: '/kube-heapdump/', tags: { 'kube-heapdump': name } },
    opts,
  );
  new aws.iam.UserPolicy(
    `${name}-uploader`,
    { user: user.name, policy: policy.apply((p) => JSON.stringify(p)) },
    opts,
  );
  return new aws.iam.AccessKey(`${name}-uploader`, { user: user.name }, opts);
}

/** A Secret holding the access key, in one namespace; the credentials that read it. */
export function accessKeySecret(
  resourceName: string,
  namespace: pulumi.Input<string>,
  key: aws.iam.AccessKey,
  parent: pulumi.Resource,
): { secret: k8s.core.v1.Secret; credentials: pulumi.Output<UploaderCredentials> } {
  const secret = new k8s.core.v1.Secret(
    resourceName,
    {
      metadata: { namespace, labels: { ...PART_OF_LABEL } },
      type: 'Opaque',
      stringData: {
        [SECRET_KEY_DEFAULTS.accessKeyIdKey]: pulumi.secret(key.id),
        [SECRET_KEY_DEFAULTS.secretAccessKeyKey]: pulumi.secret(key.secret),
      },
    },
    { parent },
  );
  return {
    secret,
    credentials: secret.metadata.name.apply((secretName) => ({
      kind: 'secret' as const,
      secretName,
      ...SECRET_KEY_DEFAULTS,
    })),
  };
}

/** A role the uploader assumes (IRSA or Pod Identity), allowed `policy`, trusted by `trust`. */
export function uploaderRole(
  resourceName: string,
  tag: string,
  trust: pulumi.Input<string>,
  policy: pulumi.Output<PolicyDocument>,
  parent: pulumi.Resource,
): aws.iam.Role {
  const role = new aws.iam.Role(
    resourceName,
    { assumeRolePolicy: trust, tags: { 'kube-heapdump': tag } },
    { parent },
  );
  new aws.iam.RolePolicy(
    resourceName,
    { role: role.id, policy: policy.apply((p) => JSON.stringify(p)) },
    { parent },
  );
  return role;
}

/** The IRSA trust policy for exactly one ServiceAccount. */
export function irsaTrust(
  args: IdentityArgs,
  namespace: pulumi.Input<string>,
  serviceAccount: pulumi.Input<string>,
): pulumi.Output<string> {
  return pulumi
    .all([pulumi.output(args.irsa), namespace, serviceAccount])
    .apply(([irsa, ns, sa]) =>
      JSON.stringify(
        irsaTrustPolicy({ oidcProviderArn: irsa?.oidcProviderArn ?? '', namespace: ns, serviceAccount: sa }),
      ),
    );
}

/** An EKS Pod Identity association of `role` with one ServiceAccount. */
export function podIdentityAssociation(
  resourceName: string,
  args: IdentityArgs,
  namespace: pulumi.Input<string>,
  serviceAccount: pulumi.Input<string>,
  role: aws.iam.Role,
  parent: pulumi.Resource,
): aws.eks.PodIdentityAssociation {
  return new aws.eks.PodIdentityAssociation(
    resourceName,
    {
      clusterName: pulumi.output(args.podIdentity).apply((p) => p?.clusterName ?? ''),
      namespace,
      serviceAccount,
      roleArn: role.arn,
    },
    { parent },
  );
}

/** HeapDumpEnabledApp's identity: for its one namespace and ServiceAccount. */
export function createIdentity(inputs: IdentityInputs): Identity {
  const { name, kind, args, parent } = inputs;
  const none = pulumi.output<string | undefined>(undefined);

  if (kind === 'existingSecret') {
    const credentials = existingSecretCredentials(args);
    return {
      credentials,
      secretName: credentials.apply((c): string | undefined => c.secretName),
      serviceAccountName: none,
    };
  }
  if (kind === 'accessKey') {
    const key = accessKeyUser(name, inputs.policy, parent);
    const { secret, credentials } = accessKeySecret(`${name}-uploader`, inputs.namespace, key, parent);
    return { credentials, secretName: secret.metadata.name, serviceAccountName: none };
  }
  // irsa or podIdentity: a role for exactly this ServiceAccount.
  const trust =
    kind === 'irsa'
      ? irsaTrust(args, inputs.namespace, inputs.serviceAccountName)
      : JSON.stringify(podIdentityTrustPolicy());
  const role = uploaderRole(`${name}-uploader`, name, trust, inputs.policy, parent);
  const serviceAccount = new k8s.core.v1.ServiceAccount(
    `${name}-uploader`,
    {
      metadata: {
        name: inputs.serviceAccountName,
        namespace: inputs.namespace,
        ...(kind === 'irsa' ? { annotations: { 'eks.amazonaws.com/role-arn': role.arn } } : {}),
      },
    },
    { parent },
  );
  if (kind === 'podIdentity') {
    podIdentityAssociation(
      `${name}-uploader`,
      args,
      inputs.namespace,
      serviceAccount.metadata.name,
      role,
      parent,
    );
  }
  return {
    credentials: pulumi.output({ kind: 'webIdentity' as const }),
    secretName: none,
    serviceAccountName: serviceAccount.metadata.name,
  };
}
