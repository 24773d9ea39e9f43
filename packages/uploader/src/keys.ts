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

export function summaryKey(dumpKey: string): string {
  return `${dumpKey}.summary.json`;
}

/**
 * Files the JVM writes as dumps: `*.hprof` and `*.hprof.gz`. Not dot-files (our state, editors' temp
 * files), not JDK 22+ parallel-dump pieces (`*.hprof.p0`...), which the JVM merges into the final name.
 */
export function isDumpFileName(name: string): boolean {
  return !name.startsWith('.') && /\.hprof(\.gz)?$/.test(name);
}
