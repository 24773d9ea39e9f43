// The uploader's queue in-process (uploader.ts): which files of the directory ship, how many at once, what
// waits in line, what a failure or a refusal leaves for the next scan, and what stopping still ships. The
// shipper and the saved-upload sweep are stand-ins here; the real ones run in the e2e suites.
import assert from 'node:assert/strict';
import { chmod, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Refused } from '../src/dump-file.ts';
import { Metrics } from '../src/metrics.ts';
import { MAX_ACTIVE_DUMPS, Uploader } from '../src/uploader.ts';
import { logLines, podConfig, suiteDirs } from './fixtures.ts';

/**
 * A stand-in shipper: each ship waits until the test lets it go, and ends as `outcome` says; with `removes`, a
 * dump shipped is removed from the directory, as the real shipper frees the volume.
 */
class FakeShipper {
  readonly started: string[] = [];
  private readonly dir: string;
  active = 0;
  mostActive = 0;
  private readonly waiting: (() => void)[] = [];
  held = true;
  outcome: (file: string) => Error | undefined = () => undefined;
  removes = false;
  constructor(dir: string) {
    this.dir = dir;
  }

  async ship(file: string): Promise<void> {
    this.started.push(file);
    this.mostActive = Math.max(this.mostActive, ++this.active);
    try {
      if (this.held) await new Promise<void>((go) => this.waiting.push(go));
      else await new Promise((r) => setImmediate(r));
      const err = this.outcome(file);
      if (err) throw err;
      if (this.removes) await rm(join(this.dir, file), { force: true });
    } finally {
      this.active--;
    }
  }

  /** Resolves once `count` ships have started (each starts after the uploader looked at its file). */
  async startedAtLeast(count: number): Promise<void> {
    while (this.started.length < count) await new Promise((r) => setImmediate(r));
  }

  /** Lets every ship waiting now and later go on. */
  release(): void {
    this.held = false;
    for (const go of this.waiting.splice(0)) go();
  }
}

describe('the uploader queue (uploader.ts)', () => {
  const newDir = suiteDirs('kh-queue-');
  async function setUp(files: string[]) {
    const dir = await newDir();
    for (const f of files) await writeFile(join(dir, f), 'JAVA PROFILE 1.0.2\0');
    const { log, lines } = logLines('info');
    const cfg = podConfig(dir, undefined);
    const shipper = new FakeShipper(dir);
    const swept: ((file: string) => boolean)[] = [];
    const metrics = new Metrics();
    const uploader = new Uploader({
      cfg,
      shipper,
      resume: {
        sweep: async (kept) => {
          swept.push(kept);
        },
      },
      log,
      metrics,
    });
    return { dir, shipper, swept, metrics, uploader, lines };
  }

  it(`ships every dump file in the directory, ${MAX_ACTIVE_DUMPS} at once, the others in line`, async () => {
    const dumps = Array.from({ length: MAX_ACTIVE_DUMPS + 3 }, (_, i) => `java_pid${i + 1}.hprof`);
    const t = await setUp([...dumps, 'hs_err_pid9.log', 'notes.txt', '.hidden.hprof']);
    const done = t.uploader.once();
    await t.shipper.startedAtLeast(MAX_ACTIVE_DUMPS);
    const activeAtFirst = t.shipper.active;
    const queued = t.lines.filter((l) => l.msg === 'dump queued');
    t.shipper.release(); // before asserting: a failed assertion must not leave the queue waiting
    assert.equal(activeAtFirst, MAX_ACTIVE_DUMPS, 'as many as may ship at once started');
    assert.equal(queued.length, dumps.length + 1 - MAX_ACTIVE_DUMPS);
    assert.equal(await done, 0, 'none failed');
    assert.equal(t.shipper.mostActive, MAX_ACTIVE_DUMPS);
    assert.deepEqual([...t.shipper.started].sort(), [...dumps, 'hs_err_pid9.log'].sort(), 'each dump once');
    assert.equal(t.metrics.inProgress, 0);
  });

  it('sweeps saved uploads with the files present (or shipping) as the ones kept', async () => {
    const t = await setUp(['a.hprof']);
    t.shipper.release();
    await t.uploader.once();
    assert.equal(t.swept.length, 1);
    assert.equal(t.swept[0]!('a.hprof'), true);
    assert.equal(t.swept[0]!('gone.hprof'), false);
  });

  it('counts a failed dump, keeps it out of the next scans for a while, and tells a refused file once', async () => {
    const t = await setUp(['failing.hprof', 'refused.hprof', 'fine.hprof']);
    t.shipper.outcome = (file) =>
      file === 'failing.hprof'
        ? new Error('injected')
        : file === 'refused.hprof'
          ? new Refused('owner', 'it is owned by UID 0, not 1000')
          : undefined;
    t.shipper.release();
    assert.equal(await t.uploader.once(), 1, 'one failed; the refused one is no failure');
    assert.equal(t.metrics.failed, 1);
    assert.equal(t.metrics.refused, 1);
    const failed = t.lines.filter((l) => l.msg === 'shipping the dump failed; the file is kept');
    assert.deepEqual(
      failed.map((l) => [l.file, l.error]),
      [['failing.hprof', 'injected']],
    );
    const refused = t.lines.filter((l) => l.msg === 'not shipped: not a dump file the uploader may read');
    assert.deepEqual(
      refused.map((l) => [l.file, l.reason]),
      [['refused.hprof', 'owner']],
    );

    // Scanned again: the failed one waits for its retry time, the refused one is the same file.
    t.shipper.started.length = 0;
    assert.equal(await t.uploader.once(), 0);
    assert.deepEqual(t.shipper.started, ['fine.hprof']);
    assert.equal(
      t.lines.filter((l) => l.msg === 'not shipped: not a dump file the uploader may read').length,
      1,
    );

    // Changed (here its mode), the refused file is looked at again.
    await chmod(join(t.dir, 'refused.hprof'), 0o600);
    t.shipper.started.length = 0;
    await t.uploader.once();
    assert.deepEqual([...t.shipper.started].sort(), ['fine.hprof', 'refused.hprof']);
  });

  it('stopping, the dumps under way and those in line still ship; once stopped, no scan starts another', async () => {
    const dumps = Array.from({ length: MAX_ACTIVE_DUMPS + 2 }, (_, i) => `java_pid${i + 1}.hprof`);
    const t = await setUp(dumps);
    t.shipper.removes = true; // the final look of stop() must not take a dump shipped meanwhile again
    await t.uploader.start();
    await t.shipper.startedAtLeast(MAX_ACTIVE_DUMPS);
    const activeAtFirst = t.shipper.active;
    // stop() looks at the directory once more first (a recording the JVM wrote as it exited), so a file
    // written while it looks may still be taken: the late one comes after it has stopped taking files.
    const stopped = t.uploader.stop();
    t.shipper.release();
    assert.equal(activeAtFirst, MAX_ACTIVE_DUMPS);
    await stopped;
    await writeFile(join(t.dir, 'late.hprof'), 'JAVA PROFILE 1.0.2\0');
    assert.deepEqual([...t.shipper.started].sort(), [...dumps].sort(), 'the ones in line shipped');
    assert.equal(await t.uploader.once(), 0);
    assert.ok(!t.shipper.started.includes('late.hprof'), 'a scan after stop takes nothing');
  });
});
