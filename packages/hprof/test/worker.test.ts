import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HprofParser, HprofWorker, summarize } from '../src/index.ts';
import { sampleDump } from './synthetic.ts';

describe('HprofWorker', () => {
  it('summarizes on a worker thread exactly as the parser does in-process', async () => {
    const bytes = sampleDump(8);
    const worker = new HprofWorker();
    for (let i = 0; i < bytes.length; i += 100) {
      const chunk = Buffer.from(bytes.subarray(i, i + 100));
      await worker.push(chunk);
      chunk.fill(0); // the worker got its own copy
    }
    const p = new HprofParser();
    p.push(bytes);
    assert.deepEqual(await worker.finish(5), summarize(p, 5));
  });

  it('reports an invalid dump as invalid, not as a crash', async () => {
    const worker = new HprofWorker();
    await worker.push(Buffer.from('definitely not a heap dump'));
    const s = await worker.finish();
    assert.equal(s.verdict, 'invalid');
    assert.match(s.reason!, /not an HPROF file/);
  });
});
