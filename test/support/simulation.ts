// The pieces every pod simulation shares: the local programs standing in for the images, the uploader's
// JSON log lines, and an independent copy of each dump the JVM writes.
import { watch } from 'node:fs';
import { link, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fixtureClasspath } from './java.ts';
import { RUN_SOURCE } from './node.ts';
import type { ImageDefinition, SimulatedPod } from './pod-simulator.ts';
import { UPLOADER_MAIN } from './uploader.ts';

/** The image name of the stand-in Java app (test/fixtures/java/HeapFixture). */
export const SIM_JAVA_IMAGE = 'registry.example.com/sim/java-app:1.0';

/** Images a simulated pod can run: the Java fixture and, for the uploader image, our uploader. */
export async function simulationImages(
  uploaderImage: string,
  uploaderMain = UPLOADER_MAIN,
): Promise<Record<string, ImageDefinition>> {
  return {
    // Like a JRE image: ENTRYPOINT java, the app on the CLASSPATH.
    [SIM_JAVA_IMAGE]: { entrypoint: ['java'], env: { CLASSPATH: await fixtureClasspath() } },
    [uploaderImage]: {
      entrypoint: [process.execPath, ...(uploaderMain.endsWith('.ts') ? RUN_SOURCE : []), uploaderMain],
    },
  };
}

export interface UploaderLog {
  level: string;
  msg: string;
  [field: string]: unknown;
}

/** The uploader container's JSON log lines, as they come. */
export function uploaderLogs(pod: SimulatedPod, container = 'heapdump-uploader'): UploaderLog[] {
  const logs: UploaderLog[] = [];
  pod.on('line', (name: string, line: string) => {
    if (name !== container) return;
    try {
      logs.push(JSON.parse(line) as UploaderLog);
    } catch {
      logs.push({ level: 'raw', msg: line });
    }
  });
  return logs;
}

/**
 * Hard-links every `*.hprof` that appears in `dir` into `into` at once: the JVM writes in place, so the
 * link sees every byte, and it survives the uploader deleting the file. An independent copy to compare with.
 */
export async function captureDumps(
  dir: string,
  into: string,
): Promise<{ files: string[]; close: () => void }> {
  await mkdir(into, { recursive: true });
  const files: string[] = [];
  const watcher = watch(dir, (_event, name) => {
    if (!name?.endsWith('.hprof') || files.includes(name)) return;
    files.push(name);
    link(join(dir, name), join(into, name)).catch(() => files.splice(files.indexOf(name), 1));
  });
  return { files, close: () => watcher.close() };
}
