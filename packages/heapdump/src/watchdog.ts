// The memory watchdog on the JVM side: the agent flag (`-javaagent:<dump dir>/.kube-heapdump/agent.jar`, the
// jar the uploader copies into the volume before the JVM starts), Native Memory Tracking for its evidence,
// and the default heap size that leaves the threshold room to fire before the kernel kills. Pure.
import { agentJarPath, readHeapFlags } from '@kube-heapdump/contract';
import type * as pulumi from '@pulumi/pulumi';
import type { HeapDumpsArgs, UploaderArgs } from './args.ts';
import { FieldError } from './errors.ts';
import { jvmOptionWords } from './jvm.ts';
import type { Container } from './k8s-types.ts';

type HeapDumps = pulumi.Unwrap<HeapDumpsArgs>;
type Uploader = pulumi.Unwrap<UploaderArgs>;

/** Percent of the container's memory limit at which the agent dumps the heap (`heapDumps.memoryThreshold`). */
export const DEFAULT_MEMORY_THRESHOLD = 90;
/** Below the threshold by this many points the agent re-arms: one dump per episode. */
export const REARM_POINTS = 10;
/**
 * What the default heap leaves between itself and the threshold for everything else the JVM maps (metaspace,
 * code cache, thread stacks, GC structures, direct buffers): a quarter of the limit, at least this much.
 */
export const NATIVE_HEADROOM_SHARE = 25;
export const MIN_NATIVE_HEADROOM_BYTES = 128 * 2 ** 20;
/** HotSpot's own default, the least the default heap gets. */
const MIN_HEAP_PERCENTAGE = 25;

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

/**
 * The heap percentage when the container gives none: the threshold (90 when off) less a quarter of the limit,
 * or less 128 MiB when that is more, never below HotSpot's 25. So a full heap plus the JVM's usual native
 * memory stays under the threshold (a plain OutOfMemoryError does not trip it), and native growth trips it
 * before the limit. Two decimals, as the JVM takes it.
 */
export function defaultHeapPercentage(threshold: number, limitBytes: number): number {
  const mark = threshold > 0 ? threshold : DEFAULT_MEMORY_THRESHOLD;
  const headroom = Math.max(NATIVE_HEADROOM_SHARE, (100 * MIN_NATIVE_HEADROOM_BYTES) / limitBytes);
  return Math.max(MIN_HEAP_PERCENTAGE, Math.floor((mark - headroom) * 100) / 100);
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
