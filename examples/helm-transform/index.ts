// Bring your own workload, way 2: a Helm chart you do not write. HeapDumpStorage owns the bucket and the
// uploader's identity; its transform adds heap dumps to the chart's Java StatefulSet as the chart's objects
// are registered (a Secret with the uploader's key is created in the chart's namespace). A selected workload
// that cannot be wrapped fails the preview, naming it and the field.

import { HeapDumpStorage, type IdentityArgs, type StorageArgs } from '@kube-heapdump/heapdump';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';

const config = new pulumi.Config();
const namespace = config.get('namespace') ?? 'auth';

// A new bucket on AWS; or one you already have on any S3-compatible store (`storage` and `identity`, as in the
// README): then no AWS resource is created.
const storage = new HeapDumpStorage('platform', {
  storage: config.getObject<StorageArgs>('storage') ?? { provision: { retentionDays: 14 } },
  identity: config.getObject<IdentityArgs>('identity'),
  // Keycloak's image runs as UID 1001: the uploader reads its 0600 dumps as that user.
  uploader: { uploadRateMBps: 50 },
});

new k8s.helm.v4.Chart(
  'keycloak',
  {
    // The published chart; or its local stand-in beside this file (`pulumi config set chart ./chart`).
    chart: config.get('chart') ?? 'oci://registry-1.docker.io/bitnamicharts/keycloak',
    version: config.get('chartVersion') ?? '24.4.1',
    namespace,
    values: {
      resources: { requests: { cpu: '500m', memory: '1536Mi' }, limits: { memory: '1536Mi' } },
      podSecurityContext: { fsGroup: 1001 },
      containerSecurityContext: { runAsUser: 1001 },
    },
  },
  // Only the Keycloak StatefulSet (its container is named keycloak); the PostgreSQL subchart is left alone.
  { transforms: [storage.transform({ kinds: ['StatefulSet'], containers: ['keycloak'] })] },
);

export const bucket = storage.bucketName;
