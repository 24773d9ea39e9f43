// The parser on a worker thread, so a process that also moves bytes (the uploader) keeps its event loop free.
import { Worker } from 'node:worker_threads';
import type { HprofSummary } from './summary.ts';
import type { ToWorker } from './worker-entry.ts';

export class HprofWorker {
  private readonly worker: Worker;
  private readonly failed: Promise<never>;

  constructor(options: { histogram?: boolean } = {}) {
    this.worker = new Worker(new URL('./worker-entry.ts', import.meta.url), {
      workerData: { histogram: options.histogram ?? true },
    });
    this.failed = new Promise((_, reject) => {
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`HPROF worker exited with code ${code}`)));
    });
    this.failed.catch(() => {});
  }

  /** Sends a copy of the bytes; the caller may reuse its buffer at once. */
  push(chunk: Uint8Array): void {
    const copy = new Uint8Array(chunk);
    this.worker.postMessage({ type: 'chunk', chunk: copy } satisfies ToWorker, [copy.buffer]);
  }

  /** The summary of everything pushed; ends the worker. */
  async finish(top = 20): Promise<HprofSummary> {
    const answer = new Promise<HprofSummary>((resolve) => this.worker.once('message', resolve));
    this.worker.postMessage({ type: 'end', top } satisfies ToWorker);
    try {
      return await Promise.race([answer, this.failed]);
    } finally {
      await this.worker.terminate();
    }
  }
}
