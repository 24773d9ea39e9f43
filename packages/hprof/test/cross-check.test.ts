// Our analysis against hprof-analyzer (crates.io; Eclipse MAT's conventions, dominators by Cooper-Harvey-
// Kennedy), a tool nobody here wrote, on the same real dump: the same leak suspect and accumulation point
// with the same retained sizes, and the same largest dominators. Differences come only from stated
// conventions: hprof-analyzer counts a class object as its static fields without a header (we add the
// 12-byte header), so a class object's retained size is 16 bytes apart per class object it dominates.
// Runs when `scripts/peer-tools` has built the tool (about 7 minutes once on 2 cores); skipped otherwise.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { HeapAnalysis } from '@kube-heapdump/contract';
import { HeldJvm } from '../../../test/support/java.ts';
import { analyzeHeap, fileSource } from '../src/index.ts';

const exec = promisify(execFile);
const TOOL = join(
  process.env.HEAPDUMP_CARGO_ROOT ?? '/var/cache/kube-heapdump/cargo',
  'bin',
  'hprof-analyzer',
);
const skip = existsSync(TOOL)
  ? false
  : `hprof-analyzer is not installed: scripts/peer-tools builds it into ${TOOL}`;

interface PeerObject {
  display_class: string;
  shallow: number;
  retained: number;
}
interface PeerReport {
  top: { biggest_objects: PeerObject[] };
  leaks: {
    suspects: {
      is_single: boolean;
      retained: number;
      accumulation_class: string | null;
      accumulation_retained: number | null;
    }[];
  };
}

describe('cross-check with hprof-analyzer', { skip }, () => {
  let dir: string;
  let ours: HeapAnalysis;
  let peer: PeerReport;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cross-check-'));
    const dump = join(dir, 'leak.hprof');
    const jvm = await HeldJvm.startMain('RetainFixture', ['leak'], ['-Xmx256m']);
    try {
      await jvm.dump(dump);
    } finally {
      await jvm.close();
    }
    ours = await analyzeHeap(await fileSource(dump), { top: 20 });
    const out = join(dir, 'report.json');
    await exec(TOOL, ['--progress', 'never', dump, out], { maxBuffer: 64 << 20 });
    peer = JSON.parse(await readFile(out, 'utf8')) as PeerReport;
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('finds the same accumulation point of the top suspect, with the same retained size', () => {
    const theirs = peer.leaks.suspects[0]!;
    const mine = ours.suspects[0]!;
    assert.equal(theirs.accumulation_class?.replaceAll('/', '.'), mine.accumulationPoint.className);
    assert.equal(theirs.accumulation_retained, mine.accumulationPoint.retainedBytes);
  });

  it('finds the same largest dominators, retained sizes apart only by class object headers', () => {
    const theirs = peer.top.biggest_objects.slice(0, 5);
    const mine = ours.topDominators.slice(0, 5);
    for (const [i, t] of theirs.entries()) {
      const m = mine[i]!;
      const isClass = m.className.startsWith('class ');
      if (!isClass) {
        assert.equal(t.retained, m.retainedBytes, `#${i + 1} ${m.className}`);
        continue;
      }
      const apart = m.retainedBytes - t.retained;
      assert.ok(
        apart > 0 && apart % 8 === 0 && apart <= 16 * 1000,
        `#${i + 1} ${m.className}: ${apart} bytes apart`,
      );
    }
  });
});
