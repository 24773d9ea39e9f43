// Worker side of HprofWorker: parses the chunks it is sent, answers with the summary at the end.
import { parentPort, workerData } from 'node:worker_threads';
import { HprofParser } from './parser.ts';
import { summarize } from './summary.ts';

export type ToWorker = { type: 'chunk'; chunk: Uint8Array } | { type: 'end'; top: number };

const parser = new HprofParser({ histogram: (workerData as { histogram: boolean }).histogram });
parentPort!.on('message', (message: ToWorker) => {
  if (message.type === 'chunk') parser.push(message.chunk);
  else parentPort!.postMessage(summarize(parser, message.top));
});
