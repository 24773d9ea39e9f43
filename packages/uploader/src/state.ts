// What survives a restart of the uploader, per dump file, in <dump dir>/.heapdump-uploader/ (a dot-directory
// the scanner ignores): <file>.json, the upload (rewritten atomically, only when its own fields change), and
// <file>.parts, one line per part done, appended: saving a part costs the same for part 1 and part 10,000.
import { appendFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Compression } from '@kube-heapdump/contract';

export interface PartRecord {
  partNumber: number;
  firstBlock: number;
  lastBlock: number;
  etag: string;
  /** Base64 CRC32 of the part as stored, when checksums are on. */
  checksum?: string;
  size: number;
}

export interface UploadState {
  version: 1;
  file: string;
  ino: number;
  key: string;
  uploadId: string;
  startedAt: string;
  compression: Compression;
  parts: PartRecord[];
  /** Set once CompleteMultipartUpload succeeded: only the summary and the local clean-up remain. */
  completedAt?: string;
  /** Set when everything is done but the file is kept (HEAPDUMP_DELETE_AFTER_UPLOAD=false): never ship it again. */
  doneAt?: string;
}

export const STATE_DIR = '.heapdump-uploader';

export class StateStore {
  private readonly dir: string;
  constructor(dumpDir: string) {
    this.dir = join(dumpDir, STATE_DIR);
  }

  private path(file: string): string {
    return join(this.dir, `${file}.json`);
  }

  private partsPath(file: string): string {
    return join(this.dir, `${file}.parts`);
  }

  async load(file: string): Promise<UploadState | undefined> {
    try {
      const s = JSON.parse(await readFile(this.path(file), 'utf8')) as UploadState;
      if (s.version !== 1) return undefined;
      const byNumber = new Map<number, PartRecord>();
      const lines = await readFile(this.partsPath(file), 'utf8').catch(() => '');
      for (const line of lines.split('\n')) {
        try {
          const part = JSON.parse(line) as PartRecord;
          byNumber.set(part.partNumber, part); // a part uploaded again: the last record wins
        } catch {
          // empty, or the last line torn by a kill during the append
        }
      }
      s.parts = [...byNumber.values()];
      return s;
    } catch {
      return undefined;
    }
  }

  /** Saves the upload's own fields; parts are saved with `savePart` (or `saveParts` to replace them all). */
  async save(state: UploadState): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = `${this.path(state.file)}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ ...state, parts: [] }));
    await rename(tmp, this.path(state.file));
  }

  async savePart(file: string, part: PartRecord): Promise<void> {
    await appendFile(this.partsPath(file), `${JSON.stringify(part)}\n`);
  }

  /** Replaces the recorded parts (a new upload starts with none; a resume may drop some). */
  async saveParts(file: string, parts: PartRecord[]): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = `${this.partsPath(file)}.${process.pid}.tmp`;
    await writeFile(tmp, parts.map((p) => `${JSON.stringify(p)}\n`).join(''));
    await rename(tmp, this.partsPath(file));
  }

  async remove(file: string): Promise<void> {
    await rm(this.path(file), { force: true });
    await rm(this.partsPath(file), { force: true });
  }

  /** Dump files with a saved state. Also removes temp files a killed run left between write and rename. */
  async files(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const ours = `.${process.pid}.tmp`;
    for (const stale of names.filter((n) => n.endsWith('.tmp') && !n.endsWith(ours))) {
      await rm(join(this.dir, stale), { force: true });
    }
    return names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -'.json'.length));
  }
}
