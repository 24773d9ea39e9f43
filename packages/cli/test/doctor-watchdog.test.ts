// `heapdump doctor` on a container the kernel OOM-killed after the memory watchdog stored its dump.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diagnose } from '../src/doctor-findings.ts';
import type { Pod } from '../src/pod.ts';

const key =
  'heapdumps/shop/orders/orders-1/20261207T140202Z-0a1b2c3d-heapdump-threshold-20261207T140202Z.hprof.zst';
const log = (o: Record<string, unknown>) =>
  JSON.stringify({ level: 'info', time: '2026-12-07T14:02:05.000Z', ...o });
/** The uploader's `evidence stored` line of the threshold dump, with its memory figures. */
const evidenceStored = (figures: { workingSetBytes: number; heapDumpStackBytes?: number }) =>
  log({
    msg: 'evidence stored',
    key: `${key}.evidence.json`,
    trigger: 'memory-threshold',
    takenAt: '2026-12-07T14:02:02.100Z',
    limitBytes: 256 * 2 ** 20,
    ...figures,
  });
const dumpStored = log({
  msg: 'dump stored',
  key,
  file: 'heapdump-threshold-20261207T140202Z.hprof',
  verdict: 'complete',
});
const logs = [evidenceStored({ workingSetBytes: 233 * 2 ** 20 }), dumpStored];

function input(lines: string[]) {
  const pod = {
    metadata: { name: 'orders-1', namespace: 'shop' },
    spec: {
      containers: [{ name: 'app', image: 'x', resources: { limits: { memory: '256Mi' } } }],
    },
    status: {
      containerStatuses: [
        {
          name: 'app',
          restartCount: 1,
          lastState: {
            terminated: {
              exitCode: 137,
              reason: 'OOMKilled',
              startedAt: '2026-12-07T14:00:00Z',
              finishedAt: '2026-12-07T14:02:11Z',
            },
          },
          state: { running: {} },
        },
      ],
    },
  } as unknown as Pod;
  return {
    pod,
    target: {
      namespace: 'shop',
      container: 'app',
      uploader: 'heapdump-uploader',
      dir: '/dumps',
      app: 'orders',
      env: {},
    },
    logs: lines,
    volume: { bytes: 0, files: [] },
    now: new Date('2026-12-07T14:05:00Z'),
  };
}

test('an OOMKill after a threshold dump names the dump, its share of the limit and how long before', () => {
  const app = diagnose(input(logs)).findings.find((f) => f.topic === 'app');
  assert.match(
    app?.text ?? '',
    new RegExp(
      `at 2026-12-07T14:02:11Z: exit 137 \\(OOMKilled\\).*the memory watchdog took a dump at 91 % of the limit 9 s before, stored: ${key.replace(/\./g, '\\.')}`,
    ),
  );
});

test('a dump taken early for its stack copies (JDK 11, many threads) says so', () => {
  const early = [
    evidenceStored({ workingSetBytes: 80 * 2 ** 20, heapDumpStackBytes: 128 * 2 ** 20 }),
    dumpStored,
  ];
  const app = diagnose(input(early)).findings.find((f) => f.topic === 'app');
  assert.match(
    app?.text ?? '',
    /took a dump at 31 % of the limit \(81 % with what the dump needed for the threads' stacks\) 9 s before/,
  );
});

test('without it (or with its evidence but not its dump stored), no heap dump can exist', () => {
  for (const lines of [[], logs.slice(0, 1)]) {
    const app = diagnose(input(lines)).findings.find((f) => f.topic === 'app');
    assert.match(app?.text ?? '', /so no heap dump can exist/);
  }
});
