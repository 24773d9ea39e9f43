// Quick start: a Java service whose heap dumps land in a new, hardened S3 bucket. `pulumi up` with an AWS
// provider and a kubeconfig; developers then run the printed `heapdump list` command.

import { HeapDumpEnabledApp } from '@kube-heapdump/heapdump';
import * as pulumi from '@pulumi/pulumi';

const config = new pulumi.Config();

const orders = new HeapDumpEnabledApp('orders', {
  namespace: config.get('namespace') ?? 'default',
  image: config.get('image') ?? 'eclipse-temurin:21-jre',
  args: ['java', '-XX:MaxRAMPercentage=75', '-jar', '/app/orders.jar'],
  ports: [{ name: 'http', containerPort: 8080 }],
  resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '1Gi' } },
  // The UID the image runs as: the uploader reads the JVM's 0600 dumps as the same user.
  securityContext: { runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true },
  livenessProbe: {
    httpGetPath: '/actuator/health/liveness',
    port: 8080,
    periodSeconds: 10,
    failureThreshold: 6,
  },
  storage: { provision: { retentionDays: 14 } },
});

export const bucket = orders.bucketName;
export const listCommand = orders.listCommand;
