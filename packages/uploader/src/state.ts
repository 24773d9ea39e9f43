// What survives a restart of the uploader: per dump file, the multipart upload in progress and the parts
// done, in <dump dir>/.heapdump-uploader/<file>.json (a dot-directory the scanner ignores). Written
// atomically (temp file, rename) after every part.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Compression } from './config.ts';

export interface PartRecord {
  partNumber: number;
  firstBlock: number;
  lastBlock: number;
  etag: string;
  /** Base64 CRC32 of the part as stored, when checksums are on. */
  checksum?: string;
  size: number;
  /** CRC32 of all stored bytes up to and including this part (compressed uploads resume from it). */
  crcAfter: number;
}

export interface UploadState {
  version: 1;
  file: string;
  ino: number;
  key: string;
  uploadId: string;
  startedAt: string;
  compression: Compression;
  attempt: number;
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

  async load(file: string): Promise<UploadState | undefined> {
    try {
      const s = JSON.parse(await readFile(this.path(file), 'utf8')) as UploadState;
      return s.version === 1 ? s : undefined;
    } catch {
      return undefined;
    }
  }

  async save(state: UploadState): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = `${this.path(state.file)}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(state));
    await rename(tmp, this.path(state.file));
  }

  async remove(file: string): Promise<void> {
    await rm(this.path(file), { force: true });
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
