// An independent view of every dump written into a directory, for tests to compare stored objects with. The
// uploader deletes a dump once it is stored, and refuses a file with a second name (a hard link), so the
// capture holds each new file open instead: an open descriptor keeps the bytes after the name is gone, and
// the JVM writes in place, so reading it once the writer is done gives every byte it wrote.
import { constants, watch } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';

export interface DumpCapture {
  /** Names seen, in order (a name written again, as a new file, appears again). */
  readonly files: string[];
  /** The bytes of the last file seen under `name` (read now: call it once its writer is done). */
  read(name: string): Promise<Buffer>;
  /** The bytes of every file seen, in order. */
  readAll(): Promise<Buffer[]>;
  /** The bytes of the `index`th file seen (`files[index]`). */
  readAt(index: number): Promise<Buffer>;
  /** Whether the `index`th file seen still has a name in any directory (false once deleted). */
  linkedAt(index: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Captures every file ending in `suffix` that appears in `dir` from now on. */
export function captureDumps(dir: string, suffix = '.hprof'): DumpCapture {
  const held: { name: string; ino: number; fh: FileHandle }[] = [];
  const watcher = watch(dir, (_event, name) => {
    if (!name?.endsWith(suffix)) return;
    void open(join(dir, name), constants.O_RDONLY | constants.O_NOFOLLOW)
      .then(async (fh) => {
        const { ino } = await fh.stat();
        if (held.some((h) => h.ino === ino)) await fh.close();
        else held.push({ name, ino, fh });
      })
      .catch(() => {}); // gone already, or not a file: read() says so
  });
  const bytesOf = async (fh: FileHandle): Promise<Buffer> => {
    const { size } = await fh.stat();
    const buf = Buffer.alloc(size);
    for (let at = 0; at < size; ) {
      const { bytesRead } = await fh.read(buf, at, size - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    return buf;
  };
  const heldAt = (index: number): FileHandle => {
    const h = held[index];
    if (!h) throw new Error(`no dump #${index} was captured in ${dir} (seen: ${held.length})`);
    return h.fh;
  };
  return {
    get files() {
      return held.map((h) => h.name);
    },
    async read(name) {
      const h = held.findLast((x) => x.name === name);
      if (!h)
        throw new Error(
          `no dump named ${name} was captured in ${dir} (seen: ${held.map((x) => x.name).join(', ')})`,
        );
      return bytesOf(h.fh);
    },
    readAt: (index) => bytesOf(heldAt(index)),
    async linkedAt(index) {
      return (await heldAt(index).stat()).nlink > 0;
    },
    readAll: () => Promise.all(held.map((h) => bytesOf(h.fh))),
    async close() {
      watcher.close();
      for (const h of held.splice(0)) await h.fh.close();
    },
  };
}
