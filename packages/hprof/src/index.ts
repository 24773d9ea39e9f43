export {
  type AnalyzedDump,
  type AnalyzeOptions,
  analyzeFile,
  analyzeStream,
  type Compression,
  detectCompression,
} from './file.ts';
export { BASIC_TYPES, readableClassName, Sub, Tag } from './format.ts';
export {
  arrayShallowSize,
  type HprofHeader,
  HprofParser,
  instanceShallowSize,
  type ParserOptions,
  type Verdict,
} from './parser.ts';
export {
  type ArrayStats,
  type ClassStats,
  classHistogram,
  type HprofSummary,
  SIZE_CONVENTION,
  type StoredDumpSummary,
  SUMMARY_SCHEMA,
  summarize,
} from './summary.ts';
export { createZstdMultiFrameDecompress, ZstdFrameWalker } from './zstd-frames.ts';
