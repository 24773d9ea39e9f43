// The analysis controller as resources, children of the component: its store identity (an IAM user and a
// Secret, a role for IRSA or Pod Identity, or the Secret given for RGW/MinIO) limited by the analysis policy,
// and the objects analysis-render.ts describes.
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { AnalysisSettings } from './analysis-args.ts';
import { type AnalysisCredentials, analysisObjects } from './analysis-render.ts';
import type { IdentityArgs, IdentityKind, UploaderArgs } from './args.ts';
import { FieldError } from './errors.ts';
import {
  accessKeySecret,
  accessKeyUser,
  irsaTrust,
  podIdentityAssociation,
  uploaderRole,
} from './identity.ts';
import { uploaderImage } from './image.ts';
import { podIdentityTrustPolicy } from './policies.ts';
import type { StorageCore } from './storage-core.ts';

export interface AnalysisInputs {
  name: string;
  settings: AnalysisSettings;
  identityKind: IdentityKind;
  identity: IdentityArgs | undefined;
  core: StorageCore;
  /** The component's uploader arguments: the Jobs run the uploader's image (its `image`, or from `registry`). */
  uploader: pulumi.Input<UploaderArgs> | undefined;
  parent: pulumi.Resource;
}

/** Fails before anything is registered when the identity cannot give the Jobs read access. */
export function checkAnalysisIdentity(settings: AnalysisSettings, kind: IdentityKind): void {
  if (kind === 'existingSecret' && settings.credentialsSecret === undefined)
    throw new FieldError(
      'analysis.credentialsSecret',
      "is required with identity.kind existingSecret: the uploader's key may only put, the analysis must read",
    );
}

function credentials(i: AnalysisInputs, serviceAccount: string): pulumi.Output<AnalysisCredentials> {
  const { settings: s, core, parent } = i;
  const id = `${i.name}-analysis`;
  switch (i.identityKind) {
    case 'existingSecret':
      return pulumi.output({ kind: 'secret' as const, secretName: s.credentialsSecret ?? '' });
    case 'accessKey': {
      const key = accessKeyUser(id, core.analysisPolicy, parent);
      return accessKeySecret(id, s.namespace, key, parent).secret.metadata.name.apply((secretName) => ({
        kind: 'secret' as const,
        secretName,
      }));
    }
    case 'irsa': {
      const trust = irsaTrust(i.identity ?? {}, s.namespace, serviceAccount);
      const role = uploaderRole(id, i.name, trust, core.analysisPolicy, parent);
      return role.arn.apply((roleArn) => ({ kind: 'webIdentity' as const, roleArn }));
    }
    case 'podIdentity': {
      const role = uploaderRole(
        id,
        i.name,
        JSON.stringify(podIdentityTrustPolicy()),
        core.analysisPolicy,
        parent,
      );
      const association = podIdentityAssociation(
        id,
        i.identity ?? {},
        s.namespace,
        serviceAccount,
        role,
        parent,
      );
      return association.id.apply(() => ({ kind: 'webIdentity' as const }));
    }
  }
}

/** Registers the controller's resources. */
export function provisionAnalysis(i: AnalysisInputs): void {
  const serviceAccount = `${i.name}-heapdump-analysis`.slice(0, 63).replace(/-+$/, '');
  const creds = credentials(i, serviceAccount);
  const image = pulumi.output(i.uploader ?? {}).apply((u) => u.image ?? uploaderImage(u.registry));
  const objects = pulumi
    .all([i.core.target, image, creds])
    .apply(([target, image, c]) =>
      analysisObjects({ name: serviceAccount, settings: i.settings, target, image, credentials: c }),
    );
  // The list's shape depends on the settings alone: render it once with placeholders to name the resources.
  const shape = analysisObjects({
    name: serviceAccount,
    settings: i.settings,
    target: { bucket: 'b', prefix: '', region: 'r', forcePathStyle: false, checksums: true },
    image: 'i',
    credentials: { kind: 'webIdentity' },
  });
  const opts = { parent: i.parent };
  shape.forEach((o, n) => {
    const props: pulumi.Output<Record<string, unknown>> = objects.apply(
      (all): Record<string, unknown> => all[n] ?? {},
    );
    const urn = `${i.name}-analysis-${o.kind.toLowerCase()}-${o.metadata.name}-${o.metadata.namespace}`;
    const args = {
      metadata: props.apply((p) => p.metadata),
      ...Object.fromEntries(
        Object.keys(o)
          .filter((k) => !['apiVersion', 'kind', 'metadata'].includes(k))
          .map((k) => [k, props.apply((p) => p[k])]),
      ),
    } as never;
    switch (o.kind) {
      case 'ServiceAccount':
        new k8s.core.v1.ServiceAccount(urn, args, opts);
        break;
      case 'Role':
        new k8s.rbac.v1.Role(urn, args, opts);
        break;
      case 'RoleBinding':
        new k8s.rbac.v1.RoleBinding(urn, args, opts);
        break;
      case 'Deployment':
        new k8s.apps.v1.Deployment(urn, args, opts);
        break;
    }
  });
}
