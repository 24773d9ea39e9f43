// What the uploader may do with the Kubernetes API: create Events in its namespace, nothing else (it posts
// HeapDumpStored / HeapDumpIncomplete on its pod). A Role and a RoleBinding to the pod's ServiceAccount,
// children of the component; the token is the uploader's own projected one (uploader-container.ts).
import * as k8s from '@pulumi/kubernetes';
import type * as pulumi from '@pulumi/pulumi';
import type { UploaderArgs } from './args.ts';
import { PART_OF_LABEL } from './names.ts';
import { isPlain } from './storage-core.ts';
import { eventsWanted } from './uploader-container.ts';

/** The Role's only rule. Pure, so the least privilege is a plain test. */
export function eventsRoleRules(): { apiGroups: string[]; resources: string[]; verbs: string[] }[] {
  return [{ apiGroups: [''], resources: ['events'], verbs: ['create'] }];
}

/**
 * Whether the Role is created: `uploader.events` as given, since it decides which resources exist (an
 * uploader argument that is an Output counts as the default, on).
 */
export function eventsRoleWanted(uploader: pulumi.Input<UploaderArgs> | undefined): boolean {
  return eventsWanted(isPlain(uploader) ? (uploader as UploaderArgs | undefined) : undefined);
}

/** A Role allowing Events to be created in `namespace`, bound to `serviceAccountName` there. */
export function eventsAccess(
  resourceName: string,
  namespace: pulumi.Input<string>,
  serviceAccountName: pulumi.Input<string>,
  parent: pulumi.Resource,
): { role: k8s.rbac.v1.Role; binding: k8s.rbac.v1.RoleBinding } {
  const metadata = { namespace, labels: { ...PART_OF_LABEL } };
  const role = new k8s.rbac.v1.Role(
    `${resourceName}-events`,
    { metadata, rules: eventsRoleRules() },
    { parent },
  );
  const binding = new k8s.rbac.v1.RoleBinding(
    `${resourceName}-events`,
    {
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name },
      subjects: [{ kind: 'ServiceAccount', name: serviceAccountName, namespace }],
    },
    { parent },
  );
  return { role, binding };
}
