// Ships one dump file: the pipeline. resume.ts finds the saved upload to resume (or the shipper starts one
// under a new key); the writer is followed while part production feeds the multipart session within the
// process-wide budget; the object is completed and verified; finish-dump.ts then writes the summary and frees
// the volume. When the store lost the upload (Restart) or the file changed under it (FileChanged), resume.ts
// abandons it and the dump is shipped again under a new key; a lost answer that hid a completion that
// happened is adopted by multipart.ts.
import type { S3Client } from '@aws-sdk/client-s3';
import {
  type DumpIntegrity,
  type RedactMode,
  UPLOADER_DEFAULTS,
  type UploaderConfig,
} from '@kube-heapdump/contract';
import { Adapt } from './adapt.ts';
import { MAX_DUMP_BYTES } from './blocks.ts';
import { FileChanged, fileMark, sameMark } from './dump-file.ts';
import { finishDump } from './finish-dump.ts';
import { DumpFollower } from './follower.ts';
import { InFlight } from './in-flight.ts';
import type { Journal } from './journal.ts';
import type { Limiter } from './limiter.ts';
import type { Logger } from './log.ts';
import { cpuSeconds, type Metrics } from './metrics.ts';
import { createUpload, MultipartSession, Restart, type SessionDeps } from './multipart.ts';
import { newUpload } from './new-upload.ts';
import type { Notifier } from './notify.ts';
import { type OpenDump, openDump } from './open-dump.ts';
import { Resume } from './resume.ts';
import type { RetryPolicy } from './s3.ts';
import { lastPart, partsToSend, resumedTimes, verifySent } from './sent-bytes.ts';
import { redaction, type StateStore } from './state.ts';

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
  private readonly session: SessionDeps;
  /** Every decision about saved uploads: the uploader's scan uses it too. */
  readonly resume: Resume;

  constructor(deps: ShipperDeps) {
    this.d = deps;
    const { cfg, s3, log, metrics, retry, stopping, state } = deps;
    this.session = {
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
    this.resume = new Resume({ cfg, store: state, log, session: this.session });
  }

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
    const { cfg } = this.d;
    const dump = await openDump(file, {
      dir: cfg.dir,
      ...(cfg.ownerUid !== undefined ? { ownerUid: cfg.ownerUid } : {}),
      maxBytes: this.maxBytes,
      quietMs: cfg.quietSeconds * 1000,
      pollMs: this.d.pollMs,
      ...(this.d.stopping ? { stopping: this.d.stopping } : {}),
      redact: this.redact,
    });
    try {
      let resumed = await this.resume.find(dump, this.redact);
      if (resumed === 'shipped') return;
      for (let changes = 0; ; ) {
        try {
          await this.shipOnce(dump, resumed);
          return;
        } catch (err) {
          if (!(err instanceof Restart || err instanceof FileChanged)) throw err;
          if (err instanceof FileChanged) changes++;
          await this.resume.restart(file, err, changes);
          resumed = undefined;
        }
      }
    } finally {
      await dump.fh.close();
    }
  }

  /** Starts a new upload of the dump under a new key. */
  private async start(dump: OpenDump): Promise<Journal> {
    const birth = (await dump.fh.stat()).birthtime;
    const startedAt = birth.getTime() > 0 ? birth : new Date();
    const upload = newUpload(this.d.cfg, dump, { startedAt, redact: this.redact, version: this.d.version });
    return this.resume.begin(await createUpload(this.session, upload));
  }

  private async shipOnce(dump: OpenDump, resumed: Journal | undefined): Promise<void> {
    const { cfg, log } = this.d;
    const { fh, file, kind, jvmGzip } = dump;
    const journal = resumed ?? (await this.start(dump));
    const follower = new DumpFollower(fh, {
      hprof: kind === 'heap-dump',
      gzip: jvmGzip,
      // Other kinds were quiet before their upload began (waitQuiet).
      quietMs: kind === 'heap-dump' ? cfg.quietSeconds * 1000 : this.d.pollMs,
      pollMs: this.d.pollMs,
      maxBytes: this.maxBytes,
    });
    const session = new MultipartSession(this.session, journal);
    const state = journal.state;
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
        for await (const plan of partsToSend({ fh, follower, session, adapt, asIs: jvmGzip })) {
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
      { ...this.d, retry: this.session.retry, resume: this.resume },
      {
        ...dump,
        journal,
        followed: { ...followed, ...times },
        ...(sentSha256 !== undefined ? { sentSha256 } : {}),
        storedBytes,
        integrity,
        uploadedAt,
        seconds,
        afterDumpSeconds,
      },
    );
  }
}
