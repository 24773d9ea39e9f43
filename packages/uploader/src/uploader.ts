// Watches the dump directory and ships every dump in it: on start (dumps left by a previous run first,
// and uploads a previous run began), on inotify events, and on a periodic rescan as a safety net.
import { type FSWatcher, watch } from 'node:fs';
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isDumpFileName, type UploaderConfig } from '@kube-heapdump/contract';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import type { Shipper } from './shipper.ts';
import type { StateStore } from './state.ts';

const RESCAN_MS = 5000;
const RETRY_FAILED_MS = 30_000;

export class Uploader {
  private readonly cfg: UploaderConfig;
  private readonly shipper: Shipper;
  private readonly state: StateStore;
  private readonly log: Logger;
  private readonly metrics: Metrics;
  private readonly active = new Map<string, Promise<boolean>>();
  private readonly retryAfter = new Map<string, number>();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(deps: {
    cfg: UploaderConfig;
    shipper: Shipper;
    state: StateStore;
    log: Logger;
    metrics: Metrics;
  }) {
    this.cfg = deps.cfg;
    this.shipper = deps.shipper;
    this.state = deps.state;
    this.log = deps.log;
    this.metrics = deps.metrics;
  }

  /** Watches until `stop`. */
  async start(): Promise<void> {
    await this.scan();
    this.watcher = watch(this.cfg.dir, (_event, name) => {
      if (name && isDumpFileName(name)) this.consider(name);
    });
    this.watcher.on('error', (err) =>
      this.log.warn({ error: err.message }, 'directory watch failed; rescans continue'),
    );
    this.timer = setInterval(() => void this.scan(), RESCAN_MS);
  }

  /** Stops taking new files and waits for the uploads under way (the pod's grace period bounds this). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.watcher?.close();
    clearInterval(this.timer);
    await Promise.allSettled(this.active.values());
  }

  /** Ships what is in the directory now, waiting for dumps being written; resolves with the number that failed. */
  async once(): Promise<number> {
    await this.scan();
    const results = await Promise.all(this.active.values());
    return results.filter((ok) => !ok).length;
  }

  private async scan(): Promise<void> {
    if (this.stopping) return;
    let names: string[];
    try {
      names = await readdir(this.cfg.dir);
    } catch (err) {
      this.log.error({ dir: this.cfg.dir, error: (err as Error).message }, 'cannot read the dump directory');
      return;
    }
    const present = new Set(names.filter(isDumpFileName));
    for (const file of await this.state.files()) {
      if (present.has(file) || this.active.has(file)) continue;
      const state = await this.state.load(file);
      if (state) await this.shipper.abandon(state, 'its dump file is gone');
    }
    for (const name of present) this.consider(name);
  }

  private consider(name: string): void {
    if (this.stopping || this.active.has(name) || (this.retryAfter.get(name) ?? 0) > Date.now()) return;
    const shipping = this.shipOne(name);
    this.active.set(name, shipping);
    void shipping.finally(() => this.active.delete(name));
  }

  private async shipOne(name: string): Promise<boolean> {
    try {
      await access(join(this.cfg.dir, name));
    } catch {
      return true; // gone between the event and now
    }
    this.metrics.inProgress++;
    try {
      await this.shipper.ship(name);
      this.retryAfter.delete(name);
      return true;
    } catch (err) {
      this.metrics.failed++;
      this.retryAfter.set(name, Date.now() + RETRY_FAILED_MS);
      this.log.error(
        { file: name, error: (err as Error).message },
        'shipping the dump failed; the file is kept and will be retried',
      );
      return false;
    } finally {
      this.metrics.inProgress--;
    }
  }
}
