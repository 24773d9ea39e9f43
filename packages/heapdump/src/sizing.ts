// How big the dump volume must be and how long the pod must be given to stop, as named formulas over the
// JVM's heap. Pure; FieldError for settings that cannot be sized safely, warnings for risky ones.

import {
  formatMi,
  jvmOptionWords,
  maxHeapBytes,
  parseQuantity,
  readHeapFlags,
} from '@kube-heapdump/contract';
import type * as pulumi from '@pulumi/pulumi';
import type { HeapDumpsArgs, UploaderArgs } from './args.ts';
import { FieldError, fieldPath } from './errors.ts';
import { FLIGHT_RECORDING_MAX_BYTES } from './jvm.ts';
import type { Container } from './k8s-types.ts';

type HeapDumps = pulumi.Unwrap<HeapDumpsArgs>;
type Uploader = pulumi.Unwrap<UploaderArgs>;

/** HPROF of a heap is about the heap's size; 1.2 x leaves room for identifiers and records (ARCHITECTURE). */
export const DUMP_FACTOR = 1.2;
/** JDK 22+ parallel dumps hold the pieces and the merged file at once. */
export const PARALLEL_DUMP_FACTOR = 2.2;
/**
 * By default the volume holds two dumps: the one still uploading and the next one, written when the restarted
 * JVM runs out of memory again before that upload ends (a crash loop: the pod simulation hit exactly this,
 * and a volume sized for one dump got the pod evicted). A limit, not a reservation: disk is used as written.
 */
export const DEFAULT_VOLUME_FACTOR = DUMP_FACTOR + DUMP_FACTOR;
export const DEFAULT_PARALLEL_VOLUME_FACTOR = DUMP_FACTOR + PARALLEL_DUMP_FACTOR;
/** Upload rate assumed for the grace period when `uploader.uploadRateMBps` is not given. */
export const DEFAULT_UPLOAD_MBPS = 50;
/** A conservative rate for a paused JVM writing its dump to node disk (docs/benchmarks.md). */
export const DUMP_WRITE_MBPS = 100;
/**
 * Rate of the uploader's analysis for the summary (SHA-256 and class histogram, after the object is stored):
 * a quarter of the one-core rate measured (docs/benchmarks.md), for a busy node.
 */
export const ANALYSIS_MBPS = 120;
/** Seconds the uploader needs beyond the transfer and the analysis: completing, verifying, the summary PUT. */
export const GRACE_BASE_SECONDS = 30;
/** A heap above this share of the memory limit leaves too little for metaspace, threads and buffers. */
const MAX_HEAP_SHARE = 0.8;

export interface Sizing {
  /** The largest maximum heap of the target JVMs, when known. */
  maxHeapBytes: number | undefined;
  /** The largest dump the uploader must ship (1.2 x the largest heap, or the volume's size). */
  maxDumpBytes: number;
  sizeLimit: string;
  terminationGracePeriodSeconds: number;
  /** How long writing the largest dump takes at DUMP_WRITE_MBPS. */
  expectedDumpSeconds: number;
}

/** A target Java container and the path of its fields in the user's arguments (`podTemplate.spec.containers[0]`). */
export interface JvmContainer {
  container: Container;
  field: string;
}

function quantityOf(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  const bytes = parseQuantity(String(text));
  if (bytes === undefined || bytes <= 0)
    throw new FieldError(field, `"${text}" is not a size like 512Mi or 2Gi`);
  return bytes;
}

/** The JVM's maximum heap from its flags, `heapDumps.maxHeap` or its memory limit; refuses a limit below it. */
export function heapOf(
  { container, field }: JvmContainer,
  heapDumps: HeapDumps,
  warnings: string[],
): number | undefined {
  const limitText = container.resources?.limits?.memory as string | undefined;
  const memoryField = fieldPath(field, 'resources.limits.memory');
  const memoryLimit = quantityOf(limitText, memoryField);
  let flags: ReturnType<typeof readHeapFlags>;
  try {
    flags = readHeapFlags(jvmOptionWords(container));
  } catch (e) {
    throw new FieldError(
      `${fieldPath(field, 'env')} JAVA_TOOL_OPTIONS / command / args`,
      (e as Error).message,
    );
  }
  const heap = quantityOf(heapDumps.maxHeap, 'heapDumps.maxHeap') ?? maxHeapBytes(flags, memoryLimit);
  if (heap !== undefined && memoryLimit !== undefined) {
    if (heap >= memoryLimit) {
      throw new FieldError(
        memoryField,
        `${limitText} leaves no room above the ${formatMi(heap)} heap: the kernel kills the ` +
          'container (exit 137) before the JVM can write a dump; raise the limit or lower -Xmx',
      );
    }
    if (heap > memoryLimit * MAX_HEAP_SHARE) {
      warnings.push(
        `${memoryField}: the ${formatMi(heap)} heap is over ${MAX_HEAP_SHARE * 100}% of the ` +
          `${limitText} limit; metaspace, threads and buffers may push the container over it ` +
          'and the kernel kills it without a dump',
      );
    }
  }
  return heap;
}

/** Bytes of one dump of a heap: 1.2 x (2.2 x for parallel dumps). */
export function oneDumpBytes(heap: number, parallel: boolean): number {
  return Math.ceil(heap * (parallel ? PARALLEL_DUMP_FACTOR : DUMP_FACTOR));
}

/** Bytes the volume holds by default for a heap: two dumps (see DEFAULT_VOLUME_FACTOR). */
export function defaultVolumeBytes(heap: number, parallel: boolean): number {
  return Math.ceil(heap * (parallel ? DEFAULT_PARALLEL_VOLUME_FACTOR : DEFAULT_VOLUME_FACTOR));
}

/**
 * Seconds the pod needs to stop with a full dump still to ship: the transfer at `rateMBps`, the analysis for
 * the summary, and a fixed allowance for completing it.
 */
export function gracePeriodSeconds(maxDumpBytes: number, rateMBps: number): number {
  return (
    GRACE_BASE_SECONDS + Math.ceil(maxDumpBytes / (rateMBps * 1e6) + maxDumpBytes / (ANALYSIS_MBPS * 1e6))
  );
}

/** Seconds a paused JVM takes to write a dump of this size. */
export function dumpWriteSeconds(dumpBytes: number): number {
  return Math.ceil(dumpBytes / (DUMP_WRITE_MBPS * 1e6));
}

/**
 * The volume size, grace period and dump time for the target JVMs sharing one dump volume (each may dump,
 * so their needs add up). `userGrace` is the pod's own terminationGracePeriodSeconds.
 */
export function computeSizing(
  targets: readonly JvmContainer[],
  userGrace: number | undefined,
  heapDumps: HeapDumps,
  uploader: Uploader,
  warnings: string[],
  graceField = 'terminationGracePeriodSeconds',
): Sizing {
  const heaps = targets.map((t) => heapOf(t, heapDumps, warnings));
  const parallel = heapDumps.parallelDumps ?? false;
  const explicit = quantityOf(heapDumps.sizeLimit, 'heapDumps.sizeLimit');
  const known = heaps.filter((h): h is number => h !== undefined);
  // A JVM with the Flight Recorder on also holds its repository and the recording dumped on exit.
  const recorder = heapDumps.flightRecorder ? 2 * FLIGHT_RECORDING_MAX_BYTES : 0;
  let sizeLimitBytes: number;
  if (known.length < heaps.length) {
    if (explicit === undefined) {
      throw new FieldError(
        'heapDumps.maxHeap',
        'cannot size the dump volume: the heap is unknown. Set resources.limits.memory, -Xmx in ' +
          'JAVA_TOOL_OPTIONS or args, heapDumps.maxHeap, or heapDumps.sizeLimit',
      );
    }
    sizeLimitBytes = explicit;
  } else {
    const needed = known.reduce((sum, h) => sum + oneDumpBytes(h, parallel) + recorder, 0);
    if (explicit !== undefined && explicit < needed) {
      throw new FieldError(
        'heapDumps.sizeLimit',
        `${heapDumps.sizeLimit} is below ${parallel ? PARALLEL_DUMP_FACTOR : DUMP_FACTOR} x the heap ` +
          (recorder ? `plus ${formatMi(recorder)} for the Flight Recorder ` : '') +
          `(${formatMi(needed)}): a full dump would overflow it and the kubelet evicts the pod`,
      );
    }
    const comfortable = known.reduce((sum, h) => sum + defaultVolumeBytes(h, parallel) + recorder, 0);
    if (explicit !== undefined && explicit < comfortable) {
      warnings.push(
        `heapDumps.sizeLimit: ${heapDumps.sizeLimit} holds one dump but not two (${formatMi(comfortable)}): if the ` +
          'restarted JVM dumps again while the previous dump is still uploading, the kubelet evicts the pod',
      );
    }
    sizeLimitBytes = explicit ?? comfortable;
  }
  const maxHeap = known.length > 0 ? Math.max(...known) : undefined;
  // The largest file shipped: a dump, or a recording with its repository's last chunk.
  const maxDumpBytes =
    known.length < heaps.length || maxHeap === undefined
      ? sizeLimitBytes
      : Math.max(Math.ceil(maxHeap * DUMP_FACTOR), recorder);

  const rate = uploader.uploadRateMBps ?? DEFAULT_UPLOAD_MBPS;
  if (!(rate > 0)) throw new FieldError('uploader.uploadRateMBps', `${rate} must be a positive number`);
  const needGrace = gracePeriodSeconds(maxDumpBytes, rate);
  if (userGrace !== undefined && userGrace < needGrace) {
    warnings.push(
      `${graceField}: raised from ${userGrace} to ${needGrace} s so the uploader can finish a ` +
        `${formatMi(maxDumpBytes)} dump at ${rate} MB/s and its summary when the pod stops`,
    );
  }
  return {
    maxHeapBytes: maxHeap,
    maxDumpBytes,
    sizeLimit: formatMi(sizeLimitBytes),
    terminationGracePeriodSeconds: Math.max(userGrace ?? 0, needGrace),
    expectedDumpSeconds: dumpWriteSeconds(maxDumpBytes),
  };
}
