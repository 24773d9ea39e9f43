// Bring your own workload, way 1: the Deployment you already have, given to HeapDumpEnabledApp as it is. Every
// field of the pod template passes through unchanged (volumes, envFrom, affinity, probes on named ports, your
// sidecars); the component adds the dump volume, the JVM flags, the uploader sidecar and the bucket.

import { HeapDumpEnabledApp, type IdentityArgs, type StorageArgs } from '@kube-heapdump/heapdump';
import * as pulumi from '@pulumi/pulumi';

const config = new pulumi.Config();
const labels = { 'app.kubernetes.io/name': 'petclinic', 'app.kubernetes.io/instance': 'petclinic' };

const app = new HeapDumpEnabledApp('petclinic', {
  namespace: config.get('namespace') ?? 'default',
  workloadMetadata: { name: 'petclinic', labels },
  // The Deployment's own fields, selector included: adopting an existing Deployment keeps its selector.
  workloadSpec: {
    replicas: 2,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    selector: { matchLabels: labels },
  },
  podTemplate: {
    metadata: { labels },
    spec: {
      securityContext: { runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true },
      containers: [
        {
          name: 'petclinic',
          image: config.get('image') ?? 'springcommunity/spring-petclinic:3.3.0',
          ports: [{ name: 'http', containerPort: 8080 }],
          envFrom: [{ configMapRef: { name: 'petclinic-config', optional: true } }],
          env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-XX:MaxRAMPercentage=60' }],
          resources: { requests: { cpu: '250m', memory: '768Mi' }, limits: { memory: '768Mi' } },
          readinessProbe: {
            httpGet: { path: '/actuator/health/readiness', port: 'http' },
            periodSeconds: 10,
          },
          livenessProbe: {
            httpGet: { path: '/actuator/health/liveness', port: 'http' },
            periodSeconds: 20,
            failureThreshold: 6,
          },
          volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
        },
      ],
      volumes: [{ name: 'tmp', emptyDir: {} }],
    },
  },
  // A new bucket on AWS; or one you already have on any S3-compatible store (`storage` and `identity` below,
  // as in the README): then no AWS resource is created.
  storage: config.getObject<StorageArgs>('storage') ?? { provision: { retentionDays: 14 } },
  identity: config.getObject<IdentityArgs>('identity'),
});

export const bucket = app.bucketName;
export const listCommand = app.listCommand;
