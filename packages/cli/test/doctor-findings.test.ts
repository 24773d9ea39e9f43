// `heapdump doctor`'s rules in-process (doctor-findings.ts, doctor-exits.ts): one pod status and uploader log
// per case, the findings they give. (doctor.test.ts runs the command on real uploader logs.)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type DoctorInput, diagnose, type Finding, readUploaderLog } from '../src/doctor-findings.ts';
import type { ContainerStatus, Pod } from '../src/pod.ts';

type States = Pick<ContainerStatus, 'state' | 'lastState'>;

const STARTED = '2026-12-01T10:00:00Z';
const FINISHED = '2026-12-01T10:05:00Z';

function input(
  state: States,
  options: { logs?: string[]; args?: string[]; limit?: string } = {},
): DoctorInput {
  const pod: Pod = {
    metadata: { name: 'shop-1', namespace: 'shop' },
    spec: {
      containers: [
        {
          name: 'app',
          ...(options.args ? { args: options.args } : {}),
          ...(options.limit ? { resources: { limits: { memory: options.limit } } } : {}),
        },
      ],
    },
    status: { containerStatuses: [{ name: 'app', restartCount: 1, ...state }] },
  };
  return {
    pod,
    target: {
      namespace: 'shop',
      container: 'app',
      uploader: 'heapdump-uploader',
      dir: '/dumps',
      app: 'shop',
      env: {},
    },
    logs: options.logs ?? [],
    volume: { bytes: 0, files: [] },
    now: new Date('2026-12-01T10:10:00Z'),
  };
}

const terminated = (exitCode: number, reason?: string): States => ({
  lastState: {
    terminated: { exitCode, ...(reason ? { reason } : {}), startedAt: STARTED, finishedAt: FINISHED },
  },
  state: { running: { startedAt: FINISHED } },
});

function appFinding(i: DoctorInput): Finding {
  const app = diagnose(i).findings.filter((f) => f.topic === 'app');
  assert.equal(app.length, 1, JSON.stringify(app));
  return app[0]!;
}

const storedLine = (time: string) =>
  JSON.stringify({
    level: 'info',
    time,
    msg: 'dump stored',
    file: 'java_pid1.hprof',
    key: 'p/shop/shop/shop-1/x-java_pid1.hprof.zst',
    verdict: 'complete',
  });

describe('the app container, one rule per way it ended', () => {
  test('running, never terminated: ok', () => {
    const f = appFinding(input({ state: { running: { startedAt: STARTED } } }));
    assert.equal(f.severity, 'ok');
    assert.match(f.text, /^container app is running and has not terminated \(restarts 1\)$/);
  });

  test('OOMKilled with a limit and -Xmx: a problem, the headroom measured, the limit to raise to', () => {
    const f = appFinding(input(terminated(137, 'OOMKilled'), { args: ['-Xmx900m'], limit: '1Gi' }));
    assert.equal(f.severity, 'problem');
    assert.match(f.text, /exit 137 \(OOMKilled\), restarts 1: the kernel killed the JVM/);
    assert.match(
      f.text,
      /so no heap dump can exist; memory limit 1\.00 GiB, heap 900\.0 MiB \(-Xmx900m\): 124\.0 MiB of native headroom \(12% of the limit\)$/,
    );
    assert.match(f.advice ?? '', /raise resources\.limits\.memory to at least/);
  });

  test('OOMKilled without a limit: the node ran out of memory', () => {
    const f = appFinding(input(terminated(137, 'OOMKilled')));
    assert.match(f.text, /the container has no memory limit of its own: the node ran out of memory/);
    assert.match(f.advice ?? '', /^set a memory limit and keep the heap/);
  });

  test('exit 3 with the dump stored after the JVM started: ok, with its key', () => {
    const f = appFinding(input(terminated(3), { logs: [storedLine('2026-12-01T10:05:30Z')] }));
    assert.equal(f.severity, 'ok');
    assert.match(
      f.text,
      /ExitOnOutOfMemoryError\) after writing a heap dump; stored: p\/shop\/shop\/shop-1\/x-java_pid1\.hprof\.zst \(complete\)$/,
    );
  });

  test('exit 3 with only an older dump stored: a note, not stored', () => {
    const f = appFinding(input(terminated(3), { logs: [storedLine('2026-12-01T09:00:00Z')] }));
    assert.equal(f.severity, 'note');
    assert.match(f.text, /it is not in the uploader's log as stored/);
  });

  test('exit 134: aborted, look for hs_err', () => {
    const f = appFinding(input(terminated(134)));
    assert.equal(f.severity, 'problem');
    assert.match(f.text, /the JVM aborted \(SIGABRT\)/);
    assert.match(f.advice ?? '', /hs_err_pid\*\.log/);
  });

  test('exit 137 without OOMKilled: a SIGKILL from someone else', () => {
    const f = appFinding(input(terminated(137)));
    assert.equal(f.severity, 'problem');
    assert.match(f.text, /killed with SIGKILL, not by the kernel's OOM killer/);
  });

  test("exit 0 and 143 are a normal stop; any other exit is the application's own", () => {
    for (const code of [0, 143]) {
      const f = appFinding(input(terminated(code)));
      assert.equal(f.severity, 'ok');
      assert.match(f.text, /: a normal stop, so no heap dump$/);
    }
    const f = appFinding(input(terminated(1)));
    assert.equal(f.severity, 'note');
    assert.match(f.text, /the application's own exit, not an OutOfMemoryError, so no heap dump$/);
  });
});

describe('the uploader log', () => {
  test('stored dumps, warnings by kind, and a crash in plain text; other lines ignored', () => {
    const { events, stored } = readUploaderLog([
      storedLine('2026-12-01T10:05:30Z'),
      JSON.stringify({ level: 'warn', time: 't1', msg: 'upload failed', code: 'NoSuchBucket' }),
      JSON.stringify({
        level: 'error',
        time: 't2',
        msg: 'cannot save state',
        error: 'ENOSPC: no space left on device',
      }),
      JSON.stringify({ level: 'info', msg: 'watching' }),
      'TypeError: x is not a function',
      'some other text',
      '{not json',
    ]);
    assert.deepEqual(stored, [
      {
        file: 'java_pid1.hprof',
        key: 'p/shop/shop/shop-1/x-java_pid1.hprof.zst',
        verdict: 'complete',
        time: '2026-12-01T10:05:30Z',
      },
    ]);
    assert.deepEqual(
      events.map((e) => [e.kind, e.text]),
      [
        ['bucket missing', 'upload failed [NoSuchBucket]'],
        ['volume full', 'cannot save state: ENOSPC: no space left on device'],
        ['crash', 'TypeError: x is not a function'],
      ],
    );
  });
});
