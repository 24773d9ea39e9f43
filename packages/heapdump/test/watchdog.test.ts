// The memory watchdog on the component's side: the agent flag, when it is left out, the default heap.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultHeapPercentage } from '@kube-heapdump/contract';
import { defaultHeapFlags, watchdogJvmFlags } from '../src/watchdog.ts';

const Mi = 2 ** 20;

test('default heap: threshold less a quarter of the limit, or less 128 MiB, never below 25', () => {
  assert.equal(defaultHeapPercentage(90, 2048 * Mi), 65);
  assert.equal(defaultHeapPercentage(90, 512 * Mi), 65);
  assert.equal(defaultHeapPercentage(90, 256 * Mi), 40);
  assert.equal(defaultHeapPercentage(90, 384 * Mi), 56.66);
  assert.equal(defaultHeapPercentage(90, 160 * Mi), 25);
  assert.equal(defaultHeapPercentage(80, 4096 * Mi), 55);
  assert.equal(defaultHeapPercentage(0, 4096 * Mi), 65, 'off: as at the default threshold');
});

test('default heap only when the container gives no heap size', () => {
  const c = (value: string) => ({ name: 'app', image: 'x', env: [{ name: 'JAVA_TOOL_OPTIONS', value }] });
  assert.deepEqual(defaultHeapFlags(c('-Dx=1'), [], 1024 * Mi, 90), ['-XX:MaxRAMPercentage=65']);
  assert.deepEqual(defaultHeapFlags(c('-Xmx512m'), [], 1024 * Mi, 90), []);
  assert.deepEqual(defaultHeapFlags(c('-XX:MaxRAMPercentage=50'), [], 1024 * Mi, 90), []);
  assert.deepEqual(defaultHeapFlags(c(''), ['-Xmx1g'], 2048 * Mi, 90), [], 'extraJvmFlags count');
  assert.deepEqual(defaultHeapFlags(c(''), [], undefined, 90), [], 'no limit, no percentage');
});

test('a heap size in _JAVA_OPTIONS or in $(VAR) args counts: the JVM takes it, so no default is added', () => {
  const c = (env: { name: string; value: string }[], args: string[] = []) => ({
    name: 'app',
    image: 'x',
    args,
    env,
  });
  assert.deepEqual(
    defaultHeapFlags(c([{ name: '_JAVA_OPTIONS', value: '-Xmx600m' }]), [], 1024 * Mi, 90),
    [],
  );
  assert.deepEqual(
    defaultHeapFlags(c([{ name: 'HEAP', value: '-Xmx600m' }], ['$(HEAP)']), [], 1024 * Mi, 90),
    [],
  );
});

test('the agent flag; left out with a warning where the jar cannot be there first', () => {
  const warnings: string[] = [];
  assert.deepEqual(watchdogJvmFlags({ memoryThreshold: 85 }, {}, '/dumps', warnings), [
    '-javaagent:/dumps/.kube-heapdump/agent.jar=threshold=85,rearm=75',
  ]);
  assert.deepEqual(
    watchdogJvmFlags({ nativeMemoryTracking: true }, { sidecar: 'classic' }, '/dumps', warnings),
    ['-XX:NativeMemoryTracking=summary'],
  );
  assert.deepEqual(watchdogJvmFlags({}, { metricsPort: 0 }, '/dumps', warnings), []);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0] ?? '', /heapDumps.memoryThreshold: the memory watchdog needs the native sidecar/);
  assert.throws(() => watchdogJvmFlags({ memoryThreshold: 100 }, {}, '/dumps', []), /memoryThreshold/);
  assert.throws(() => watchdogJvmFlags({ memoryThreshold: 12.5 }, {}, '/dumps', []), /memoryThreshold/);
});
