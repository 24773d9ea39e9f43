// The memory an analysis Job gets (sizing.ts), from the dump's summary.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimateMemory } from '@kube-heapdump/hprof';
import { sizeAnalysis } from '../../src/analysis-controller/sizing.ts';
import { GI, MI, SIZING } from './fixtures.ts';

describe('sizing', () => {
  it("is the analysis's per-object estimate plus memoryPerGiB per GiB of dump, in whole MiB", () => {
    const s = sizeAnalysis({ bytes: 4 * GI, totals: { objects: 10_000_000 } }, SIZING);
    assert.ok(s.fits);
    const expected = estimateMemory(10_000_000, 0) + 4 * 512 * MI;
    assert.equal(s.bytes, Math.ceil(expected / MI) * MI);
  });

  it('past maxMemory says how much it would need instead of sizing a Job', () => {
    const s = sizeAnalysis({ bytes: 40 * GI, totals: { objects: 300_000_000 } }, SIZING);
    assert.equal(s.fits, false);
    assert.ok(!s.fits && s.neededBytes > 16 * GI && s.maxMemoryBytes === 16 * GI);
  });
});
