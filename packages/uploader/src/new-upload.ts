// What a new upload of a dump is, fixed before its first byte is sent (S3 cannot change an object's metadata
// later): its key under a fresh id, its compression (as the JVM gzipped it, else the configured one), its
// redaction and the object's metadata (where it came from, for `heapdump list` and the summary).
import {
  DUMP_METADATA,
  dumpKey,
  newDumpId,
  type RedactMode,
  type UploaderConfig,
} from '@kube-heapdump/contract';
import type { NewUpload } from './multipart.ts';
import type { OpenDump } from './open-dump.ts';

export function newUpload(
  cfg: UploaderConfig,
  { file, st, jvmGzip }: Pick<OpenDump, 'file' | 'st' | 'jvmGzip'>,
  o: { startedAt: Date; redact: RedactMode; version: string },
): NewUpload {
  const { startedAt, redact } = o;
  const compression = jvmGzip ? 'gzip' : cfg.compression;
  const { namespace, app, name: pod } = cfg.pod;
  const key = dumpKey({
    prefix: cfg.prefix,
    namespace,
    app,
    pod,
    startedAt,
    id: newDumpId(),
    file,
    compression,
  });
  return {
    file,
    dev: st.dev,
    ino: st.ino,
    key,
    startedAt,
    compression,
    redaction: redact,
    metadata: {
      [DUMP_METADATA.pod]: pod,
      [DUMP_METADATA.namespace]: namespace,
      [DUMP_METADATA.node]: cfg.pod.node,
      [DUMP_METADATA.app]: app,
      [DUMP_METADATA.file]: encodeURIComponent(file),
      [DUMP_METADATA.startedAt]: startedAt.toISOString(),
      [DUMP_METADATA.compression]: compression,
      [DUMP_METADATA.redaction]: redact,
      [DUMP_METADATA.uploaderVersion]: o.version,
    },
  };
}
