// What a resumed or running upload knows of the bytes it sent: the parts still to make (after those sent,
// read again to bring the dump's hash and redaction to where they end, and checked against what was
// recorded), the hash the stored object must have, whether the file still holds it, and the dump's own times.
// Whether to resume at all is resume.ts's.
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { ActiveRedactMode } from '@kube-heapdump/hprof';
import type { Adapt } from './adapt.ts';
import { FileChanged } from './dump-file.ts';
import type { DumpFollower, FollowResult } from './follower.ts';
import type { MultipartSession } from './multipart.ts';
import { compressedParts, type PartPlan, type PartSource, rawParts } from './parts.ts';
import { type PartRecord, redaction } from './state.ts';
import { dumpRedactor } from './symbol-scan.ts';

/**
 * The parts still to upload, in order (`asIs`: the file is stored as it is, a JVM gzip file). Each carries the
 * dump's SHA-256 so far; the parts sent before are read again and checked against their recorded hashes.
 */
export function partsToSend(u: {
  fh: FileHandle;
  follower: DumpFollower;
  session: MultipartSession;
  adapt: Adapt;
  asIs: boolean;
}): AsyncGenerator<PartPlan> {
  const { fh, follower, session, adapt, asIs } = u;
  const state = session.state;
  const redact = redaction(state.redaction);
  const sent = () => new Map(state.parts.map((p) => [p.partNumber, p.sha256]));
  const src: PartSource = {
    fh,
    follower,
    md5: session.wantsMd5,
    adapt,
    hash: createHash('sha256'),
    ...(redact ? { redact } : {}),
  };
  // Stored as the file is: uncompressed, or gzipped by the JVM (declared gzip, or none by older uploaders).
  if (asIs || state.compression === 'none') return rawParts({ ...src, sent: sent() }, new Set(sent().keys()));
  // Compressed parts resume after those done without a gap, each starting where the previous one ended;
  // later ones are made again (from other block ranges, so their old records go).
  state.parts.sort((a, b) => a.partNumber - b.partNumber);
  const gap = state.parts.findIndex(
    (p, i) => p.partNumber !== i + 1 || p.firstBlock !== (i === 0 ? 1 : state.parts[i - 1]!.lastBlock + 1),
  );
  if (gap >= 0) {
    state.parts.splice(gap);
    void session.journal.replaceParts();
  }
  const last = state.parts.at(-1);
  return compressedParts(
    { ...src, sent: sent() },
    state.compression,
    (last?.lastBlock ?? 0) + 1,
    (last?.partNumber ?? 0) + 1,
  );
}

/** The part numbered last: its hash is the whole object's. */
export function lastPart(parts: readonly PartRecord[]): PartRecord | undefined {
  return parts.reduce<PartRecord | undefined>(
    (a, p) => (a && a.partNumber > p.partNumber ? a : p),
    undefined,
  );
}

/** Reads the first `size` bytes of the file (redacted as sent): FileChanged unless their SHA-256 is the one sent. */
export async function verifySent(
  fh: FileHandle,
  size: number,
  sha256: string,
  redact?: ActiveRedactMode,
): Promise<void> {
  const hash = createHash('sha256');
  const redactor = redact ? await dumpRedactor(redact, fh, (end) => Math.min(end, size)) : undefined;
  const buf = Buffer.allocUnsafe(1024 * 1024);
  for (let at = 0; at < size; ) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - at), at);
    if (bytesRead === 0) break;
    const piece = buf.subarray(0, bytesRead);
    redactor?.push(piece);
    hash.update(piece);
    at += bytesRead;
  }
  if (hash.digest('hex') !== sha256)
    throw new FileChanged('the dump file was written to after it was sent: it no longer holds those bytes');
}

/**
 * A resumed run walked a file written before it started: the dump's own times are its start (kept in the
 * state) and its last write, not when this run read it.
 */
export function resumedTimes(followed: FollowResult, startedAt: string): { firstByteAt: Date; doneAt: Date } {
  const started = new Date(startedAt);
  const lastWrite = new Date(followed.mark.mtimeMs);
  return {
    firstByteAt: started < followed.firstByteAt ? started : followed.firstByteAt,
    doneAt: lastWrite < followed.doneAt && lastWrite >= started ? lastWrite : followed.doneAt,
  };
}
