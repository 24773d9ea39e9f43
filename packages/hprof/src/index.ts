export type { ArrayStats, ClassStats, HprofSummary, Verdict } from '@kube-heapdump/contract';
export {
  AnalysisMemoryError,
  analyzeHeap,
  estimateMemory,
  type HeapAnalysisOptions,
} from './analysis/analyze.ts';
export { decompressed, fileSource } from './analysis/source.ts';
export { HeapWalkError } from './analysis/walker.ts';
export {
  type AnalyzedDump,
  type AnalyzeOptions,
  analyzeFile,
  analyzeStream,
  createDecompressor,
  detectCompression,
} from './file.ts';
export { BASIC_TYPES, readableClassName, Sub, Tag } from './format.ts';
export { HeapHistogram, HISTOGRAM_LIMITS } from './histogram.ts';
export {
  arrayShallowSize,
  type HprofHeader,
  HprofParser,
  instanceShallowSize,
  type ParserOptions,
} from './parser.ts';
export { type ActiveRedactMode, HprofRedactor, type RedactorOptions } from './redact.ts';
export { classHistogram, SIZE_CONVENTION, summarize } from './summary.ts';
export { SymbolUses } from './symbol-uses.ts';
export { createZstdMultiFrameDecompress, ZstdFrameWalker } from './zstd-frames.ts';
