// Resume, restart or abandon: every decision about a dump's saved upload, in one place (state.ts is what is
// saved, journal.ts saves it). A saved upload is resumed only for the file it was made for (same device and
// inode) and only if its parts were redacted as new ones would be; otherwise it is abandoned (aborted in the
// store, forgotten here), as it is when its file is gone. When the store lost the upload (Restart) or the file
// changed under it (FileChanged), it is abandoned and the dump starts over under a new key. Once the dump is
// stored, its state goes with the file, or stays, marked done, while the file is kept.
import { parseDumpKey, type RedactMode, type UploaderConfig } from '@kube-heapdump/contract';
import { FileChanged } from './dump-file.ts';
import { Journal } from './journal.ts';
import type { Logger } from './log.ts';
import { MultipartSession, type Restart, type SessionDeps } from './multipart.ts';
import type { OpenDump } from './open-dump.ts';
import type { StateStore, UploadState } from './state.ts';

/** Restarts after FileChanged within one attempt to ship a file, before it is left for later. */
const MAX_CHANGES = 3;

export interface ResumeDeps {
  cfg: UploaderConfig;
  store: StateStore;
  log: Logger;
  /** For aborting the uploads abandoned. */
  session: SessionDeps;
}

export class Resume {
  private readonly d: ResumeDeps;
  constructor(deps: ResumeDeps) {
    this.d = deps;
  }

  /** A saved state is this pod's only if its key is one of this pod's keys. */
  readonly ownState = (s: UploadState): string | undefined => {
    const { prefix, pod } = this.d.cfg;
    const parsed = parseDumpKey(prefix, s.key);
    const mine =
      parsed && parsed.namespace === pod.namespace && parsed.app === pod.app && parsed.pod === pod.name;
    return mine ? undefined : `its key ${s.key} is not one of this pod's`;
  };

  /** Each scan: saved states that cannot be trusted are discarded, uploads of files gone are abandoned. */
  async sweep(kept: (file: string) => boolean): Promise<void> {
    const { store, log } = this.d;
    for (const id of await store.ids()) {
      const loaded = await store.loadId(id, this.ownState);
      if (!loaded) continue;
      if ('discarded' in loaded) {
        log.warn(
          { stateId: id, why: loaded.discarded },
          'discarded a saved upload state that cannot be trusted',
        );
        continue;
      }
      if (kept(loaded.state.file)) continue;
      await this.abandon(loaded.state, 'its dump file is gone');
    }
  }

  /**
   * The saved upload to resume for the dump: its journal, `shipped` when the dump was shipped before and its
   * file kept, or undefined when a new upload is to start (a saved one that does not fit is abandoned).
   */
  async find(
    dump: Pick<OpenDump, 'file' | 'st'>,
    redact: RedactMode,
  ): Promise<Journal | 'shipped' | undefined> {
    const { store, log } = this.d;
    const { file, st } = dump;
    const loaded = await store.load(file, this.ownState);
    if (loaded && 'discarded' in loaded) {
      log.warn({ file, why: loaded.discarded }, 'discarded a saved upload state that cannot be trusted');
    }
    const saved = loaded && 'state' in loaded ? loaded.state : undefined;
    if (!saved) return undefined;
    const same = saved.ino === st.ino && saved.dev === st.dev;
    if (saved.doneAt && same) return 'shipped'; // shipped before, file kept
    if (!same) {
      await this.abandon(saved, 'a new file replaced the one being uploaded');
      return undefined;
    }
    if (!saved.completedAt && (saved.redaction ?? 'none') !== redact) {
      await this.abandon(saved, `its parts were redacted with ${saved.redaction ?? 'none'}, not ${redact}`);
      return undefined;
    }
    return new Journal(store, saved, log);
  }

  /** Journals a new upload, saved before its first part is sent. */
  async begin(state: UploadState): Promise<Journal> {
    const journal = new Journal(this.d.store, state, this.d.log);
    await journal.saveUpload();
    await journal.replaceParts();
    return journal;
  }

  /**
   * The upload under way cannot go on (Restart: the store lost it; FileChanged: the file is not what was sent):
   * it is abandoned and the next attempt starts a new key. `changes`: FileChanged so far in this attempt to
   * ship the file; past MAX_CHANGES the file is left for later (said by the caller).
   */
  async restart(file: string, err: Restart | FileChanged, changes: number): Promise<void> {
    const current = await this.d.store.load(file, this.ownState);
    const state = current && 'state' in current ? current.state : undefined;
    if (err instanceof FileChanged) {
      // Whatever was stored under this key is not this file's bytes: it gets no summary, and the file is kept.
      if (changes > MAX_CHANGES) throw new Error(`${err.message}; it keeps changing, so it is kept`);
      this.d.log.warn(
        { file, key: state?.key, why: err.message, objectStored: Boolean(state?.completedAt) },
        'the dump file changed while it was uploaded: uploading it again under a new key, the file kept until then',
      );
    }
    if (state) await this.abandon(state, err.message, !(err instanceof FileChanged));
  }

  /** Aborts an upload we will not finish, and forgets it (`say`: log it, unless the caller already did). */
  async abandon(state: UploadState, why: string, say = true): Promise<void> {
    const { store, log } = this.d;
    if (!state.completedAt && !state.doneAt) {
      await new MultipartSession(this.d.session, new Journal(store, state, log)).abort();
      if (say) log.info({ file: state.file, key: state.key, why }, 'upload abandoned');
    }
    await store.remove(state.file);
  }

  /** The dump is stored: its state goes with the file, or, while the file is kept, says never to ship it again. */
  async stored(journal: Journal): Promise<void> {
    if (this.d.cfg.deleteAfterUpload) {
      await this.d.store.remove(journal.state.file);
      return;
    }
    journal.state.doneAt = new Date().toISOString();
    await journal.saveUpload();
    await journal.flush();
  }
}
