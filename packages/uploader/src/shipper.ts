// Ships one dump file: the coordinator. It finds or starts the upload (its saved state, else a new key),
// follows the writer while part production feeds the multipart session within the process-wide budget,
// completes and verifies the object; finish-dump.ts then writes the summary and frees the volume.
// Restarts under a new key when the store lost the upload; adopts the object when a lost answer hid a
// completion that happened; uploads again under a new key a file that changed under the upload (FileChanged).
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  DUMP_METADATA,
  type DumpIntegrity,
  dumpKey,
  type FileKind,
  fileKind,
  newDumpId,
  parseDumpKey,
  type RedactMode,
  UPLOADER_DEFAULTS,
  type UploaderConfig,
} from '@kube-heapdump/contract';
import { Adapt } from './adapt.ts';
import { MAX_DUMP_BYTES } from './blocks.ts';
import {
  FileChanged,
  fileMark,
  openRegular,
  Refused,
  sameMark,
  startsAsGzip,
  waitQuiet,
} from './dump-file.ts';
import { finishDump } from './finish-dump.ts';
import { DumpFollower } from './follower.ts';
import { InFlight } from './in-flight.ts';
import { Journal } from './journal.ts';
import type { Limiter } from './limiter.ts';
import type { Logger } from './log.ts';
import { cpuSeconds, type Metrics } from './metrics.ts';
import { createUpload, MultipartSession, Restart, type SessionDeps } from './multipart.ts';
import type { Notifier } from './notify.ts';
import { lastPart, partsToSend, resumedTimes, verifySent } from './resume.ts';
import type { RetryPolicy } from './s3.ts';
import { redaction, type StateStore, type UploadState } from './state.ts';

export interface ShipperDeps {
  cfg: UploaderConfig;
  s3: S3Client;
  log: Logger;
  metrics: Metrics;
  state: StateStore;
  retry: RetryPolicy;
  limiter: Limiter;
  version: string;
  pollMs: number;
  /** Aborted at shutdown: retries stop. */
  stopping?: AbortSignal;
  /** Told of each dump stored (in the background: it never holds up or fails shipping). */
  notify?: Notifier;
}

export class Shipper {
  private readonly d: ShipperDeps;
  constructor(deps: ShipperDeps) {
    this.d = deps;
  }

  private sessionDeps(): SessionDeps {
    const { cfg, s3, log, metrics, retry, stopping } = this.d;
    return {
      s3,
      bucket: cfg.bucket,
      checksum: cfg.checksum,
      log,
      retry: {
        policy: retry,
        log,
        onError: (code) => metrics.s3Error(code),
        ...(stopping ? { stopping } : {}),
      },
      onBytes: (n) => {
        metrics.bytesUploaded += n;
      },
    };
  }

  /** A saved state is this pod's only if its key is one of this pod's keys. */
  readonly ownState = (s: UploadState): string | undefined => {
    const { prefix, pod } = this.d.cfg;
    const parsed = parseDumpKey(prefix, s.key);
    const mine =
      parsed && parsed.namespace === pod.namespace && parsed.app === pod.app && parsed.pod === pod.name;
    return mine ? undefined : `its key ${s.key} is not one of this pod's`;
  };

  /** What parts of new uploads are redacted with. */
  private get redact(): RedactMode {
    return this.d.cfg.redact ?? UPLOADER_DEFAULTS.redact;
  }

  /** Bytes of a dump never read past. */
  private get maxBytes(): number {
    return Math.min(this.d.cfg.maxDumpBytes ?? MAX_DUMP_BYTES, MAX_DUMP_BYTES);
  }

  /** Ships the dump file `file`; throws Refused when it is not one to read. */
  async ship(file: string): Promise<void> {
    const { cfg, log } = this.d;
    const { fh, st } = await openRegular(join(cfg.dir, file), {
      ...(cfg.ownerUid !== undefined ? { ownerUid: cfg.ownerUid } : {}),
      maxBytes: this.maxBytes,
    });
    try {
      const kind = fileKind(file) ?? 'heap-dump';
      if (kind !== 'heap-dump') {
        // Crash logs and recordings hold the environment and system properties, and only HPROF is redacted.
        if (this.redact !== 'none')
          throw new Refused(
            'cannot-redact',
            `it is a ${kind} file, which cannot be redacted (${this.redact}); it is kept, not shipped`,
          );
        await waitQuiet(fh, cfg.quietSeconds * 1000, this.d.pollMs, this.d.stopping);
      }
      // The JVM gzipped it: stored as it is, declared gzip (object, key and summary), never compressed again.
      const gzipped =
        kind === 'heap-dump' && (await startsAsGzip(fh, cfg.quietSeconds * 1000, this.d.pollMs));
      if (this.redact !== 'none' && gzipped) {
        throw new Refused(
          'cannot-redact',
          `the JVM compressed it (-XX:HeapDumpGzipLevel), so it cannot be redacted (${this.redact}) in place; it is kept, not shipped`,
        );
      }
      const loaded = await this.d.state.load(file, this.ownState);
      if (loaded && 'discarded' in loaded) {
        log.warn({ file, why: loaded.discarded }, 'discarded a saved upload state that cannot be trusted');
      }
      let resumed = loaded && 'state' in loaded ? loaded.state : undefined;
      const same = (s: UploadState) => s.ino === st.ino && s.dev === st.dev;
      if (resumed?.doneAt && same(resumed)) return; // shipped before, file kept
      if (resumed && !same(resumed)) {
        await this.abandon(resumed, 'a new file replaced the one being uploaded');
        resumed = undefined;
      }
      if (resumed && !resumed.completedAt && (resumed.redaction ?? 'none') !== this.redact) {
        await this.abandon(
          resumed,
          `its parts were redacted with ${resumed.redaction ?? 'none'}, not ${this.redact}`,
        );
        resumed = undefined;
      }
      for (let changes = 0; ; ) {
        try {
          await this.shipOnce(fh, { file, kind }, st, gzipped, resumed);
          return;
        } catch (err) {
          if (!(err instanceof Restart || err instanceof FileChanged)) throw err;
          const current = await this.d.state.load(file, this.ownState);
          const state = current && 'state' in current ? current.state : undefined;
          if (err instanceof FileChanged) {
            // Whatever was stored under this key is not this file's bytes: it gets no summary, and the file
            // is kept. A file that keeps changing is left for the next attempt (said by the caller).
            if (++changes > MAX_CHANGES) throw new Error(`${err.message}; it keeps changing, so it is kept`);
            log.warn(
              { file, key: state?.key, why: err.message, objectStored: Boolean(state?.completedAt) },
              'the dump file changed while it was uploaded: uploading it again under a new key, the file kept until then',
            );
          }
          if (state) await this.abandon(state, err.message, !(err instanceof FileChanged));
          resumed = undefined;
        }
      }
    } finally {
      await fh.close();
    }
  }

  /** Aborts an upload we will not finish, and forgets it (`say`: log it, unless the caller already did). */
  async abandon(state: UploadState, why: string, say = true): Promise<void> {
    if (!state.completedAt && !state.doneAt) {
      await new MultipartSession(this.sessionDeps(), new Journal(this.d.state, state, this.d.log)).abort();
      if (say) this.d.log.info({ file: state.file, key: state.key, why }, 'upload abandoned');
    }
    await this.d.state.remove(state.file);
  }

  private async start(
    fh: FileHandle,
    file: string,
    st: { dev: number; ino: number },
    gzipped: boolean,
  ): Promise<Journal> {
    const { cfg, log } = this.d;
    const birth = (await fh.stat()).birthtime;
    const startedAt = birth.getTime() > 0 ? birth : new Date();
    const compression = gzipped ? 'gzip' : cfg.compression;
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
    const state = await createUpload(this.sessionDeps(), {
      file,
      dev: st.dev,
      ino: st.ino,
      key,
      startedAt,
      compression,
      redaction: this.redact,
      metadata: {
        [DUMP_METADATA.pod]: pod,
        [DUMP_METADATA.namespace]: namespace,
        [DUMP_METADATA.node]: cfg.pod.node,
        [DUMP_METADATA.app]: app,
        [DUMP_METADATA.file]: encodeURIComponent(file),
        [DUMP_METADATA.startedAt]: startedAt.toISOString(),
        [DUMP_METADATA.compression]: compression,
        [DUMP_METADATA.redaction]: this.redact,
        [DUMP_METADATA.uploaderVersion]: this.d.version,
      },
    });
    const journal = new Journal(this.d.state, state, log);
    await journal.saveUpload();
    await journal.replaceParts();
    return journal;
  }

  private async shipOnce(
    fh: FileHandle,
    { file, kind }: { file: string; kind: FileKind },
    st: { dev: number; ino: number },
    jvmGzipped: boolean,
    resumed: UploadState | undefined,
  ): Promise<void> {
    const { cfg, log } = this.d;
    const journal = resumed
      ? new Journal(this.d.state, resumed, log)
      : await this.start(fh, file, st, jvmGzipped);
    const session = new MultipartSession(this.sessionDeps(), journal);
    const state = journal.state;
    const follower = new DumpFollower(fh, {
      hprof: kind === 'heap-dump',
      gzip: jvmGzipped,
      // Other kinds were quiet before their upload began (waitQuiet).
      quietMs: kind === 'heap-dump' ? cfg.quietSeconds * 1000 : this.d.pollMs,
      pollMs: this.d.pollMs,
      maxBytes: this.maxBytes,
    });
    log.info(
      {
        file,
        kind,
        key: state.key,
        resumed: Boolean(resumed),
        partsDone: state.parts.length,
        compression: state.compression,
        redaction: state.redaction ?? 'none',
      },
      resumed ? 'resuming dump upload' : 'dump detected, uploading while it is written',
    );
    const adapt = new Adapt((cost) => this.d.limiter.wouldGrant(cost));
    const following = follower.follow();
    following.catch(() => {}); // awaited below; a failure also rejects the producers' waitFor
    if (!state.completedAt) {
      const inFlight = new InFlight(this.d.limiter);
      try {
        for await (const plan of partsToSend({ fh, follower, session, adapt, asIs: jvmGzipped })) {
          await inFlight.start(plan.cost, async () => {
            adapt.partStarted(performance.now());
            let stored = 0;
            try {
              await session.uploadPart(plan);
              stored = plan.size;
            } finally {
              plan.release?.();
              adapt.partEnded(stored, performance.now());
            }
          });
        }
        await inFlight.drain();
      } catch (err) {
        follower.stop();
        await inFlight.drain().catch(() => {});
        await following.catch(() => {});
        await journal.flush();
        throw err;
      }
    }
    const followed = await following;
    await journal.flush();
    log.info(
      { file, bytes: followed.size, verdict: followed.verdict, reason: followed.reason },
      'dump written',
    );
    const storedBytes = state.parts.reduce((n, p) => n + p.size, 0);
    const sentSha256 = lastPart(state.parts)?.sha256;
    let object: DumpIntegrity['object'] = 'none';
    let etag: string | undefined;
    if (!state.completedAt) {
      // Written to since the writer was done (the JVM never is): complete only the bytes the file holds.
      if (!sameMark(await fileMark(fh), followed.mark) && sentSha256 !== undefined) {
        await verifySent(fh, followed.size, sentSha256, redaction(state.redaction));
      }
      const completed = await session.complete();
      object = completed.object;
      etag = completed.etag;
      state.completedAt = new Date().toISOString();
      await journal.saveUpload();
    }
    const verified = await session.verify(storedBytes, cfg.pod.name, etag);
    if (object === 'none' && verified.etagProved) object = 'etag';
    const integrity: DumpIntegrity = { parts: session.partsIntegrity(), object, head: verified.head };
    const uploadedAt = new Date();
    const times = resumed ? resumedTimes(followed, state.startedAt) : followed;
    const seconds = (uploadedAt.getTime() - times.firstByteAt.getTime()) / 1000;
    const afterDumpSeconds = (uploadedAt.getTime() - times.doneAt.getTime()) / 1000;
    log.info(
      {
        file,
        key: state.key,
        originalBytes: followed.size,
        storedBytes,
        rawBlocks: adapt.rawBlocks,
        seconds,
        afterDumpSeconds,
        integrity,
        cpuSeconds: cpuSeconds(),
      },
      'dump object complete',
    );

    await finishDump(
      { ...this.d, retry: this.sessionDeps().retry },
      {
        fh,
        file,
        kind,
        st,
        journal,
        followed: { ...followed, ...times },
        ...(sentSha256 !== undefined ? { sentSha256 } : {}),
        gzip: jvmGzipped,
        storedBytes,
        integrity,
        uploadedAt,
        seconds,
        afterDumpSeconds,
      },
    );
  }
}

/** Restarts after FileChanged within one attempt to ship a file, before it is left for later. */
const MAX_CHANGES = 3;
