// Object keys and dump file names: pure functions, the layout every other part relies on.
//   <prefix><namespace>/<app>/<pod>/<UTC yyyymmddThhmmssZ>-<file name>[.gz|.zst]
import type { Compression, PodFacts } from './config.ts';

/** `2026-11-28T07:09:01.599Z` -> `20261128T070901Z`. */
export function keyTimestamp(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** What the stored object adds to the file name: nothing for files the JVM already gzipped. */
export function storedSuffix(fileName: string, compression: Compression): '' | '.gz' | '.zst' {
  if (alreadyCompressed(fileName) || compression === 'none') return '';
  return compression === 'gzip' ? '.gz' : '.zst';
}

export function alreadyCompressed(fileName: string): boolean {
  return fileName.endsWith('.gz');
}

/**
 * The key of a dump. `attempt` > 1 only when the store already had the first choice (If-None-Match
 * refused it): the key gets `-n<attempt>` after the timestamp, so no dump ever replaces another.
 */
export function dumpKey(
  prefix: string,
  pod: Pick<PodFacts, 'namespace' | 'app' | 'name'>,
  startedAt: Date,
  fileName: string,
  compression: Compression,
  attempt = 1,
): string {
  const stamp = attempt > 1 ? `${keyTimestamp(startedAt)}-n${attempt}` : keyTimestamp(startedAt);
  return `${prefix}${pod.namespace}/${pod.app}/${pod.name}/${stamp}-${fileName}${storedSuffix(fileName, compression)}`;
}

export const SUMMARY_SUFFIX = '.summary.json';

export function summaryKey(dumpKey: string): string {
  return `${dumpKey}${SUMMARY_SUFFIX}`;
}

/**
 * Files the JVM writes as dumps: `*.hprof` and `*.hprof.gz`. Not dot-files (our state, editors' temp
 * files), not JDK 22+ parallel-dump pieces (`*.hprof.p0`...), which the JVM merges into the final name.
 */
export function isDumpFileName(name: string): boolean {
  return !name.startsWith('.') && /\.hprof(\.gz)?$/.test(name);
}

/** The parts of a dump key, read back (the CLI lists and filters by them). */
export interface ParsedDumpKey {
  key: string;
  namespace: string;
  app: string;
  pod: string;
  /** When the uploader saw the dump start (second precision, from the key). */
  startedAt: Date;
  /** File name the JVM wrote. */
  file: string;
  compression: Compression;
}

const DUMP_KEY =
  /^(?<namespace>[^/]+)\/(?<app>[^/]+)\/(?<pod>[^/]+)\/(?<y>\d{4})(?<mo>\d{2})(?<d>\d{2})T(?<h>\d{2})(?<mi>\d{2})(?<s>\d{2})Z(?:-n\d+)?-(?<stored>[^/]+)$/;

/**
 * Parses `<prefix><ns>/<app>/<pod>/<stamp>[-nK]-<file>[.gz|.zst]`; undefined for any other key. A stored
 * `.hprof.gz` is gzip whether we compressed it or the JVM did; `file` is then the name without `.gz`.
 */
export function parseDumpKey(prefix: string, key: string): ParsedDumpKey | undefined {
  if (!key.startsWith(prefix) || key.endsWith(SUMMARY_SUFFIX)) return undefined;
  const g = DUMP_KEY.exec(key.slice(prefix.length))?.groups;
  if (!g?.namespace || !g.app || !g.pod || !g.stored) return undefined;
  let file = g.stored;
  let compression: Compression = 'none';
  if (file.endsWith('.hprof.zst')) [file, compression] = [file.slice(0, -4), 'zstd'];
  else if (file.endsWith('.hprof.gz')) [file, compression] = [file.slice(0, -3), 'gzip'];
  if (!isDumpFileName(file)) return undefined;
  const n = (v: string | undefined) => Number(v);
  return {
    key,
    namespace: g.namespace,
    app: g.app,
    pod: g.pod,
    startedAt: new Date(Date.UTC(n(g.y), n(g.mo) - 1, n(g.d), n(g.h), n(g.mi), n(g.s))),
    file,
    compression,
  };
}
