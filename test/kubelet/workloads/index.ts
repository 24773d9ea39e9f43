// Java workloads of the component, each out of memory in its own way, for test/kubelet/workloads.test.ts:
// a Job and a CronJob whose JVM dies of OutOfMemoryError, a Deployment whose large dump of random bytes goes
// to a slow store (deleted while it uploads), and a Deployment the kernel OOM-kills (native memory past its
// limit). Each app waits for a `start` file in its dump volume, which the test writes on the node once it
// holds the volume open, and uses memory only in its first run in the pod.
import { HeapDumpEnabledApp, type HeapDumpEnabledAppArgs } from '@kube-heapdump/heapdump';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';

const config = new pulumi.Config();
const namespace = config.require('namespace');

const HOG = `import java.nio.ByteBuffer;
import java.nio.file.*;
import java.util.*;
public class Hog {
  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[1]);
    while (!Files.exists(dir.resolve("start"))) Thread.sleep(200);
    Path ran = dir.resolve("ran-once");
    if (Files.exists(ran)) Thread.sleep(Long.MAX_VALUE);
    Files.createFile(ran);
    List<Object> kept = new ArrayList<>();
    Random random = new Random(30);
    for (;;) {
      switch (args[0]) {
        case "heap" -> kept.add(new byte[1 << 20]);
        case "random" -> { byte[] b = new byte[1 << 20]; random.nextBytes(b); kept.add(b); }
        case "native" -> {
          ByteBuffer b = ByteBuffer.allocateDirect(1 << 24);
          while (b.hasRemaining()) b.put((byte) 1);
          kept.add(b);
        }
        default -> throw new IllegalArgumentException(args[0]);
      }
    }
  }
}`;
const hog = (mode: 'heap' | 'random' | 'native') => [
  'sh',
  '-c',
  `cat > /tmp/Hog.java <<'EOF'\n${HOG}\nEOF\nexec java /tmp/Hog.java ${mode} /dumps`,
];

const ns = new k8s.core.v1.Namespace('ns', { metadata: { name: namespace } });
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

const app = (
  name: string,
  mode: 'heap' | 'random' | 'native',
  extra: Partial<HeapDumpEnabledAppArgs>,
  endpoint = config.require('endpoint'),
) =>
  new HeapDumpEnabledApp(
    name,
    {
      namespace,
      image: config.require('image'),
      command: hog(mode),
      env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-XX:MaxRAMPercentage=50 -XX:MaxDirectMemorySize=2g' }],
      resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '256Mi' } },
      securityContext: { runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true },
      storage: {
        existing: { bucket: 'dumps', endpoint, region: 'us-east-1', forcePathStyle: true },
      },
      identity: { kind: 'existingSecret', existingSecret: { name: credentials.metadata.name } },
      ...extra,
    },
    { dependsOn: [ns] },
  );

// A Job that fails once: no retry, so its one pod is the one to look at.
app('oom-job', 'heap', { kind: 'Job', workloadSpec: { backoffLimit: 0 } });
// Suspended: it runs only when the test makes a Job of it (kubectl create job --from=cronjob/oom-cron).
app('oom-cron', 'heap', {
  kind: 'CronJob',
  workloadSpec: { schedule: '0 0 1 1 *', suspend: true, jobTemplate: { spec: { backoffLimit: 0 } } },
});
// Its store takes bodies at a few MB/s (slowRateMBps), and the component is told so: the grace period covers it.
app(
  'big-dump',
  'random',
  { uploader: { uploadRateMBps: config.requireNumber('slowRateMBps') } },
  config.require('slowEndpoint'),
);
// Native memory past the limit before the heap fills: the kernel kills it. No watchdog, so no dump at all.
app('kernel-oom', 'native', { heapDumps: { memoryThreshold: 0 } });
