// One upload's state on disk, written in order, one write at a time. Saving may fail (a full dump volume is
// the usual reason: the JVM filled it): then the upload goes on without saving, said once, and a restart
// starts this dump over instead of resuming it. A failed save never fails the upload.
import type { Logger } from './log.ts';
import type { PartRecord, StateStore, UploadState } from './state.ts';

export class Journal {
  private readonly store: StateStore;
  private readonly log: Logger;
  readonly state: UploadState;
  private chain: Promise<void> = Promise.resolve();
  private persistent = true;

  constructor(store: StateStore, state: UploadState, log: Logger) {
    this.store = store;
    this.state = state;
    this.log = log;
  }

  /** Whether the state on disk is complete enough to resume from. */
  get saving(): boolean {
    return this.persistent;
  }

  /** Saves the upload's own fields (after changing them on `state`). */
  saveUpload(): Promise<void> {
    return this.enqueue(() => this.store.save(this.state));
  }

  /** Records a part done. */
  part(record: PartRecord): Promise<void> {
    const parts = this.state.parts;
    const i = parts.findIndex((p) => p.partNumber === record.partNumber);
    if (i >= 0) parts[i] = record;
    else parts.push(record);
    return this.enqueue(() => this.store.savePart(this.state.file, record));
  }

  /** Replaces every recorded part with `state.parts` (a new upload, or a resume that drops some). */
  replaceParts(): Promise<void> {
    return this.enqueue(() => this.store.saveParts(this.state.file, this.state.parts));
  }

  /** Waits for the writes asked for so far. */
  flush(): Promise<void> {
    return this.chain;
  }

  private enqueue(write: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(async () => {
      if (!this.persistent) return;
      try {
        await write();
      } catch (err) {
        this.persistent = false;
        const e = err as NodeJS.ErrnoException;
        this.log.warn(
          { file: this.state.file, key: this.state.key, code: e.code, error: e.message },
          'cannot save the upload state (is the dump volume full?); uploading without it: a restart would start this dump over',
        );
        await this.store.remove(this.state.file).catch(() => {});
      }
    });
    return this.chain;
  }
}
