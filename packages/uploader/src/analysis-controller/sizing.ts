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

export type Sizing =
  | { fits: true; bytes: number }
  | { fits: false; neededBytes: number; maxMemoryBytes: number };

/** The memory request and limit (equal: the analysis's peak is its working set) for a dump, in whole MiB. */
export function sizeAnalysis(
  summary: { bytes: number; totals: { objects: number } },
  s: SizingSettings,
): Sizing {
  const needed = estimateMemory(summary.totals.objects, 0) + (summary.bytes / GI) * s.memoryPerGiB;
  const bytes = Math.ceil(needed / MI) * MI;
  if (bytes > s.maxMemory) return { fits: false, neededBytes: bytes, maxMemoryBytes: s.maxMemory };
  return { fits: true, bytes };
}
