// An agent's evidence file as the JVM writes it (schema kube-heapdump/evidence/v1), for the tests that read one.
import { EVIDENCE_SCHEMA } from '../src/index.ts';

/** Valid evidence of `dumpFile`, with one field the schema does not know (`injected`), to be dropped. */
export function evidenceFor(dumpFile: string) {
  return {
    schema: EVIDENCE_SCHEMA,
    trigger: 'memory-threshold',
    takenAt: '2026-12-07T11:35:26.300989029Z',
    dumpFile,
    pid: 1,
    container: {
      cgroupVersion: 1,
      usageBytes: 243208192,
      inactiveFileBytes: 126976,
      workingSetBytes: 243081216,
      limitBytes: 268435456,
      thresholdPercent: 90,
    },
    jvm: {
      version: '17.0.15',
      heapUsedBytes: 1,
      heapCommittedBytes: 2,
      heapMaxBytes: 3,
      nonHeapUsedBytes: 4,
      directBufferBytes: 5,
      directBufferCount: 6,
      threads: 7,
      heapDumpStackBytes: 132_644_864,
    },
    nativeMemory: null,
    threadDump: '"main" #1 prio=5\n',
    injected: 'dropped',
  };
}
