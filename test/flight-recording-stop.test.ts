// A pod deleted while its JVM runs with heapDumps.flightRecorder: on SIGTERM the JVM dumps its continuous
// recording into the volume as it exits, and the native sidecar, stopped after it (as the kubelet does),
// ships it within the grace period, with the uploader's default quiet time (60 s, longer than that period).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { installMocks } from './support/pulumi-mocks.ts';
import { JDKS, runWatchdogCase } from './support/watchdog-pod.ts';

const mocks = await installMocks({});
const jdk17 = JDKS.find((j) => j.name === 'JDK 17');

test('the recording a JVM dumps as its pod is deleted is shipped before the uploader stops', {
  skip: jdk17 ? false : 'no JDK 17 in /usr/lib/jvm',
}, async () => {
  const r = await runWatchdogCase(
    {
      jdkHome: (jdk17 as (typeof JDKS)[number]).home,
      // Some direct buffers held and freed, then the JVM waits for its end.
      args: ['hover', '4', '200', '1'],
      javaToolOptions: '-Dhigh=16 -Dlow=8',
      memory: '512Mi',
      memoryLimits: false,
      heapDumps: { flightRecorder: true, memoryThreshold: 0 },
      quietSeconds: null,
    },
    mocks.registered,
  );
  try {
    await r.pod.waitFor(() => (r.app.some((l) => l.line === 'DONE') ? true : undefined), 60_000, 'DONE');
    const stopStarted = Date.now();
    await r.pod.stop();
    const stoppedIn = Date.now() - stopStarted;
    const app = r.pod.runs.get('app');
    assert.deepEqual(app?.exitCodes, [143], 'the JVM exited on SIGTERM');
    const stored = r.logs.find((l) => l.msg === 'dump stored' && l.kind === 'jfr');
    assert.ok(stored, r.logs.map((l) => JSON.stringify(l)).join('\n'));
    const keys = await r.stored();
    const key = keys.find((k) => /-flight-recording\.jfr\.zst$/.test(k));
    assert.ok(key, keys.join('\n'));
    const summary = JSON.parse((await r.object(`${key}.summary.json`)).toString());
    assert.equal(summary.kind, 'jfr');
    assert.ok(summary.dump.originalBytes > 0);
    const grace = r.spec.terminationGracePeriodSeconds ?? 30;
    assert.ok(stoppedIn < grace * 1000, `stopped in ${stoppedIn} ms, within the ${grace} s grace period`);
  } finally {
    await r.close();
  }
});
