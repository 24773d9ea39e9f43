// The uploader's identity: the AWS and Kubernetes resources for each kind, all children of the component.
import * as aws from '@pulumi/aws';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { IdentityArgs, IdentityKind } from './args.ts';
import type { UploaderCredentials } from './pod-spec.ts';
import { ArgsError, SECRET_KEY_DEFAULTS } from './pod-spec.ts';
import { irsaTrustPolicy, type PolicyDocument, podIdentityTrustPolicy } from './policies.ts';

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

export function createIdentity(inputs: IdentityInputs): Identity {
  const { name, kind, args, parent } = inputs;
  const opts = { parent };
  const policyJson = inputs.policy.apply((p) => JSON.stringify(p));
  const none = pulumi.output<string | undefined>(undefined);

  if (kind === 'existingSecret') {
    const secret = pulumi.output(args.existingSecret).apply((s) => {
      if (!s?.name) throw new ArgsError('identity.existingSecret.name', 'is required');
      return s;
    });
    return {
      credentials: secret.apply((s) => ({
        kind: 'secret' as const,
        secretName: s.name,
        accessKeyIdKey: s.accessKeyIdKey ?? SECRET_KEY_DEFAULTS.accessKeyIdKey,
        secretAccessKeyKey: s.secretAccessKeyKey ?? SECRET_KEY_DEFAULTS.secretAccessKeyKey,
      })),
      secretName: secret.apply((s): string | undefined => s.name),
      serviceAccountName: none,
    };
  }

  if (kind === 'accessKey') {
    const user = new aws.iam.User(
      `${name}-uploader`,
      { path: '/kube-heapdump/', tags: { 'kube-heapdump': name } },
      opts,
    );
    new aws.iam.UserPolicy(`${name}-uploader`, { user: user.name, policy: policyJson }, opts);
    const key = new aws.iam.AccessKey(`${name}-uploader`, { user: user.name }, opts);
    const secret = new k8s.core.v1.Secret(
      `${name}-uploader`,
      {
        metadata: { namespace: inputs.namespace, labels: { 'app.kubernetes.io/part-of': 'kube-heapdump' } },
        type: 'Opaque',
        stringData: {
          [SECRET_KEY_DEFAULTS.accessKeyIdKey]: pulumi.secret(key.id),
          [SECRET_KEY_DEFAULTS.secretAccessKeyKey]: pulumi.secret(key.secret),
        },
      },
      opts,
    );
    const secretName = secret.metadata.name;
    return {
      credentials: secretName.apply((secretName) => ({
        kind: 'secret' as const,
        secretName,
        ...SECRET_KEY_DEFAULTS,
      })),
      secretName,
      serviceAccountName: none,
    };
  }

  // irsa or podIdentity: a role for exactly this ServiceAccount.
  const assumeRolePolicy =
    kind === 'irsa'
      ? pulumi
          .all([pulumi.output(args.irsa), inputs.namespace, inputs.serviceAccountName])
          .apply(([irsa, namespace, serviceAccount]) =>
            JSON.stringify(
              irsaTrustPolicy({ oidcProviderArn: irsa?.oidcProviderArn ?? '', namespace, serviceAccount }),
            ),
          )
      : JSON.stringify(podIdentityTrustPolicy());
  const role = new aws.iam.Role(
    `${name}-uploader`,
    { assumeRolePolicy, tags: { 'kube-heapdump': name } },
    opts,
  );
  new aws.iam.RolePolicy(`${name}-uploader`, { role: role.id, policy: policyJson }, opts);
  const serviceAccount = new k8s.core.v1.ServiceAccount(
    `${name}-uploader`,
    {
      metadata: {
        name: inputs.serviceAccountName,
        namespace: inputs.namespace,
        ...(kind === 'irsa' ? { annotations: { 'eks.amazonaws.com/role-arn': role.arn } } : {}),
      },
    },
    opts,
  );
  if (kind === 'podIdentity') {
    new aws.eks.PodIdentityAssociation(
      `${name}-uploader`,
      {
        clusterName: pulumi.output(args.podIdentity).apply((p) => p?.clusterName ?? ''),
        namespace: inputs.namespace,
        serviceAccount: serviceAccount.metadata.name,
        roleArn: role.arn,
      },
      opts,
    );
  }
  return {
    credentials: pulumi.output({ kind: 'webIdentity' as const }),
    secretName: none,
    serviceAccountName: serviceAccount.metadata.name,
  };
}
