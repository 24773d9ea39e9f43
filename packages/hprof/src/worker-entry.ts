// Worker side of HprofWorker: parses the chunks it is sent, answers with the summary at the end.
import { parentPort, workerData } from 'node:worker_threads';
import { HprofParser } from './parser.ts';
import { type HprofSummary, summarize } from './summary.ts';

export type ToWorker = { type: 'chunk'; chunk: Uint8Array } | { type: 'end'; top: number };
export type FromWorker = { type: 'ack'; bytes: number } | { type: 'summary'; summary: HprofSummary };

const parser = new HprofParser({ histogram: (workerData as { histogram: boolean }).histogram });
parentPort!.on('message', (message: ToWorker) => {
  if (message.type === 'chunk') {
    parser.push(message.chunk);
    parentPort!.postMessage({ type: 'ack', bytes: message.chunk.length });
  } else {
    parentPort!.postMessage({ type: 'summary', summary: summarize(parser, message.top) });
  }
});
