// The memory watchdog on the JVM side: the agent flag (`-javaagent:<dump dir>/.kube-heapdump/agent.jar`, the
// jar the uploader copies into the volume before the JVM starts), Native Memory Tracking for its evidence,
// and the default heap size that leaves the threshold room to fire before the kernel kills. Pure.
import {
  agentJarPath,
  DEFAULT_MEMORY_THRESHOLD,
  defaultHeapPercentage,
  jvmOptionWords,
  readHeapFlags,
} from '@kube-heapdump/contract';
import type * as pulumi from '@pulumi/pulumi';
import type { HeapDumpsArgs, UploaderArgs } from './args.ts';
import { FieldError } from './errors.ts';
import type { Container } from './k8s-types.ts';

type HeapDumps = pulumi.Unwrap<HeapDumpsArgs>;
type Uploader = pulumi.Unwrap<UploaderArgs>;

/** Below the threshold by this many points the agent re-arms: one dump per episode. */
export const REARM_POINTS = 10;

/** `heapDumps.memoryThreshold`, checked: an integer 0 (off) to 99. */
export function memoryThresholdOf(heapDumps: HeapDumps): number {
  const t = heapDumps.memoryThreshold ?? DEFAULT_MEMORY_THRESHOLD;
  if (!Number.isInteger(t) || t < 0 || t > 99) {
    throw new FieldError('heapDumps.memoryThreshold', `${t} is not a whole percentage from 0 (off) to 99`);
  }
  return t;
}

/**
 * The agent's flags, or none when it cannot be added safely: the JVM refuses to start when a -javaagent jar
 * is missing, so the jar must be in the volume first, which only a native sidecar with its startup probe
 * (`uploader.metricsPort` not 0) guarantees. With a threshold of 0 the agent still serves `heapdump trigger`.
 */
export function watchdogJvmFlags(
  heapDumps: HeapDumps,
  uploader: Uploader,
  mountPath: string,
  warnings: string[],
): string[] {
  const threshold = memoryThresholdOf(heapDumps);
  const flags = heapDumps.nativeMemoryTracking ? ['-XX:NativeMemoryTracking=summary'] : [];
  if ((uploader.sidecar ?? 'native') !== 'native' || uploader.metricsPort === 0) {
    if (threshold > 0) {
      warnings.push(
        'heapDumps.memoryThreshold: the memory watchdog needs the native sidecar with its startup probe ' +
          '(uploader.sidecar native, uploader.metricsPort not 0) so its agent is in the volume before the JVM ' +
          'starts; it is not added, and a kernel OOM kill leaves no dump',
      );
    }
    return flags;
  }
  if (mountPath.includes(',') || mountPath.includes('=')) {
    throw new FieldError(
      'heapDumps.mountPath',
      `"${mountPath}" must not hold "," or "=" (the agent's options)`,
    );
  }
  const rearm = Math.max(0, threshold - REARM_POINTS);
  return [`-javaagent:${agentJarPath(mountPath)}=threshold=${threshold},rearm=${rearm}`, ...flags];
}

/** `-XX:MaxRAMPercentage=<default>` when the container sets no heap size and has a memory limit. */
export function defaultHeapFlags(
  container: Container,
  extraJvmFlags: readonly string[],
  limitBytes: number | undefined,
  threshold: number,
): string[] {
  if (limitBytes === undefined) return [];
  let flags: ReturnType<typeof readHeapFlags>;
  try {
    flags = readHeapFlags([...jvmOptionWords(container), ...extraJvmFlags]);
  } catch {
    return []; // sizing names the bad flag
  }
  if (flags.maxHeapBytes !== undefined || flags.maxRamPercentage !== undefined) return [];
  return [`-XX:MaxRAMPercentage=${defaultHeapPercentage(threshold, limitBytes)}`];
}
