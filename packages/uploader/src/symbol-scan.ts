// The redactor of a dump the uploader redacts: before it is given a byte, the symbols the dump's records use as
// names are read ahead from the file (`SymbolUses`), waiting for the writer when it is behind. HotSpot writes
// every symbol, then LOAD_CLASS, FRAME/TRACE, then the heap dump whose first sub-records are the class dumps:
// every name use is known at the first other heap sub-record (measured on the test fixture's OOM dumps: 1.99 MB
// into 35.5 MB with JDK 17, 2.38 MB into 69 MB with Temurin 25), so the read-ahead is a few MB, and memory is
// the set of ids used (~3,500 numbers there). Every other symbol is blanked whole, exactly as `heapdump redact`
// does. The walk depends only on the file's bytes up to where it stops (or its end), so each pass that redacts
// (the parts, the summary's hash, the check of a resumed upload, a restart) gets the same set and the same bytes.
import type { FileHandle } from 'node:fs/promises';
import { type ActiveRedactMode, HprofRedactor, SymbolUses } from '@kube-heapdump/hprof';
import { readFully } from './dump-file.ts';

const READ_AHEAD = 1024 * 1024;

/**
 * A redactor for the dump in `fh`. `available(end)` resolves to how many of the first `end` bytes the file
 * holds (fewer only once it is complete): the follower's `waitFor`, or a fixed size.
 */
export async function dumpRedactor(
  mode: ActiveRedactMode,
  fh: FileHandle,
  available: (end: number) => Promise<number> | number,
): Promise<HprofRedactor> {
  const uses = new SymbolUses();
  const buf = Buffer.allocUnsafe(READ_AHEAD);
  for (let at = 0; uses.walking; ) {
    const n = Math.min(buf.length, (await available(at + buf.length)) - at);
    if (n <= 0) break;
    const piece = buf.subarray(0, n);
    await readFully(fh, piece, at);
    uses.push(piece);
    at += n;
  }
  return new HprofRedactor(mode, { keepSymbols: uses.ids });
}
