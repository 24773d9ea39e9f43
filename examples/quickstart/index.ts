// Quick start: a Java service whose heap dumps land in a new, hardened S3 bucket. The default app is a
// public JDK image running a tiny program that leaks memory until OutOfMemoryError, about half a minute
// after it starts, so the first `pulumi up` shows the whole path: the dump, the upload, `heapdump list`.
// Set `image` (and `command`) to your own app to wrap it instead.

import { HeapDumpEnabledApp } from '@kube-heapdump/heapdump';
import * as pulumi from '@pulumi/pulumi';

const config = new pulumi.Config();

// Keeps 1 MiB more every 50 ms: with a 256 MiB heap it runs out of memory after about 13 s.
const LEAK = `public class Leak {
  public static void main(String[] args) throws Exception {
    java.util.List<byte[]> kept = new java.util.ArrayList<>();
    for (;;) { kept.add(new byte[1 << 20]); Thread.sleep(50); }
  }
}`;
// The JDK image runs a single source file directly (java Leak.java, JEP 330); /tmp is writable for any UID.
const leakCommand = ['sh', '-c', `cat > /tmp/Leak.java <<'EOF'\n${LEAK}\nEOF\nexec java /tmp/Leak.java`];

const app = new HeapDumpEnabledApp('leaky', {
  namespace: config.get('namespace') ?? 'default',
  image: config.get('image') ?? 'eclipse-temurin:21-jdk',
  command: config.getObject<string[]>('command') ?? leakCommand,
  // Half of the memory limit for the heap: the component reads this to size the dump volume.
  env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-XX:MaxRAMPercentage=50' }],
  resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '512Mi' } },
  // The UID the JVM runs as: the uploader reads the JVM's 0600 dumps as the same user.
  securityContext: { runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true },
  storage: { provision: { retentionDays: 14 } },
});

export const bucket = app.bucketName;
export const listCommand = app.listCommand;
