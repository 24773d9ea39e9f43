// Worker side of HprofWorker: parses the chunks it is sent, answers with the summary at the end.
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { crc32 } from 'node:zlib';
import { HprofParser } from './parser.ts';
import { type HprofSummary, summarize } from './summary.ts';

export type ToWorker =
  | { type: 'chunk'; chunk: Uint8Array; parse: boolean; digest: boolean }
  | { type: 'end'; top: number };
export type FromWorker =
  | { type: 'ack'; bytes: number }
  | { type: 'summary'; summary: HprofSummary; digests?: WorkerDigests };

/** SHA-256 (hex) and CRC32 of the bytes pushed, as they were pushed (before any decompression). */
export interface WorkerDigests {
  sha256: string;
  crc32: number;
}

const parser = new HprofParser({ histogram: (workerData as { histogram: boolean }).histogram });
const sha = createHash('sha256');
let crc = 0;
let digested = false;
parentPort!.on('message', (message: ToWorker) => {
  if (message.type === 'chunk') {
    if (message.digest) {
      sha.update(message.chunk);
      crc = crc32(message.chunk, crc);
      digested = true;
    }
    if (message.parse) parser.push(message.chunk);
    parentPort!.postMessage({ type: 'ack', bytes: message.chunk.length });
  } else {
    const digests = digested ? { sha256: sha.digest('hex'), crc32: crc } : undefined;
    parentPort!.postMessage({ type: 'summary', summary: summarize(parser, message.top), digests });
  }
});
