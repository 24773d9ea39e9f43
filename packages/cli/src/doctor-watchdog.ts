// `heapdump doctor` and the memory watchdog: a container the kernel OOM-killed may still have left a dump, the
// one the watchdog's agent took at its threshold before the kill. Found in the uploader's log: its `evidence
// stored` line (trigger, when the agent acted, the container's memory then) and the `dump stored` line of the
// same dump. Pure.
import type { ContainerStateTerminated } from './pod.ts';

export interface ThresholdDump {
  key: string;
  /** When the agent took it (ISO 8601). */
  takenAt: string;
  /** The container's working set against its limit then, in %. */
  percent: number | undefined;
  /**
   * With the native memory the dump needed for the threads' stacks, which the agent counts against the
   * threshold (in %; absent from older uploaders' logs).
   */
  withStacksPercent: number | undefined;
  /** Seconds from the dump to the kill. */
  secondsBeforeKill: number | undefined;
}

interface EvidenceLine {
  msg?: string;
  key?: string;
  trigger?: string;
  takenAt?: string;
  workingSetBytes?: number;
  limitBytes?: number;
  heapDumpStackBytes?: number;
}

/** The last threshold dump the uploader stored that the agent took during the terminated run, if any. */
export function thresholdDumpBefore(
  logs: readonly string[],
  t: ContainerStateTerminated,
): ThresholdDump | undefined {
  const found: ThresholdDump[] = [];
  const stored = new Set<string>();
  for (const raw of logs) {
    let l: EvidenceLine;
    try {
      l = JSON.parse(raw) as EvidenceLine;
    } catch {
      continue;
    }
    if (l.msg === 'dump stored' && typeof l.key === 'string') stored.add(l.key);
    if (l.msg !== 'evidence stored' || l.trigger !== 'memory-threshold' || typeof l.key !== 'string')
      continue;
    if (typeof l.takenAt !== 'string') continue;
    if (t.startedAt && l.takenAt < t.startedAt) continue;
    if (t.finishedAt && l.takenAt > t.finishedAt) continue;
    const share = (bytes: number) =>
      typeof l.workingSetBytes === 'number' && typeof l.limitBytes === 'number' && l.limitBytes > 0
        ? Math.floor(((l.workingSetBytes + bytes) / l.limitBytes) * 100)
        : undefined;
    const percent = share(0);
    const stacks = typeof l.heapDumpStackBytes === 'number' ? l.heapDumpStackBytes : 0;
    const seconds = t.finishedAt
      ? Math.round((Date.parse(t.finishedAt) - Date.parse(l.takenAt)) / 1000)
      : undefined;
    found.push({
      key: l.key.replace(/\.evidence\.json$/, ''),
      takenAt: l.takenAt,
      percent,
      withStacksPercent: stacks > 0 ? share(stacks) : undefined,
      secondsBeforeKill: seconds,
    });
  }
  return found.filter((d) => stored.has(d.key)).at(-1);
}

/** "a dump at 91 % of the limit 9 s before, stored: <key>". */
export function describeThresholdDump(d: ThresholdDump): string {
  const stacks =
    d.withStacksPercent === undefined || d.withStacksPercent === d.percent
      ? ''
      : ` (${d.withStacksPercent} % with what the dump needed for the threads' stacks)`;
  const at = d.percent === undefined ? '' : ` at ${d.percent} % of the limit${stacks}`;
  const before = d.secondsBeforeKill === undefined ? '' : ` ${d.secondsBeforeKill} s before`;
  return `the memory watchdog took a dump${at}${before}, stored: ${d.key}`;
}
