// The root program: a Java service whose heap dumps go to an S3-compatible bucket you already have (Ceph
// RGW, MinIO, OBS), with an access key kept in a Secret this program creates. No AWS resources: it needs only
// a Kubernetes cluster and the store. The app is the quick start's JDK image leaking memory until
// OutOfMemoryError; set `image` (and `command`) to wrap your own.

import { HeapDumpEnabledApp } from '@kube-heapdump/heapdump';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';

const config = new pulumi.Config();
const namespace = config.get('namespace') ?? 'heapdump-demo';

// Keeps 1 MiB more every 50 ms: with a 256 MiB heap it runs out of memory after about 13 s.
const LEAK = `public class Leak {
  public static void main(String[] args) throws Exception {
    java.util.List<byte[]> kept = new java.util.ArrayList<>();
    for (;;) { kept.add(new byte[1 << 20]); Thread.sleep(50); }
  }
}`;
const leakCommand = ['sh', '-c', `cat > /tmp/Leak.java <<'EOF'\n${LEAK}\nEOF\nexec java /tmp/Leak.java`];

const ns = new k8s.core.v1.Namespace('demo', { metadata: { name: namespace } });

// The uploader's key for the store (`pulumi config set --secret secretAccessKey ...`), in the app's namespace.
const credentials = new k8s.core.v1.Secret(
  'store-credentials',
  {
    metadata: { name: 'heapdump-store', namespace },
    stringData: {
      AWS_ACCESS_KEY_ID: config.require('accessKeyId'),
      AWS_SECRET_ACCESS_KEY: config.requireSecret('secretAccessKey'),
    },
  },
  { dependsOn: [ns] },
);

const app = new HeapDumpEnabledApp(
  'leaky',
  {
    namespace,
    image: config.get('image') ?? 'eclipse-temurin:21-jdk',
    command: config.getObject<string[]>('command') ?? leakCommand,
    replicas: config.getNumber('replicas') ?? 1,
    env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-XX:MaxRAMPercentage=50' }],
    resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '512Mi' } },
    securityContext: { runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true },
    storage: {
      existing: {
        bucket: config.require('bucket'),
        endpoint: config.require('endpoint'),
        region: config.get('region') ?? 'us-east-1',
        forcePathStyle: config.getBoolean('forcePathStyle') ?? true,
      },
    },
    identity: { kind: 'existingSecret', existingSecret: { name: credentials.metadata.name } },
  },
  { dependsOn: [ns] },
);

export const listCommand = app.listCommand;
