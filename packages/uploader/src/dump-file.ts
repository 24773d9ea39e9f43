// Opening what is in the dump volume, which the app container shares and may have been taken over: only a
// regular file with one name (no hard link), opened without following a link (O_NOFOLLOW) and without
// waiting for a writer (O_NONBLOCK: a FIFO never blocks a thread), checked on the descriptor itself (fstat),
// never larger than the volume can hold, optionally owned by the app's UID. Every later read uses that descriptor, so swapping the name for a
// link after the check redirects nothing.
import { constants, type Stats } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';

/** Why a file in the volume is not read: a stable word for logs and tests. */
export type RefusalReason =
  | 'symlink'
  | 'fifo'
  | 'socket'
  | 'device'
  | 'directory'
  | 'not-regular'
  | 'hardlink'
  | 'owner'
  | 'too-large'
  | 'cannot-redact';

/** A file that is not shipped (and not retried while it stays the same file). */
export class Refused extends Error {
  readonly reason: RefusalReason;
  constructor(reason: RefusalReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

const FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

function kind(st: Stats): RefusalReason | undefined {
  if (st.isFile()) return undefined;
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'device';
  if (st.isDirectory()) return 'directory';
  return 'not-regular';
}

export interface OpenRules {
  /** Only files owned by this UID. */
  ownerUid?: number;
  /** Refuse files already larger than this. */
  maxBytes: number;
}

/** Opens a regular file for reading, or throws Refused saying what it is instead. */
export async function openRegular(path: string, rules: OpenRules): Promise<{ fh: FileHandle; st: Stats }> {
  let fh: FileHandle;
  try {
    fh = await open(path, FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'EMLINK') throw new Refused('symlink', 'it is a symbolic link');
    if (code === 'ENXIO') throw new Refused('socket', 'it is a socket');
    throw err;
  }
  try {
    const st = await fh.stat();
    const what = kind(st);
    if (what) throw new Refused(what, `it is not a regular file (${what})`);
    // Another name for the same file: a second name of a dump (shipped twice), of our state, or of a file
    // elsewhere on the volume's filesystem that the app container may not read itself.
    if (st.nlink > 1) throw new Refused('hardlink', `it has ${st.nlink} names (hard links), not one`);
    if (rules.ownerUid !== undefined && st.uid !== rules.ownerUid)
      throw new Refused('owner', `it is owned by UID ${st.uid}, not ${rules.ownerUid}`);
    if (st.size > rules.maxBytes)
      throw new Refused('too-large', `it holds ${st.size} bytes, more than the ${rules.maxBytes} allowed`);
    return { fh, st };
  } catch (err) {
    await fh.close();
    throw err;
  }
}

/** The text of a small regular file (a state file), or undefined when there is none; Refused otherwise. */
export async function readRegular(path: string, maxBytes: number): Promise<string | undefined> {
  let opened: { fh: FileHandle; st: Stats };
  try {
    opened = await openRegular(path, { maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const { fh, st } = opened;
  try {
    const buf = Buffer.allocUnsafe(st.size);
    let got = 0;
    while (got < st.size) {
      const { bytesRead } = await fh.read(buf, got, st.size - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buf.toString('utf8', 0, got);
  } finally {
    await fh.close();
  }
}

/**
 * The dump file changed under the upload: it shrank below bytes already known to be there, or bytes differ
 * from those digested and sent. The JVM never does either (it writes once, in order): someone rewrote the
 * file. The upload starts over (or the file is kept); it is never deleted for a stored object it differs from.
 */
export class FileChanged extends Error {
  override readonly name = 'FileChanged';
}

/** Fills `buf` from the file at `position`: a file shorter than that (truncated under us) is FileChanged. */
export async function readFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  for (let got = 0; got < buf.length; ) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, position + got);
    if (bytesRead === 0)
      throw new FileChanged(`the dump file is shorter than ${position + buf.length} bytes: it was truncated`);
    got += bytesRead;
  }
}

/** What shows a file was written to since: its size and times (fstat of the descriptor). */
export interface FileMark {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

export async function fileMark(fh: FileHandle): Promise<FileMark> {
  const st = await fh.stat();
  return { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
}

export function sameMark(a: FileMark, b: FileMark): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

/**
 * Whether the file is gzip (it starts 1f 8b, which no HPROF file does): the JVM's `-XX:HeapDumpGzipLevel` and
 * `jcmd GC.heap_dump -gz` dumps, whatever their name (`-XX:HeapDumpPath=<file>.hprof` gets gzip too). A file
 * just created may be empty: its writer's first bytes are waited for, up to `waitMs`.
 */
export async function startsAsGzip(fh: FileHandle, waitMs: number, pollMs: number): Promise<boolean> {
  const head = Buffer.alloc(2);
  for (const until = Date.now() + waitMs; ; ) {
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    if (bytesRead === 2) return head[0] === 0x1f && head[1] === 0x8b;
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/**
 * Once the uploader is stopping, a file quiet this long is done: its JVM has exited (a native sidecar is
 * stopped after the app containers) or is exiting, and the pod's grace period would not wait `quietMs`.
 */
export const STOPPING_QUIET_MS = 2000;

/**
 * Resolves once the file has not changed (size and times) for `quietMs` (STOPPING_QUIET_MS once `stopping`
 * is aborted): a crash log or Flight Recorder file is written whole by the JVM as it crashes or exits, and
 * is shipped only after.
 */
export async function waitQuiet(
  fh: FileHandle,
  quietMs: number,
  pollMs: number,
  stopping?: AbortSignal,
): Promise<void> {
  const enough = () => (stopping?.aborted ? Math.min(quietMs, STOPPING_QUIET_MS) : quietMs);
  let last = await fileMark(fh);
  for (let since = Date.now(); Date.now() - since < enough(); ) {
    await new Promise((r) => setTimeout(r, pollMs));
    const now = await fileMark(fh);
    if (!sameMark(now, last)) [last, since] = [now, Date.now()];
  }
}
