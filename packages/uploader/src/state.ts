// What survives a restart of the uploader, per dump file, in <dump dir>/.heapdump-uploader/ (a dot-directory
// the scanner ignores): <id>.json, the upload (rewritten atomically, only when its own fields change), and
// <id>.parts, one line per part done, appended: saving a part costs the same for part 1 and part 10,000.
// <id> is a hash of the file name, so any name the JVM or a user makes fits in a file name. State files are
// input like any other (the volume is shared with the app container): one that does not hold together, or
// names another file or a key outside this pod's, is discarded.
import { createHash } from 'node:crypto';
import { appendFile, lstat, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type Compression,
  isCompression,
  isDumpFileName,
  isRedactMode,
  type RedactMode,
} from '@kube-heapdump/contract';
import type { ActiveRedactMode } from '@kube-heapdump/hprof';
import { readRegular } from './dump-file.ts';

export interface PartRecord {
  partNumber: number;
  firstBlock: number;
  lastBlock: number;
  etag: string;
  size: number;
  /** Base64 CRC32 of the part as stored (always computed: the whole-object CRC32 is combined from these). */
  checksum: string;
  /** Base64 MD5 of the part, when it was sent with Content-MD5. */
  md5?: string;
  /** What the store proved it checked: it answered our CRC32 back, or it was given Content-MD5. */
  verified: 'crc32' | 'md5' | 'none';
  /**
   * Hex SHA-256 of the dump's bytes as sent (uncompressed, redacted) from the start to the end of this part:
   * the last part's is the summary's; a resumed upload checks the file against them. Absent in older states.
   */
  sha256?: string;
}

export interface UploadState {
  version: 2;
  file: string;
  dev: number;
  ino: number;
  key: string;
  uploadId: string;
  startedAt: string;
  compression: Compression;
  /** What the parts sent were redacted with (a state saved before redaction existed: none). */
  redaction?: RedactMode;
  /** CRC32 headers were sent (CreateMultipartUpload declared the algorithm). */
  crc32: boolean;
  parts: PartRecord[];
  /** Set before the first CompleteMultipartUpload is sent: if its answer is lost, the object may exist. */
  completeSentAt?: string;
  /** Set once CompleteMultipartUpload succeeded: only the summary and the local clean-up remain. */
  completedAt?: string;
  /** Set when everything is done but the file is kept (HEAPDUMP_DELETE_AFTER_UPLOAD=false): never ship it again. */
  doneAt?: string;
}

export const STATE_DIR = '.heapdump-uploader';

/** The state files' name for a dump file: 16 hex digits of its name's SHA-256. */
export function stateId(file: string): string {
  return createHash('sha256').update(file, 'utf8').digest('hex').slice(0, 16);
}

/** Why a loaded state cannot be trusted, or undefined when it holds together. */
export type StateCheck = (s: UploadState) => string | undefined;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length < 4096;

function validUpload(s: Partial<UploadState>, id: string): string | undefined {
  if (s.version !== 2) return `version ${String(s.version)} is not 2`;
  if (!isText(s.file) || s.file.includes('/') || !isDumpFileName(s.file) || stateId(s.file) !== id)
    return 'it names another file than its own';
  if (!isInt(s.dev) || !isInt(s.ino)) return 'no device and inode';
  if (!isText(s.key) || !isText(s.uploadId) || !isText(s.startedAt)) return 'no key, upload id or start time';
  if (!isCompression(s.compression) || typeof s.crc32 !== 'boolean')
    return 'no compression or checksum setting';
  if (s.redaction !== undefined && !isRedactMode(s.redaction)) return 'no known redaction';
  return undefined;
}

function validPart(p: Partial<PartRecord>): p is PartRecord {
  return (
    isInt(p.partNumber) &&
    p.partNumber >= 1 &&
    p.partNumber <= 10_000 &&
    isInt(p.firstBlock) &&
    isInt(p.lastBlock) &&
    p.lastBlock >= p.firstBlock &&
    isInt(p.size) &&
    isText(p.etag) &&
    isText(p.checksum) &&
    (p.md5 === undefined || isText(p.md5)) &&
    (p.sha256 === undefined || (typeof p.sha256 === 'string' && /^[0-9a-f]{64}$/.test(p.sha256))) &&
    (p.verified === 'crc32' || p.verified === 'md5' || p.verified === 'none')
  );
}

export type Loaded = { state: UploadState } | { discarded: string } | undefined;

/** A state file is small: the upload's fields, or a line per part (at most 10,000). */
const MAX_STATE_BYTES = 8 * 1024 * 1024;

/**
 * A state file's text, undefined when there is none, or why it is not one: a link, a FIFO, a directory or a
 * huge file where a state should be is never followed or waited on.
 */
async function readStateFile(path: string): Promise<string | Error | undefined> {
  try {
    return await readRegular(path, MAX_STATE_BYTES);
  } catch (err) {
    return err as Error;
  }
}

/** The saved upload that a state's two files hold, or why it cannot be trusted. */
function judge(
  id: string,
  text: string | Error,
  lines: string | Error,
  check?: StateCheck,
): UploadState | string {
  if (text instanceof Error) return `it is not a state file: ${text.message}`;
  let s: Partial<UploadState>;
  try {
    s = JSON.parse(text) as Partial<UploadState>;
  } catch {
    return 'it is not JSON';
  }
  const problem = validUpload(s, id) ?? check?.(s as UploadState);
  if (problem) return problem;
  if (lines instanceof Error) return `its parts are not a state file: ${lines.message}`;
  const byNumber = new Map<number, PartRecord>();
  for (const line of lines.split('\n')) {
    let part: Partial<PartRecord>;
    try {
      part = JSON.parse(line) as Partial<PartRecord>;
    } catch {
      continue; // empty, or the last line torn by a kill during the append
    }
    if (validPart(part)) byNumber.set(part.partNumber, part); // a part uploaded again: the last record wins
  }
  return { ...(s as UploadState), parts: [...byNumber.values()] };
}

export class StateStore {
  private readonly dir: string;
  constructor(dumpDir: string) {
    this.dir = join(dumpDir, STATE_DIR);
  }

  private path(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  private partsPath(id: string): string {
    return join(this.dir, `${id}.parts`);
  }

  /** The state of a dump file: none, one that holds together (and passes `check`), or why it was discarded. */
  async load(file: string, check?: StateCheck): Promise<Loaded> {
    return this.loadId(stateId(file), check);
  }

  async loadId(id: string, check?: StateCheck): Promise<Loaded> {
    if (!(await this.dirIsOurs())) return undefined;
    const text = await readStateFile(this.path(id));
    if (text === undefined) return undefined;
    // Both files are read before either is judged; a problem with the upload's own file is told first.
    const lines = text instanceof Error ? '' : ((await readStateFile(this.partsPath(id))) ?? '');
    const judged = judge(id, text, lines, check);
    if (typeof judged === 'string') {
      await this.removeId(id);
      return { discarded: judged };
    }
    return { state: judged };
  }

  /**
   * Whether the state directory is a real directory (or absent): one the app container replaced with a link
   * is removed (the link, not what it names), so no state is read, written or deleted elsewhere.
   */
  private async dirIsOurs(): Promise<boolean> {
    try {
      if ((await lstat(this.dir)).isDirectory()) return true;
    } catch {
      return true; // absent: made when first saved
    }
    await rm(this.dir, { force: true });
    return false;
  }

  private async makeDir(): Promise<void> {
    await this.dirIsOurs();
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  /** Saves the upload's own fields; parts are saved with `savePart` (or `saveParts` to replace them all). */
  async save(state: UploadState): Promise<void> {
    await this.makeDir();
    const id = stateId(state.file);
    const tmp = `${this.path(id)}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ ...state, parts: [] }), { mode: 0o600 });
    await rename(tmp, this.path(id));
  }

  async savePart(file: string, part: PartRecord): Promise<void> {
    await appendFile(this.partsPath(stateId(file)), `${JSON.stringify(part)}\n`, { mode: 0o600 });
  }

  /** Replaces the recorded parts (a new upload starts with none; a resume may drop some). */
  async saveParts(file: string, parts: PartRecord[]): Promise<void> {
    await this.makeDir();
    const id = stateId(file);
    const tmp = `${this.partsPath(id)}.${process.pid}.tmp`;
    await writeFile(tmp, parts.map((p) => `${JSON.stringify(p)}\n`).join(''), { mode: 0o600 });
    await rename(tmp, this.partsPath(id));
  }

  async remove(file: string): Promise<void> {
    await this.removeId(stateId(file));
  }

  private async removeId(id: string): Promise<void> {
    await rm(this.path(id), { force: true });
    await rm(this.partsPath(id), { force: true });
  }

  /** Ids of saved states. Also removes temp files a killed run left between write and rename. */
  async ids(): Promise<string[]> {
    if (!(await this.dirIsOurs())) return [];
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const ours = `.${process.pid}.tmp`;
    for (const stale of names.filter((n) => n.endsWith('.tmp') && !n.endsWith(ours))) {
      await rm(join(this.dir, stale), { force: true });
    }
    return names.filter((n) => /^[0-9a-f]{16}\.json$/.test(n)).map((n) => n.slice(0, 16));
  }
}

/** The redactor's mode for a state's `redaction` (none means no redactor). */
export function redaction(mode: RedactMode | undefined): ActiveRedactMode | undefined {
  return mode === undefined || mode === 'none' ? undefined : mode;
}
