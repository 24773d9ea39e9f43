// A dump file opened to ship, and what it is, decided once per dump when it is opened: its kind (by name)
// and whether the JVM gzipped it (by its first bytes). Everything after reads these answers: the key and the
// object's compression, the parts (stored as they are), the follower and the summary (read through gunzip).
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { type FileKind, fileKind, type RedactMode } from '@kube-heapdump/contract';
import { openRegular, Refused, startsAsGzip, waitQuiet } from './dump-file.ts';

export interface OpenDump {
  fh: FileHandle;
  file: string;
  kind: FileKind;
  /** The file's identity when it was opened: only its own saved upload is resumed, only it is deleted. */
  st: { dev: number; ino: number };
  /** The JVM gzipped it: stored as it is, declared gzip (object, key and summary), never compressed again. */
  jvmGzip: boolean;
}

export interface OpenDumpRules {
  dir: string;
  ownerUid?: number;
  /** Bytes of a dump never read past. */
  maxBytes: number;
  quietMs: number;
  pollMs: number;
  /** Aborted once the uploader is stopping: a crash log or recording then needs only STOPPING_QUIET_MS. */
  stopping?: AbortSignal;
  /** What parts of new uploads are redacted with. */
  redact: RedactMode;
}

/** Opens the dump file `file`; throws Refused when it is not one to read, or not one to ship under `redact`. */
export async function openDump(file: string, r: OpenDumpRules): Promise<OpenDump> {
  const { fh, st } = await openRegular(join(r.dir, file), {
    ...(r.ownerUid !== undefined ? { ownerUid: r.ownerUid } : {}),
    maxBytes: r.maxBytes,
  });
  try {
    const kind = fileKind(file) ?? 'heap-dump';
    if (kind !== 'heap-dump') {
      // Crash logs and recordings hold the environment and system properties, and only HPROF is redacted.
      if (r.redact !== 'none')
        throw new Refused(
          'cannot-redact',
          `it is a ${kind} file, which cannot be redacted (${r.redact}); it is kept, not shipped`,
        );
      await waitQuiet(fh, r.quietMs, r.pollMs, r.stopping);
    }
    const jvmGzip = kind === 'heap-dump' && (await startsAsGzip(fh, r.quietMs, r.pollMs));
    if (r.redact !== 'none' && jvmGzip) {
      throw new Refused(
        'cannot-redact',
        `the JVM compressed it (-XX:HeapDumpGzipLevel), so it cannot be redacted (${r.redact}) in place; it is kept, not shipped`,
      );
    }
    return { fh, file, kind, st, jvmGzip };
  } catch (err) {
    await fh.close();
    throw err;
  }
}
