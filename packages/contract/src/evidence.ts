// The memory watchdog's contract: where its JVM agent lives in the dump volume, how on-demand requests reach
// it, and the evidence file it writes beside each dump it takes (thread dump, native memory summary, the
// container's memory figures), which the uploader stores at `<dump key>.evidence.json` and names in the
// summary. The agent (packages/uploader/agent, Java) writes what `EVIDENCE_SCHEMA` describes.

export const EVIDENCE_SCHEMA = 'kube-heapdump/evidence/v1';

/** The agent's directory inside the dump volume (a dot-directory: never taken for a dump). */
export const AGENT_DIR = '.kube-heapdump';
/** The agent jar the uploader copies into `AGENT_DIR` before the JVM starts. */
export const AGENT_JAR = 'agent.jar';
/** Where `heapdump trigger` drops `<id>.heap` / `<id>.threads` requests, answered by `<id>.done`. */
export const AGENT_REQUESTS = `${AGENT_DIR}/requests`;

/** The agent jar's path for a dump directory (what `-javaagent:` names). */
export function agentJarPath(dumpDir: string): string {
  return `${dumpDir.replace(/\/+$/, '')}/${AGENT_DIR}/${AGENT_JAR}`;
}

/** Why a dump was taken. */
export const EVIDENCE_TRIGGERS = ['memory-threshold', 'on-demand'] as const;
export type EvidenceTrigger = (typeof EVIDENCE_TRIGGERS)[number];

/** The file beside a dump: `<dump file>.evidence.json`; a thread dump alone is `threaddump-*.evidence.json`. */
export const EVIDENCE_SUFFIX = '.evidence.json';

export function evidenceFileName(dumpFile: string): string {
  return `${dumpFile}${EVIDENCE_SUFFIX}`;
}

/** A heap dump the agent took (threshold or on demand): its evidence follows it into the volume. */
export function isAgentDumpFile(name: string): boolean {
  return /^heapdump-(threshold|ondemand)-\d{8}T\d{6}Z(-\d+)?\.hprof$/.test(name);
}

export function evidenceKey(dumpKey: string): string {
  return `${dumpKey}${EVIDENCE_SUFFIX}`;
}

/** The evidence file is small: past this it is refused as hostile. */
export const MAX_EVIDENCE_BYTES = 16 * 2 ** 20;

/** The container's memory when the agent acted, as the kernel counts it (cgroup v1 or v2). */
export interface ContainerMemory {
  cgroupVersion: 1 | 2;
  usageBytes: number;
  inactiveFileBytes: number;
  /** usage - inactive_file: what the kubelet calls the working set. */
  workingSetBytes: number;
  /** -1: no limit. */
  limitBytes: number;
  thresholdPercent: number;
}

export interface JvmMemory {
  version: string;
  heapUsedBytes: number;
  heapCommittedBytes: number;
  heapMaxBytes: number;
  nonHeapUsedBytes: number;
  directBufferBytes?: number;
  directBufferCount?: number;
  threads: number;
  /**
   * With a heap dump: the native memory HotSpot was expected to need to walk every thread's stack for it,
   * counted with the container's memory against the threshold (absent from agents before it was).
   */
  heapDumpStackBytes?: number;
}

export interface Evidence {
  schema: typeof EVIDENCE_SCHEMA;
  trigger: EvidenceTrigger;
  takenAt: string;
  /** The heap dump it goes with; null for a thread dump alone. */
  dumpFile: string | null;
  pid: number;
  container: ContainerMemory | null;
  jvm: JvmMemory;
  /** NMT's summary (`-XX:NativeMemoryTracking`), null when it is off. */
  nativeMemory: string | null;
  threadDump: string;
}

/** What the stored summary says of the evidence: where it is and the figures to read without fetching it. */
export interface EvidenceRef {
  key: string;
  trigger: EvidenceTrigger;
  takenAt: string;
  container: ContainerMemory | null;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= -1;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function container(v: unknown): ContainerMemory | null | string {
  if (v === null) return null;
  if (!isObject(v)) return 'container is not an object';
  const { cgroupVersion, usageBytes, inactiveFileBytes, workingSetBytes, limitBytes, thresholdPercent } = v;
  if (cgroupVersion !== 1 && cgroupVersion !== 2) return 'container.cgroupVersion is not 1 or 2';
  const numbers = { usageBytes, inactiveFileBytes, workingSetBytes, limitBytes, thresholdPercent };
  for (const [name, n] of Object.entries(numbers)) {
    if (!isCount(n)) return `container.${name} is not a count`;
  }
  return { cgroupVersion, ...(numbers as Omit<ContainerMemory, 'cgroupVersion'>) };
}

function jvm(v: unknown): JvmMemory | string {
  if (!isObject(v) || typeof v.version !== 'string') return 'jvm is not an object with a version';
  const out: Record<string, unknown> = { version: v.version.slice(0, 200) };
  for (const name of ['heapUsedBytes', 'heapCommittedBytes', 'heapMaxBytes', 'nonHeapUsedBytes', 'threads']) {
    if (!isCount(v[name])) return `jvm.${name} is not a count`;
    out[name] = v[name];
  }
  for (const name of ['directBufferBytes', 'directBufferCount', 'heapDumpStackBytes']) {
    if (v[name] === undefined) continue;
    if (!isCount(v[name])) return `jvm.${name} is not a count`;
    out[name] = v[name];
  }
  return out as unknown as JvmMemory;
}

/**
 * An evidence file read back: the app container writes it, so it is input like any other. Only the known
 * fields are kept (the result is what gets stored); an error names the first field that is wrong.
 */
export function parseEvidence(text: string): Evidence | { error: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { error: `not JSON (${(e as Error).message})` };
  }
  if (!isObject(doc)) return { error: 'not a JSON object' };
  if (doc.schema !== EVIDENCE_SCHEMA) return { error: `schema is not ${EVIDENCE_SCHEMA}` };
  if (!EVIDENCE_TRIGGERS.includes(doc.trigger as EvidenceTrigger)) return { error: 'unknown trigger' };
  if (typeof doc.takenAt !== 'string' || Number.isNaN(Date.parse(doc.takenAt))) {
    return { error: 'takenAt is not a time' };
  }
  if (doc.dumpFile !== null && typeof doc.dumpFile !== 'string') return { error: 'dumpFile is not a name' };
  if (!isCount(doc.pid)) return { error: 'pid is not a count' };
  const c = container(doc.container);
  if (typeof c === 'string') return { error: c };
  const j = jvm(doc.jvm);
  if (typeof j === 'string') return { error: j };
  if (doc.nativeMemory !== null && typeof doc.nativeMemory !== 'string') {
    return { error: 'nativeMemory is not text' };
  }
  if (typeof doc.threadDump !== 'string') return { error: 'threadDump is not text' };
  return {
    schema: EVIDENCE_SCHEMA,
    trigger: doc.trigger as EvidenceTrigger,
    takenAt: new Date(doc.takenAt).toISOString(),
    dumpFile: doc.dumpFile,
    pid: doc.pid,
    container: c,
    jvm: j,
    nativeMemory: doc.nativeMemory,
    threadDump: doc.threadDump,
  };
}
