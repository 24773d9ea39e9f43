// The dump summary: what `heapdump inspect --json` prints and, with `dump` and `timings`, what the uploader
// stores beside each dump at `<key>.summary.json`. The HPROF reader fills HprofSummary; readers of stored
// summaries check `schema` and `storedSchema` before trusting the fields.
import type { Compression } from './compression.ts';
import type { EvidenceRef } from './evidence.ts';
import type { FileKind } from './keys.ts';
import type { RedactMode } from './uploader-env.ts';

export const SUMMARY_SCHEMA = 'kube-heapdump/hprof-summary/v1';
/** Version of the stored summary's `dump` and `timings` (and of the summary object's metadata). */
export const STORED_SUMMARY_SCHEMA = 'kube-heapdump/stored-summary/v1';
/** The summary of a file that is not a heap dump (StoredFileSummary): no HPROF fields, no verdict. */
export const STORED_FILE_SUMMARY_SCHEMA = 'kube-heapdump/stored-file-summary/v1';

/**
 * How many classes the uploader's stored summary lists (largest shallow bytes first): enough for
 * `heapdump diff` to rank what grew from two summaries, without downloading either dump.
 */
export const STORED_SUMMARY_CLASSES = 200;

/** `complete`: the record walk ends on HEAP_DUMP_END at the end; `incomplete`: cut short; `invalid`: not a dump. */
export type Verdict = 'complete' | 'incomplete' | 'invalid';

export interface ClassStats {
  name: string;
  instances: number;
  bytes: number;
}

export interface ArrayStats {
  className: string;
  length: number;
  bytes: number;
}

/**
 * What the class histogram left out to keep the summary's memory bounded (a crafted dump, or one beyond
 * every real one): it tracks at most `maxClasses` distinct classes per kind and a bounded number of names.
 */
export interface HistogramCap {
  maxClasses: number;
  /** Instances, arrays and class dumps of classes past the limit: in `totals`, not in `topClasses`. */
  untrackedObjects: number;
  /** Their shallow bytes (class dumps without the java.lang.Class fields): in `totals.shallowBytes`. */
  untrackedBytes: number;
  /** Class names not kept: classes named by them show as `<class 0x…>`. */
  namesDropped: number;
}

export interface HprofSummary {
  schema: typeof SUMMARY_SCHEMA;
  verdict: Verdict;
  /** Why the dump is incomplete or invalid. */
  reason?: string;
  /** Header facts, when the header was readable. */
  format?: string;
  idSize?: 4 | 8;
  /** When the JVM started writing the dump (ISO 8601). */
  timestamp?: string;
  /** Uncompressed dump bytes read. */
  bytes: number;
  records: number;
  totals: {
    objects: number;
    instances: number;
    objectArrays: number;
    primitiveArrays: number;
    classes: number;
    shallowBytes: number;
    gcRoots: number;
    threads: number;
    stackTraces: number;
  };
  /** Classes with the most shallow bytes, largest first. */
  topClasses: ClassStats[];
  /** Present only when the histogram reached its limits: what it left out. */
  capped?: HistogramCap;
  /**
   * How many classes the whole histogram has (those with objects): `topClasses` is all of it when it is as
   * long. Absent in summaries from before it was recorded.
   */
  histogramClasses?: number;
  largestArrays: ArrayStats[];
  sizeConvention: string;
}

/** What proved the stored bytes are the dump's (the uploader's log line `dump object complete` says it too). */
export interface DumpIntegrity {
  /**
   * What the store checked on every part: `crc32` (it computed the part's CRC32 and answered ours back),
   * `md5` (each part carried Content-MD5, which the store checks), or `none`.
   */
  parts: 'crc32' | 'md5' | 'none';
  /**
   * What proved the completed object is exactly those parts in order: `crc32` (the store's whole-object
   * CRC32 equals ours), `etag` (its multipart ETag equals the MD5 of our parts' MD5s), or `none`.
   */
  object: 'crc32' | 'etag' | 'none';
  /** A HEAD after completion found our size and metadata (only when the credential may read). */
  head: boolean;
}

/** Where a stored file went and how it was checked: the same for every kind. */
export interface StoredFileFacts {
  bucket: string;
  key: string;
  /** File name the JVM wrote (exactly; the key holds keySafeName of it). */
  file: string;
  originalBytes: number;
  storedBytes: number;
  compression: Compression;
  /** What was overwritten before upload (REDACT_MODES); the stored dump has the original's size and layout. */
  redaction: RedactMode;
  /**
   * SHA-256 of the dump as stored, uncompressed (what `heapdump get` writes), hex: the bytes the JVM wrote,
   * or with redaction those bytes redacted.
   */
  sha256: string;
  parts: number;
  integrity: DumpIntegrity;
  pod: string;
  namespace: string;
  node: string;
  app: string;
  uploaderVersion: string;
}

/** When a stored file was written and stored. */
export interface StoredTimings {
  firstByteSeen: string;
  /** When the writer finished: the end record arrived, or the file went quiet (incomplete dumps). */
  dumpComplete: string;
  uploadComplete: string;
  dumpSeconds: number;
  /** From the dump's completion to the object being durable. */
  uploadAfterDumpSeconds: number;
}

/**
 * What the uploader stores at `<dump key>.summary.json` for a heap dump: its HPROF summary plus where and
 * when it went. Its schema is unchanged: every summary of `STORED_SUMMARY_SCHEMA`, older ones too, is a heap
 * dump's; other kinds have StoredFileSummary.
 */
export interface StoredDumpSummary extends HprofSummary {
  storedSchema: typeof STORED_SUMMARY_SCHEMA;
  dump: StoredFileFacts;
  timings: StoredTimings;
  /** A dump the memory watchdog or `heapdump trigger` took: why, the container's figures, its evidence object. */
  evidence?: EvidenceRef;
}

/**
 * What the uploader stores at `<key>.summary.json` for a crash log or a Flight Recorder file: its kind and
 * where and when it went; no verdict (nothing to walk: the file is stored as the JVM wrote it).
 */
export interface StoredFileSummary {
  storedSchema: typeof STORED_FILE_SUMMARY_SCHEMA;
  kind: Exclude<FileKind, 'heap-dump'>;
  dump: StoredFileFacts;
  timings: StoredTimings;
}

/** User metadata of a dump object (`x-amz-meta-*`), set when its upload starts. */
export const DUMP_METADATA = {
  pod: 'pod',
  namespace: 'namespace',
  node: 'node',
  app: 'app',
  /** The file name, percent-encoded (metadata must be ASCII). */
  file: 'file',
  startedAt: 'started-at',
  compression: 'compression',
  /** REDACT_MODES: what was overwritten before a byte was sent. */
  redaction: 'redaction',
  uploaderVersion: 'uploader-version',
} as const;

/** User metadata of a summary object: what `heapdump list` shows without reading the summary. */
export const SUMMARY_METADATA = {
  /** Heap dumps only. */
  verdict: 'verdict',
  /** FileKind; absent on heap dumps' summaries from before other kinds were shipped. */
  kind: 'kind',
  sha256: 'sha256',
  originalSize: 'original-size',
  storedSize: 'stored-size',
  redaction: 'redaction',
  pod: 'pod',
  namespace: 'namespace',
  app: 'app',
} as const;
