// Object keys and dump file names: the layout every part relies on (docs/ARCHITECTURE.md, "Key layout").
//   <prefix><namespace>/<app>/<pod>/<UTC yyyymmddThhmmssZ>-<id>-<file name>[.gz|.zst]
// `id` is random, chosen when the upload starts and kept across restarts: two dumps of the same file name,
// pod and second get different keys by construction, whether or not the store honours If-None-Match.
import { createHash, randomBytes } from 'node:crypto';
import type { Compression } from './compression.ts';

/** Where a dump came from: the three key segments before its time. */
export interface DumpOrigin {
  namespace: string;
  app: string;
  pod: string;
}

/** `2026-11-28T07:09:01.599Z` -> `20261128T070901Z`. */
export function keyTimestamp(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** Eight lower-case hex digits. */
export const DUMP_ID = /^[0-9a-f]{8}$/;

/** A fresh dump id (32 random bits). */
export function newDumpId(): string {
  return randomBytes(4).toString('hex');
}

/**
 * What a file in the dump volume is, by its name: `heap-dump` (`*.hprof`, `*.hprof.gz`), `hs-err` (the JVM's
 * crash log, `hs_err_pid<N>.log`, `-XX:ErrorFile`) or `jfr` (a Flight Recorder file, `*.jfr`).
 */
export type FileKind = 'heap-dump' | 'hs-err' | 'jfr';

export const FILE_KINDS: readonly FileKind[] = ['heap-dump', 'hs-err', 'jfr'];

/**
 * The kind of a file the uploader ships, or undefined for any other name. Not dot-files (our state, editors'
 * temp files), not JDK 22+ parallel-dump pieces (`*.hprof.p0`...), which the JVM merges into the final name.
 */
export function fileKind(name: string): FileKind | undefined {
  if (name.startsWith('.')) return undefined;
  if (/\.hprof(\.gz)?$/.test(name)) return 'heap-dump';
  if (/^hs_err_pid\d+\.log$/.test(name)) return 'hs-err';
  if (/\.jfr$/.test(name)) return 'jfr';
  return undefined;
}

/** Files the uploader ships: heap dumps, crash logs and Flight Recorder files (fileKind). */
export function isDumpFileName(name: string): boolean {
  return fileKind(name) !== undefined;
}

/** The JVM gzipped it (`-XX:HeapDumpGzipLevel`, `jcmd GC.heap_dump -gz`): stored as it is. */
export function alreadyCompressed(fileName: string): boolean {
  return fileName.endsWith('.gz');
}

/** What the stored object adds to the file name: nothing for files the JVM already gzipped. */
export function storedSuffix(fileName: string, compression: Compression): '' | '.gz' | '.zst' {
  if (alreadyCompressed(fileName) || compression === 'none') return '';
  return compression === 'gzip' ? '.gz' : '.zst';
}

const SAFE_NAME = /^[A-Za-z0-9._-]{1,200}$/;

/**
 * The file name as a key segment. Names of letters, digits, `.`, `_` and `-` (up to 200) are kept; any other
 * (non-ASCII, spaces, control characters, very long) becomes its safe characters, cut to 64, plus `~` and
 * 8 hex digits of the name's SHA-256, with its `.hprof[.gz]` or `.jfr` ending: valid everywhere, distinct per
 * name (an `hs_err_pid<N>.log` name is always safe).
 * The exact name is in the summary and the object's `file` metadata (percent-encoded).
 */
export function keySafeName(fileName: string): string {
  if (SAFE_NAME.test(fileName)) return fileName;
  const ending = /\.(hprof(\.gz)?|jfr)$/.exec(fileName)?.[0] ?? '';
  const stem = fileName
    .slice(0, fileName.length - ending.length)
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .slice(0, 64);
  const hash = createHash('sha256').update(fileName, 'utf8').digest('hex').slice(0, 8);
  return `${stem}~${hash}${ending}`;
}

export interface DumpKeyParts extends DumpOrigin {
  /** Key prefix, empty or ending in `/` (normalizePrefix). */
  prefix: string;
  /** When the dump started (the file's birth time); second precision in the key. */
  startedAt: Date;
  /** newDumpId(): unique per upload. */
  id: string;
  /** The file name the JVM wrote. */
  file: string;
  compression: Compression;
}

export function dumpKey(p: DumpKeyParts): string {
  if (!DUMP_ID.test(p.id)) throw new Error(`dump id "${p.id}" is not 8 hex digits`);
  const name = keySafeName(p.file);
  return `${p.prefix}${p.namespace}/${p.app}/${p.pod}/${keyTimestamp(p.startedAt)}-${p.id}-${name}${storedSuffix(p.file, p.compression)}`;
}

export const SUMMARY_SUFFIX = '.summary.json';

/** Where the summary of a dump is stored: beside it. */
export function summaryKey(dumpKey: string): string {
  return `${dumpKey}${SUMMARY_SUFFIX}`;
}

/** The parts of a dump key, read back (the CLI lists and filters by them). */
export interface ParsedDumpKey extends DumpOrigin {
  key: string;
  /** When the dump started (second precision, from the key). */
  startedAt: Date;
  id: string;
  /** The file name as the key holds it (keySafeName of what the JVM wrote). */
  file: string;
  kind: FileKind;
  compression: Compression;
}

const DUMP_KEY =
  /^(?<namespace>[^/]+)\/(?<app>[^/]+)\/(?<pod>[^/]+)\/(?<y>\d{4})(?<mo>\d{2})(?<d>\d{2})T(?<h>\d{2})(?<mi>\d{2})(?<s>\d{2})Z-(?<id>[0-9a-f]{8})-(?<stored>[^/]+)$/;

/**
 * Parses a key `dumpKey` made; undefined for any other key (summaries, other prefixes, foreign objects). A
 * stored `.hprof.gz` is gzip whether we compressed it or the JVM did; `file` is then the name without `.gz`
 * (so with `.zst`, and for every kind).
 */
export function parseDumpKey(prefix: string, key: string): ParsedDumpKey | undefined {
  if (!key.startsWith(prefix) || key.endsWith(SUMMARY_SUFFIX)) return undefined;
  const g = DUMP_KEY.exec(key.slice(prefix.length))?.groups;
  if (!g?.namespace || !g.app || !g.pod || !g.stored || !g.id) return undefined;
  let file = g.stored;
  let compression: Compression = 'none';
  if (file.endsWith('.zst') && isDumpFileName(file.slice(0, -4)))
    [file, compression] = [file.slice(0, -4), 'zstd'];
  else if (file.endsWith('.gz') && isDumpFileName(file.slice(0, -3)))
    [file, compression] = [file.slice(0, -3), 'gzip'];
  const kind = fileKind(file);
  if (kind === undefined) return undefined;
  const n = (v: string | undefined) => Number(v);
  return {
    key,
    namespace: g.namespace,
    app: g.app,
    pod: g.pod,
    startedAt: new Date(Date.UTC(n(g.y), n(g.mo) - 1, n(g.d), n(g.h), n(g.mi), n(g.s))),
    id: g.id,
    file,
    kind,
    compression,
  };
}

/** The key prefix under which one pod's, app's or namespace's dumps are (the CLI's list filters). */
export function originPrefix(prefix: string, origin: Partial<DumpOrigin>): string {
  let p = prefix;
  for (const segment of [origin.namespace, origin.app, origin.pod]) {
    if (segment === undefined) break;
    p += `${segment}/`;
  }
  return p;
}
