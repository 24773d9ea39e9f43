// Watches the dump directory and ships every dump in it: on start (dumps left by a previous run first,
// and uploads a previous run began), on inotify events, and on a periodic rescan as a safety net. A few
// dumps ship at once (they share one budget of connections and memory); more wait in line.
import { type FSWatcher, watch } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isDumpFileName, type UploaderConfig } from '@kube-heapdump/contract';
import { Refused } from './dump-file.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import type { Resume } from './resume.ts';
import type { Shipper } from './shipper.ts';

const RESCAN_MS = 5000;
const RETRY_FAILED_MS = 30_000;
/** Dumps shipping at once; the rest wait (memory is bounded by the shared budget, not by this). */
export const MAX_ACTIVE_DUMPS = 4;

export class Uploader {
  private readonly cfg: UploaderConfig;
  private readonly shipper: Pick<Shipper, 'ship'>;
  private readonly resume: Pick<Resume, 'sweep'>;
  private readonly log: Logger;
  private readonly metrics: Metrics;
  private readonly active = new Map<string, Promise<boolean>>();
  private readonly queued = new Set<string>();
  private readonly retryAfter = new Map<string, number>();
  /** Names refused, with what they were (device, inode, type, links): told once, looked at again when changed. */
  private readonly refused = new Map<string, string>();
  private readonly settledListeners = new Set<() => void>();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(deps: {
    cfg: UploaderConfig;
    shipper: Pick<Shipper, 'ship'>;
    resume: Pick<Resume, 'sweep'>;
    log: Logger;
    metrics: Metrics;
  }) {
    this.cfg = deps.cfg;
    this.shipper = deps.shipper;
    this.resume = deps.resume;
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

  /**
   * Stops taking new files; the dumps under way and those already waiting in line still ship (the pod's volume
   * goes with the pod), until main's shutdown deadline ends the process.
   */
  async stop(): Promise<void> {
    // A recording the JVM dumped as it exited (or its crash log) appears just before this container is told
    // to stop (native sidecars stop after the app containers): one last look, then no new files.
    await this.scan();
    this.stopping = true;
    this.watcher?.close();
    clearInterval(this.timer);
    while (this.active.size > 0 || this.queued.size > 0) {
      await new Promise<void>((resolve) => {
        this.settledListeners.add(resolve);
      });
    }
  }

  /** Ships what is in the directory now, waiting for dumps being written; resolves with the number that failed. */
  async once(): Promise<number> {
    let failed = 0;
    const counted = new Set<Promise<boolean>>();
    await this.scan();
    while (this.active.size > 0 || this.queued.size > 0) {
      for (const p of this.active.values()) {
        if (counted.has(p)) continue;
        counted.add(p);
        void p.then((ok) => {
          if (!ok) failed++;
        });
      }
      await new Promise<void>((resolve) => {
        this.settledListeners.add(resolve);
      });
    }
    return failed;
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
    await this.resume.sweep((file) => present.has(file) || this.active.has(file));
    for (const name of present) this.consider(name);
  }

  private consider(name: string): void {
    // Once stopping, only a dump already waiting in line may still start.
    if (this.stopping && !this.queued.has(name)) return;
    if (this.active.has(name) || (this.retryAfter.get(name) ?? 0) > Date.now()) return;
    if (this.active.size >= MAX_ACTIVE_DUMPS) {
      if (!this.queued.has(name)) {
        this.queued.add(name);
        this.log.info({ file: name, queued: this.queued.size, active: this.active.size }, 'dump queued');
      }
      return;
    }
    this.queued.delete(name);
    const shipping = this.shipOne(name);
    this.active.set(name, shipping);
    void shipping.finally(() => {
      this.active.delete(name);
      const next = [...this.queued].find((n) => (this.retryAfter.get(n) ?? 0) <= Date.now());
      if (next !== undefined) this.consider(next);
      // Stopping, what waits only to be retried later cannot ship in this run: its file stays for the next.
      else if (this.stopping) this.queued.clear();
      for (const l of this.settledListeners) l();
      this.settledListeners.clear();
    });
  }

  private async shipOne(name: string): Promise<boolean> {
    let identity: string;
    try {
      const st = await lstat(join(this.cfg.dir, name));
      identity = `${st.dev}:${st.ino}:${st.mode}:${st.nlink}`;
    } catch {
      this.refused.delete(name);
      return true; // gone between the event and now
    }
    if (this.refused.get(name) === identity) return true;
    this.refused.delete(name);
    this.metrics.inProgress++;
    try {
      await this.shipper.ship(name);
      this.retryAfter.delete(name);
      return true;
    } catch (err) {
      if (err instanceof Refused) {
        this.refused.set(name, identity);
        this.metrics.refused++;
        this.log.warn(
          { file: name, reason: err.reason, why: err.message },
          'not shipped: not a dump file the uploader may read',
        );
        return true;
      }
      this.metrics.failed++;
      this.retryAfter.set(name, Date.now() + RETRY_FAILED_MS);
      this.log.error(
        { file: name, error: (err as Error).message },
        'shipping the dump failed; the file is kept',
      );
      return false;
    } finally {
      this.metrics.inProgress--;
    }
  }
}
