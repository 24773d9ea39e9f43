// How much memory one dump's analysis gets, from its stored summary: the analysis's own estimate for the
// objects (estimateMemory, references counted below instead) plus memoryPerGiB per GiB of uncompressed dump
// for the references, which the summary does not count. Past maxMemory the dump gets a stub, not a Job.
import { estimateMemory } from '@kube-heapdump/hprof';

const MI = 2 ** 20;
const GI = 2 ** 30;

export interface SizingSettings {
  memoryPerGiB: number;
  maxMemory: number;
}

/** Whether a dump's analysis fits the memory it may have, and how much it gets or would need. */
export type AnalysisSizing =
  | { fits: true; bytes: number }
  | { fits: false; neededBytes: number; maxMemoryBytes: number };

/** The memory request and limit (equal: the analysis's peak is its working set) for a dump, in whole MiB. */
export function sizeAnalysis(
  summary: { bytes: number; totals: { objects: number } },
  s: SizingSettings,
): AnalysisSizing {
  const needed = estimateMemory(summary.totals.objects, 0) + (summary.bytes / GI) * s.memoryPerGiB;
  const bytes = Math.ceil(needed / MI) * MI;
  if (bytes > s.maxMemory) return { fits: false, neededBytes: bytes, maxMemoryBytes: s.maxMemory };
  return { fits: true, bytes };
}
