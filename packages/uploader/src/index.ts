export { blockSize, blockStart, MAX_DUMP_BYTES, MAX_PARTS, MIN_PART } from './blocks.ts';
export {
  type Compression,
  ConfigError,
  DEFAULTS,
  type PodFacts,
  parseConfig,
  type UploaderConfig,
} from './config.ts';
export { dumpKey, isDumpFileName, keyTimestamp, storedSuffix, summaryKey } from './keys.ts';
