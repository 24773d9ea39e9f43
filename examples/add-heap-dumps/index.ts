// Bring your own workload, way 3: the pure function. You build the pod spec (here a StatefulSet of your own)
// and call addHeapDumpsToTemplate with the options HeapDumpStorage gives for where the pod runs; the storage
// creates the uploader's Secret in that namespace. Nothing but heap dumps is added to your template.

import {
  addHeapDumpsToTemplate,
  HeapDumpStorage,
  type IdentityArgs,
  type PodTemplateSpec,
  type StorageArgs,
} from '@kube-heapdump/heapdump';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';

const config = new pulumi.Config();
const namespace = config.get('namespace') ?? 'search';

// A new bucket on AWS; or one you already have on any S3-compatible store (`storage` and `identity`, as in the
// README): then no AWS resource is created.
const storage = new HeapDumpStorage('search', {
  storage: config.getObject<StorageArgs>('storage') ?? { provision: { retentionDays: 7 } },
  identity: config.getObject<IdentityArgs>('identity'),
});

const template: PodTemplateSpec = {
  metadata: { labels: { app: 'search' } },
  spec: {
    securityContext: { runAsUser: 1000, fsGroup: 1000 },
    containers: [
      {
        name: 'opensearch',
        image: config.get('image') ?? 'opensearchproject/opensearch:2.17.1',
        env: [
          { name: 'OPENSEARCH_JAVA_OPTS', value: '-Xms2g -Xmx2g' },
          { name: 'JAVA_TOOL_OPTIONS', value: '-Xmx2g' },
          { name: 'discovery.type', value: 'single-node' },
        ],
        resources: { limits: { memory: '4Gi' } },
        ports: [{ name: 'http', containerPort: 9200 }],
        volumeMounts: [{ name: 'data', mountPath: '/usr/share/opensearch/data' }],
      },
    ],
  },
};

const options = storage.podOptions({ namespace, appName: 'search' });
new k8s.apps.v1.StatefulSet('search', {
  metadata: { name: 'search', namespace },
  spec: {
    serviceName: 'search',
    selector: { matchLabels: { app: 'search' } },
    volumeClaimTemplates: [
      {
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '50Gi' } } },
      },
    ],
    template: options.apply((o) => {
      const added = addHeapDumpsToTemplate(template, o);
      for (const warning of added.warnings) pulumi.log.warn(warning);
      return added.template as k8s.types.input.core.v1.PodTemplateSpec;
    }),
  },
});

export const bucket = storage.bucketName;
