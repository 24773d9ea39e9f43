// The memory watchdog against real kernel OOM kills: the rendered pod runs with each container in a memory
// cgroup of its limit (cgroup v1 or v2, test/support/memory-cgroup.ts), the app a MemoryHog that grows past
// the limit in a known way, on every JDK found here. Each case prints, for the closing note, the time from
// the threshold dump being written to the kernel's kill.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { analyzeStream } from '@kube-heapdump/hprof';
import { memoryCgroupUnavailable } from './support/memory-cgroup.ts';
import { installMocks } from './support/pulumi-mocks.ts';
import {
  JDKS,
  missingClaimedJdks,
  runWatchdogCase,
  type TimedLine,
  type WatchdogCase,
  type WatchdogRun,
} from './support/watchdog-pod.ts';

const unavailable = memoryCgroupUnavailable();
if (unavailable && process.env.CI === 'true') {
  throw new Error(`memory cgroups are needed under CI=true: ${unavailable}`);
}
// Every JDK the watchdog claims is run: CI installs them; elsewhere a missing one is a skip saying so.
const missingJdks = missingClaimedJdks();
if (missingJdks && process.env.CI === 'true') {
  throw new Error(`the watchdog's JDKs are needed: ${missingJdks}`);
}
if (missingJdks) test('on every JDK the watchdog claims', { skip: missingJdks }, () => {});
const mocks = await installMocks({});
const LIMIT = 256 * 2 ** 20;

/** Runs a case to the app's first exit and the uploader's last 'dump stored' of `dumps` dumps. */
async function run(c: WatchdogCase, dumps: number): Promise<WatchdogRun> {
  const r = await runWatchdogCase(c, mocks.registered);
  try {
    await r.pod.waitForExits('app', 1, 180_000);
    await r.pod.waitFor(
      () => (r.logs.filter((l) => l.msg === 'dump stored').length >= dumps ? true : undefined),
      120_000,
      `${dumps} dump(s) stored`,
    );
  } catch (e) {
    await r.close();
    throw new Error(`${(e as Error).message}; the app said:\n${timedLines(r)}`);
  }
  return r;
}

/** The app's output with each line's time relative to the app's first exit, for failure messages. */
function timedLines(r: WatchdogRun): string {
  const exit = r.pod.runs.get('app')?.exitedAt[0] ?? Date.now();
  return r.app.map((l) => `${l.at - exit} ms: ${l.line}`).join('\n');
}

function agentLine(r: WatchdogRun, text: string) {
  return r.app.find((l) => l.line.includes(`kube-heapdump agent: ${text}`));
}

/** Asserts the kernel killed the app, and returns ms from the threshold dump written to the kill. */
function killedAfterDump(r: WatchdogRun): number {
  const app = r.pod.runs.get('app');
  const output = r.app.map((l) => l.line).join('\n');
  assert.deepEqual(app?.exitCodes, [137], output);
  assert.deepEqual(app?.reasons, ['OOMKilled']);
  const written = agentLine(r, 'heap dump written');
  assert.ok(written, `the agent wrote a dump: ${r.app.map((l) => l.line).join('\n')}`);
  return (app?.exitedAt[0] ?? 0) - written.at;
}

/**
 * When the first dump's object and its evidence were both in the store, and when its summary followed, relative
 * to the app's first exit (ms; negative: before it; NaN: never).
 */
function storedMs(r: WatchdogRun): { dump: number; summary: number } {
  const at = (msg: string, key?: string) => {
    const line = r.logs.find((l) => l.msg === msg && (key === undefined || l.key === key));
    return Date.parse(String(line?.time)) - (r.pod.runs.get('app')?.exitedAt[0] ?? 0);
  };
  const key = r.logs.find((l) => l.msg === 'dump object complete')?.key as string | undefined;
  return {
    dump: Math.max(at('dump object complete', key), at('evidence stored', `${key}.evidence.json`)),
    summary: at('dump stored', key),
  };
}

function storedVsKill(r: WatchdogRun): string {
  const { dump, summary } = storedMs(r);
  const vs = (ms: number) => (ms < 0 ? `${-ms} ms before it` : `${ms} ms after it`);
  return `stored with its evidence ${vs(dump)} (its summary ${vs(summary)})`;
}

/** Issue 28's bar: the dump and its evidence in the store before the kernel's kill. */
function assertStoredBeforeKill(r: WatchdogRun) {
  assert.ok(storedMs(r).dump < 0, `the dump was ${storedVsKill(r)}, the kill:\n${timedLines(r)}`);
}

/**
 * The one stored threshold dump (or, with `first`, the first stored: a restarted JVM may dump again):
 * complete, its summary and evidence naming the trigger and the limit.
 */
async function thresholdDump(r: WatchdogRun, first = false) {
  const keys = await r.stored();
  const dumps = keys.filter((k) => k.endsWith('.hprof.zst'));
  if (!first) assert.equal(dumps.length, 1, keys.join('\n'));
  const key = (first ? r.logs.find((l) => l.msg === 'dump stored')?.key : dumps[0]) as string;
  assert.match(key, /-heapdump-threshold-\d{8}T\d{6}Z\.hprof\.zst$/);
  const summary = JSON.parse((await r.object(`${key}.summary.json`)).toString());
  assert.equal(summary.verdict, 'complete', timedLines(r));
  assert.equal(summary.evidence.key, `${key}.evidence.json`);
  assert.equal(summary.evidence.trigger, 'memory-threshold');
  assert.equal(summary.evidence.container.limitBytes, LIMIT);
  const evidence = JSON.parse((await r.object(`${key}.evidence.json`)).toString());
  // Counted against the threshold: what the dump needs to walk every thread's stack (~6 KB a frame on JDK
  // 11); reached, or growing fast from the re-arm mark (80 %) up.
  const stacks = evidence.jvm.heapDumpStackBytes;
  assert.ok(Number.isSafeInteger(stacks) && stacks > 0, JSON.stringify(evidence.jvm));
  assert.ok(summary.evidence.container.workingSetBytes + stacks >= 0.8 * LIMIT);
  const hprof = await analyzeStream([await r.object(key)], 'zstd');
  assert.equal(hprof.verdict, 'complete');
  return { key, summary, evidence, hprof };
}

const timings: string[] = [];

for (const jdk of JDKS) {
  describe(`memory watchdog on ${jdk.name}, real OOM kills`, { skip: unavailable }, () => {
    const direct: WatchdogCase = {
      jdkHome: jdk.home,
      args: ['direct', '4', '100'],
      memory: '256Mi',
      javaToolOptions: '-Xmx32m -XX:MaxDirectMemorySize=1g',
    };

    test('(a) a direct-buffer leak without the watchdog: exit 137, no dump', async () => {
      const r = await runWatchdogCase({ ...direct, heapDumps: { memoryThreshold: 0 } }, mocks.registered);
      try {
        await r.pod.waitForExits('app', 1, 180_000);
        const app = r.pod.runs.get('app');
        assert.deepEqual(app?.exitCodes, [137]);
        assert.deepEqual(app?.reasons, ['OOMKilled']);
        assert.deepEqual(r.dumps, [], 'no dump file ever appeared');
      } finally {
        await r.close();
      }
    });

    test('(a) a direct-buffer leak with the watchdog: a complete dump before the kill shows the DirectByteBuffers', async () => {
      const r = await run(direct, 1);
      try {
        const ms = killedAfterDump(r);
        const { summary, evidence } = await thresholdDump(r);
        assert.match(evidence.threadDump, /^"main" #\d+ prio=5$/m);
        // The stored summary's histogram (its top 200 classes): the buffers are small objects holding much.
        const buffers = summary.topClasses.find(
          (c: { name: string }) => c.name === 'java.nio.DirectByteBuffer',
        );
        assert.ok(buffers && buffers.instances >= 40, JSON.stringify(buffers));
        assert.ok(summary.evidence.container.workingSetBytes < LIMIT);
        assertStoredBeforeKill(r);
        timings.push(
          `${jdk.name} (a) direct buffers: dump written ${ms} ms before the kill, ${storedVsKill(r)}`,
        );
      } finally {
        await r.close();
      }
    });

    test('(b) a thread leak: a complete dump before the kill holds the leaked threads', async () => {
      // Threads parked 32 frames deep (8 KiB of stack touched each), ~60 a second. HotSpot needs native memory
      // for every frame of every thread to dump the heap (~6 KB a frame on JDK 11, ~0.1-0.4 KB on 17+), which
      // the watchdog counts against the threshold: on JDK 11 the dump comes at ~600-800 threads (31-37 % of
      // the limit in use), on 17+ at ~2,500-2,800; both hold hundreds of leaked threads, the app itself ~15.
      const leak: WatchdogCase = {
        jdkHome: jdk.home,
        args: ['threads', '8', '10'],
        memory: '256Mi',
        javaToolOptions: '-Xmx32m',
      };
      const r = await run(leak, 1);
      try {
        const ms = killedAfterDump(r);
        const { summary, evidence } = await thresholdDump(r);
        const threads = summary.topClasses.find((c: { name: string }) => c.name === 'java.lang.Thread');
        assert.ok(threads && threads.instances >= 500, JSON.stringify(threads));
        assert.ok(evidence.jvm.threads >= 500, String(evidence.jvm.threads));
        // Taken after the heap dump, the thread dump is left out when it would need more than half of what is
        // left below the limit (its stacks are in the heap dump); else it lists the leaked threads.
        assert.match(
          evidence.threadDump,
          /^(not taken: \d+ threads, \d+ frames each, would need|"leaked-\d+")/m,
        );
        assertStoredBeforeKill(r);
        timings.push(
          `${jdk.name} (b) thread leak: dump written ${ms} ms before the kill, ${storedVsKill(r)}; ` +
            (agentLine(r, 'memory at')?.line.replace(/^.*agent: /, '') ?? ''),
        );
      } finally {
        await r.close();
      }
    });

    // JDK 22+ writes the heap into pieces (`.p0`) inside the safepoint and merges them into the dump after,
    // with the application running again: a leak this fast (40 MB/s) can get the JVM killed during the merge
    // (Temurin 25, dumping at 90 %: .p0 of 229 MB, the dump cut at 17 MB; since the dump comes sooner for a
    // fast growth, the merge ends 0.7 s before the kill, the upload after it). The agent writes aside and the restarted JVM's
    // agent finishes the merge before the application starts (PartialDumps.java); JDK 11-21 dump whole
    // inside the safepoint, before the kill (JDK 11 without collecting first: it got killed mid-dump in 4 of 11
    // runs with it, Watchdog.liveOnly).
    test('(c) -Xmx above the limit (from a ConfigMap the component cannot read): a complete dump', async () => {
      const r = await run(
        {
          jdkHome: jdk.home,
          args: ['heap', '4', '100'],
          memory: '256Mi',
          javaToolOptionsFromConfigMap: '-Xmx1g -XX:+UseSerialGC',
          // The heap the component cannot see needs a volume for its dump (JDK 22+ writes it in pieces).
          heapDumps: { sizeLimit: '1Gi' },
          // The JVM that finishes a dump cut off by the kill is the next one in the container.
          restarts: 1,
        },
        1,
      );
      try {
        const app = r.pod.runs.get('app');
        assert.equal(app?.exitCodes[0], 137, r.app.map((l) => l.line).join('\n'));
        assert.equal(app?.reasons[0], 'OOMKilled');
        const written = agentLine(r, 'heap dump written');
        const finished = agentLine(r, 'a dump cut off by the JVM');
        const killedAt = app?.exitedAt[0] ?? 0;
        const { hprof, evidence } = await thresholdDump(r, true);
        assert.match(evidence.threadDump, /^"main" #\d+ prio=5$/m);
        const arrays = hprof.topClasses.find((c) => c.name === 'byte[]');
        assert.ok(arrays && arrays.bytes > 150 * 2 ** 20, JSON.stringify(hprof.topClasses.slice(0, 5)));
        if (written && written.at <= killedAt) {
          // JDK 22+ merges the dump with the application running again: there it may be stored after the kill.
          if (jdk.claimed) assertStoredBeforeKill(r);
          timings.push(
            `${jdk.name} (c) -Xmx1g over a 256Mi limit: dump written ${killedAt - written.at} ms before the kill, ` +
              storedVsKill(r),
          );
        } else {
          assert.match(
            finished?.line ?? '',
            /finished from its \d+ piece\(s\)$/,
            r.app.map((l) => l.line).join('\n'),
          );
          const taking = agentLine(r, 'memory at') as { at: number };
          timings.push(
            `${jdk.name} (c) -Xmx1g over a 256Mi limit: killed ${killedAt - taking.at} ms after the threshold, ` +
              `during the dump's merge; finished by the restarted JVM ${(finished?.at ?? 0) - killedAt} ms after the kill, ` +
              storedVsKill(r),
          );
        }
      } finally {
        await r.close();
      }
    });

    test("(d) a Java OutOfMemoryError with the watchdog on and the default heap: exactly one dump, the JVM's", async () => {
      const r = await run({ jdkHome: jdk.home, args: ['heap', '4', '50'], memory: '256Mi' }, 1);
      try {
        const app = r.pod.runs.get('app');
        assert.deepEqual(app?.exitCodes, [3], 'ExitOnOutOfMemoryError, not the kernel');
        assert.equal(agentLine(r, 'memory at'), undefined, 'the threshold was not reached');
        assert.equal(r.dumps.length, 1, r.dumps.join(', '));
        assert.match(r.dumps[0] ?? '', /^java_pid\d+\.hprof$/);
        const keys = (await r.stored()).filter((k) => k.endsWith('.hprof.zst'));
        assert.equal(keys.length, 1);
      } finally {
        await r.close();
      }
    });

    test('(e) usage hovering around the threshold: one dump per episode', async () => {
      // Threshold 80 % (205 MiB), re-armed below 70 % (179 MiB): each episode goes over it three times and
      // under it (not under the re-arm mark) twice, then frees everything.
      const r = await runWatchdogCase(
        {
          jdkHome: jdk.home,
          args: ['hover', '4', '1500', '2'],
          memory: '256Mi',
          javaToolOptions: '-Xmx32m -XX:MaxDirectMemorySize=1g -Dhigh=196 -Dlow=156',
          // glibc raises its mmap threshold after the first freed mmapped buffer, so later 2 MiB buffers come
          // from its heap, which it need not give back: then the container's usage stays above the re-arm mark
          // after the last episode whatever the watchdog does (seen on Temurin 25 in a clean-clone CI run).
          // A fixed threshold keeps each buffer its own mapping, unmapped when freed.
          env: { MALLOC_MMAP_THRESHOLD_: '131072' },
          heapDumps: { memoryThreshold: 80 },
        },
        mocks.registered,
      );
      try {
        await r.pod.waitFor(() => (r.app.some((l) => l.line === 'DONE') ? true : undefined), 180_000, 'DONE');
        await r.pod.waitFor(
          () => (r.logs.filter((l) => l.msg === 'dump stored').length >= 2 ? true : undefined),
          60_000,
          'two dumps stored',
        );
        const taken = r.app.filter((l) => l.line.includes('taking a heap dump')).length;
        assert.equal(taken, 2, r.app.map((l) => l.line).join('\n'));
        // Re-armed once per episode, once its freed buffers' cleaners have run: 0-150 ms after its last
        // "HELD 0 MiB", before DONE, so the bounded wait is a margin. Runs that
        // missed it judged the working set, which also counts active page cache (the JDK's files, the dumps
        // written), beside the ~60 MiB of freed buffers glibc keeps (Temurin 25, unlimited: RSS 100 MiB after
        // DONE, 40 MiB with MALLOC_MMAP_THRESHOLD_ fixed); the watchdog now judges what cannot be reclaimed.
        const rearms = () => r.app.filter((l) => l.line.endsWith(': re-armed'));
        await r.pod.waitFor(() => (rearms().length >= 2 ? true : undefined), 30_000, 'the last re-arm');
        assert.equal(rearms().length, 2, timedLines(r));
        const freed = r.app.filter((l) => l.line === 'HELD 0 MiB').at(-1) as TimedLine;
        timings.push(
          `${jdk.name} (e) hovering: the last re-arm ${(rearms()[1]?.at ?? 0) - freed.at} ms after the last episode freed its buffers`,
        );
        assert.equal(r.dumps.length, 2, r.dumps.join(', '));
        assert.deepEqual(r.pod.runs.get('app')?.exitCodes ?? [], [], 'the app kept running');
      } finally {
        await r.close();
      }
    });
  });
}

process.on('exit', () => {
  if (timings.length) process.stdout.write(`# threshold dump to kernel kill:\n# ${timings.join('\n# ')}\n`);
});
