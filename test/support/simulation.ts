// The pieces every pod simulation shares: the local programs standing in for the images and the uploader's
// JSON log lines (an independent view of each dump the JVM writes: dump-capture.ts).
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
