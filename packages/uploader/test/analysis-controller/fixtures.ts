// What the analysis controller's suites share: a stored dump's key, pod and notice, the Job settings and sizing.
import type { JobSettings } from '../../src/analysis-controller/job-spec.ts';

export const GI = 2 ** 30;
export const MI = 2 ** 20;
export const KEY = 'heapdumps/shop/cart/cart-7d9f-x2/20261128T070901Z-0a1b2c3d-java_pid1.hprof.zst';
export const POD = { name: 'cart-7d9f-x2', namespace: 'shop', app: 'cart', node: 'n1' };
export const NOTICE = {
  key: KEY,
  bucket: 'dumps',
  file: 'java_pid1.hprof',
  verdict: 'complete',
  originalBytes: 2 * GI,
  storedBytes: GI,
  compression: 'zstd',
  topClass: undefined,
};

export const SETTINGS: JobSettings = {
  namespace: 'heapdump-analysis',
  image: 'registry.example/kube-heapdump-uploader:1.2.3',
  serviceAccount: 'heapdump-analysis-job',
  store: {
    bucket: 'dumps',
    prefix: 'heapdumps/',
    endpoint: 'http://rgw.storage:7480',
    region: 'us-east-1',
    forcePathStyle: true,
  },
  ttlSecondsAfterFinished: 3600,
  backoffLimit: 2,
  nodeSelector: { pool: 'big-memory' },
  tolerations: [{ key: 'big-memory', operator: 'Exists', effect: 'NoSchedule' }],
};
export const SIZING = { memoryPerGiB: 512 * MI, maxMemory: 16 * GI };
