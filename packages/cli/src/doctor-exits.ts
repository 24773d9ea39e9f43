// `heapdump doctor`, the app container's last termination: what each way a JVM ends says about a heap dump,
// one rule per exit (kernel OOM kill, ExitOnOutOfMemoryError, abort, SIGKILL, any other exit). Pure.
import { DEFAULT_MEMORY_THRESHOLD, defaultHeapPercentage, limitForHeap } from '@kube-heapdump/contract';
import type { Finding, StoredDump } from './doctor-findings.ts';
import { describeThresholdDump, thresholdDumpBefore } from './doctor-watchdog.ts';
import { humanBytes } from './format.ts';
import { heapOf, quantityBytes } from './memory.ts';
import type { Container, ContainerStateTerminated } from './pod.ts';

/** What a rule knows: the termination, the finding's first words, the app container, the uploader's log. */
export interface Termination {
  termination: ContainerStateTerminated;
  /** `container app last terminated at ...: exit N (reason), restarts N`. */
  head: string;
  container: Container | undefined;
  logs: string[];
  stored: StoredDump[];
}

export type AppFinding = Omit<Finding, 'topic'>;

/** The finding for the app container's last termination. */
export function terminationFinding(t: Termination): AppFinding {
  const { exitCode, reason } = t.termination;
  if (reason === 'OOMKilled') return oomKilled(t);
  if (exitCode === 3) return exitedOnOutOfMemory(t);
  if (exitCode === 134) return aborted(t);
  if (exitCode === 137) return sigkilled(t);
  return otherExit(t);
}

/** The heap the component itself sets with the default threshold: one rule (the contract's). */
function adviceHeadroom(limit: number | undefined): string {
  const share =
    limit === undefined ? '' : ` (${defaultHeapPercentage(DEFAULT_MEMORY_THRESHOLD, limit)}% at this limit)`;
  return (
    `keep the heap at most the component's default${share}: the memory watchdog's threshold less a quarter ` +
    'of the limit or 128 MiB, whichever is more (metaspace, thread stacks, code cache, GC structures and ' +
    'direct buffers live outside it)'
  );
}

/** The kernel's OOM killer: no OutOfMemoryError, so no dump unless the watchdog took one before. */
function oomKilled({ termination, head, container, logs }: Termination): AppFinding {
  const limit = quantityBytes(container?.resources?.limits?.memory);
  const heap = container ? heapOf(container, limit) : { bytes: undefined, source: 'unknown' };
  const facts =
    limit === undefined
      ? 'the container has no memory limit of its own: the node ran out of memory'
      : heap.bytes === undefined
        ? `memory limit ${humanBytes(limit)}, heap unknown`
        : `memory limit ${humanBytes(limit)}, heap ${humanBytes(heap.bytes)} (${heap.source}): ` +
          `${humanBytes(limit - heap.bytes)} of native headroom (${Math.round(((limit - heap.bytes) / limit) * 100)}% of the limit)`;
  const share = limit === undefined ? 0 : defaultHeapPercentage(DEFAULT_MEMORY_THRESHOLD, limit);
  const advice =
    limit !== undefined && heap.bytes !== undefined
      ? `${adviceHeadroom(limit)}: raise resources.limits.memory to at least ` +
        `${humanBytes(Math.ceil(limitForHeap(heap.bytes, DEFAULT_MEMORY_THRESHOLD)))}, or lower the heap to at ` +
        `most ${humanBytes(Math.floor((limit * share) / 100))} (-Xmx, -XX:MaxRAMPercentage=${share}, or none: ` +
        'the component sets it)'
      : `set a memory limit and ${adviceHeadroom(limit)}`;
  const caught = thresholdDumpBefore(logs, termination);
  return {
    severity: 'problem',
    text:
      `${head}: the kernel killed the JVM for passing the container's memory limit before Java saw an ` +
      (caught
        ? `OutOfMemoryError; ${describeThresholdDump(caught)}; ${facts}`
        : `OutOfMemoryError, so no heap dump can exist; ${facts}`),
    advice,
  };
}

/** Exit 3: ExitOnOutOfMemoryError, after HotSpot wrote its dump; stored or not, by the uploader's log. */
function exitedOnOutOfMemory({ termination: t, head, stored }: Termination): AppFinding {
  // The uploader stores the dump after the JVM started; its log time is ISO 8601 like the status's.
  const dump = stored.filter((d) => !t.startedAt || !d.time || d.time >= t.startedAt).at(-1);
  return {
    severity: dump ? 'ok' : 'note',
    text:
      `${head}: the JVM ran out of heap and exited (ExitOnOutOfMemoryError) after writing a heap dump` +
      (dump
        ? `; stored: ${dump.key}${dump.verdict ? ` (${dump.verdict})` : ''}`
        : "; it is not in the uploader's log as stored (see the uploader and the volume below)"),
  };
}

/** Exit 134: SIGABRT. */
function aborted({ head }: Termination): AppFinding {
  return {
    severity: 'problem',
    text:
      `${head}: the JVM aborted (SIGABRT): with -XX:+CrashOnOutOfMemoryError after an OutOfMemoryError (the ` +
      'dump is written first), else a fatal JVM error or a crash in native code, which writes no heap dump',
    advice:
      'look for hs_err_pid*.log in the working directory of the JVM, and the previous log: kubectl logs --previous',
  };
}

/** Exit 137 without OOMKilled: someone else's SIGKILL. */
function sigkilled({ head }: Termination): AppFinding {
  return {
    severity: 'problem',
    text:
      `${head}: killed with SIGKILL, not by the kernel's OOM killer: a failed liveness probe, or the ` +
      'grace period ran out; no dump unless one was being written',
    advice: 'check the events: kubectl describe pod; a liveness probe must tolerate the pause a dump causes',
  };
}

/** 0 and 143 (SIGTERM) are a normal stop; anything else the application's own exit. */
function otherExit({ termination: t, head }: Termination): AppFinding {
  const normal = t.exitCode === 0 || t.exitCode === 143;
  return {
    severity: normal ? 'ok' : 'note',
    text: `${head}: ${normal ? 'a normal stop' : "the application's own exit, not an OutOfMemoryError"}, so no heap dump`,
  };
}
