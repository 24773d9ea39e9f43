// EKS with IAM Roles for Service Accounts: no static keys anywhere. The component creates a role trusted for
// exactly this ServiceAccount and keeps the credentials out of the JVM container.

import { HeapDumpEnabledApp } from '@kube-heapdump/heapdump';
import * as pulumi from '@pulumi/pulumi';

const config = new pulumi.Config();

const search = new HeapDumpEnabledApp('search', {
  namespace: 'search',
  // Your app's image (`pulumi config set image ...`): preview stops with Pulumi's message until it is set.
  image: config.require('image'),
  resources: { limits: { memory: '16Gi' } },
  env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-XX:MaxRAMPercentage=70' }],
  securityContext: { runAsUser: 10001, runAsNonRoot: true },
  // A 11 GiB heap takes about two minutes to dump: give the liveness probe that long.
  livenessProbe: { httpGetPath: '/health', port: 9200, periodSeconds: 20, failureThreshold: 8 },
  heapDumps: { parallelDumps: true },
  storage: { provision: { kmsKeyArn: config.get('kmsKeyArn') } },
  identity: {
    kind: 'irsa',
    irsa: {
      oidcProviderArn: config.require('oidcProviderArn'),
    },
  },
  uploader: { compression: 'zstd', uploadRateMBps: 100 },
});

export const listCommand = search.listCommand;
