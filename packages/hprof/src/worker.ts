// The parser on a worker thread, so a process that also moves bytes (the uploader) keeps its event loop free.
import { Worker } from 'node:worker_threads';
import type { HprofSummary } from './summary.ts';
import type { FromWorker, ToWorker, WorkerDigests } from './worker-entry.ts';

export type { WorkerDigests };

/** Bytes sent but not yet parsed beyond which `push` waits: bounds the memory the worker's queue holds. */
const MAX_IN_FLIGHT = 16 * 1024 * 1024;

export class HprofWorker {
  private readonly worker: Worker;
  private readonly failed: Promise<never>;
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private summary: ((s: { summary: HprofSummary; digests?: WorkerDigests }) => void) | undefined;

  constructor(options: { histogram?: boolean } = {}) {
    this.worker = new Worker(new URL('./worker-entry.ts', import.meta.url), {
      workerData: { histogram: options.histogram ?? true },
    });
    this.failed = new Promise((_, reject) => {
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`HPROF worker exited with code ${code}`)));
    });
    this.failed.catch(() => {});
    this.worker.on('message', (m: FromWorker) => {
      if (m.type === 'ack') {
        this.inFlight -= m.bytes;
        if (this.inFlight <= MAX_IN_FLIGHT / 2) this.drained?.();
      } else {
        this.summary?.(m);
      }
    });
  }

  /**
   * Sends a copy of the bytes (the caller may reuse its buffer); waits while the worker is far behind.
   * `parse`: feed them to the parser (false for compressed bytes); `digest`: add them to SHA-256 and CRC32;
   * `transfer`: hand over the chunk's memory instead of copying it (the caller must not touch it again; it
   * must own its whole ArrayBuffer, as Buffer.allocUnsafeSlow gives).
   */
  async push(
    chunk: Uint8Array,
    options: { parse?: boolean; digest?: boolean; transfer?: boolean } = {},
  ): Promise<void> {
    const copy = options.transfer ? chunk : new Uint8Array(chunk);
    this.inFlight += copy.length;
    const message: ToWorker = {
      type: 'chunk',
      chunk: copy,
      parse: options.parse ?? true,
      digest: options.digest ?? false,
    };
    this.worker.postMessage(message, [copy.buffer as ArrayBuffer]);
    if (this.inFlight > MAX_IN_FLIGHT) {
      await Promise.race([new Promise<void>((resolve) => (this.drained = resolve)), this.failed]);
      this.drained = undefined;
    }
  }

  /** The summary of everything pushed; ends the worker. */
  async finish(top = 20): Promise<HprofSummary> {
    return (await this.finishWithDigests(top)).summary;
  }

  /** The summary, and the digests of the bytes pushed with `digest`; ends the worker. */
  async finishWithDigests(top = 20): Promise<{ summary: HprofSummary; digests?: WorkerDigests }> {
    const answer = new Promise<{ summary: HprofSummary; digests?: WorkerDigests }>(
      (resolve) => (this.summary = resolve),
    );
    this.worker.postMessage({ type: 'end', top } satisfies ToWorker);
    try {
      return await Promise.race([answer, this.failed]);
    } finally {
      await this.worker.terminate();
    }
  }

  /** Stops the worker without a summary (the upload was abandoned). */
  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
