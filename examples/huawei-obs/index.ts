// Huawei Cloud: dumps go to an OBS bucket you already have, with OBS access keys you already have in a
// Secret (`kubectl create secret generic obs-heapdump --from-literal=AWS_ACCESS_KEY_ID=... \
//   --from-literal=AWS_SECRET_ACCESS_KEY=...`). No AWS resources are created.

import { HeapDumpEnabledApp } from '@kube-heapdump/heapdump';
import * as pulumi from '@pulumi/pulumi';

const config = new pulumi.Config();
const region = config.get('obsRegion') ?? 'cn-north-4';

const billing = new HeapDumpEnabledApp('billing', {
  namespace: 'finance',
  // Your app's image (`pulumi config set image ...`): preview stops with Pulumi's message until it is set.
  image: config.require('image'),
  env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-Xmx3g' }],
  resources: { limits: { memory: '4Gi' } },
  podSecurityContext: { runAsUser: 185, runAsGroup: 185, fsGroup: 185 },
  storage: {
    // OBS takes virtual-hosted-style requests (https://<bucket>.obs.<region>.myhuaweicloud.com).
    existing: {
      bucket: config.require('bucket'),
      endpoint: `https://obs.${region}.myhuaweicloud.com`,
      region,
    },
    prefix: 'heapdumps/',
  },
  identity: { kind: 'existingSecret', existingSecret: { name: 'obs-heapdump' } },
  // Images pulled from an internal mirror of the uploader.
  uploader: { registry: config.get('uploaderRegistry') ?? 'swr.cn-north-4.myhuaweicloud.com/mirror' },
});

export const listCommand = billing.listCommand;
