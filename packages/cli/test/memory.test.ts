// memory.ts in-process: the JVM options a container passes, and the heap `heapdump doctor` reads from them
// against the memory limit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { heapOf, jvmWords, quantityBytes } from '../src/memory.ts';
import type { Container } from '../src/pod.ts';

const MI = 2 ** 20;
const GI = 2 ** 30;
const jvm = (words: string[], env: Container['env'] = []): Container => ({ name: 'app', args: words, env });

describe('jvmWords', () => {
  // Not pinned here: where _JAVA_OPTIONS stands (the JVM reads it after the command line) and what an unknown
  // $(VAR) becomes (the kubelet keeps it as written); the component's jvmOptionWords differs on both.
  it('reads JAVA_TOOL_OPTIONS, then JDK_JAVA_OPTIONS, resolving $(VAR), then command and args', () => {
    const c: Container = {
      name: 'app',
      command: ['java'],
      args: ['-jar', 'app.jar'],
      env: [
        { name: 'HEAP', value: '-Xmx300m' },
        { name: 'JAVA_TOOL_OPTIONS', value: '$(HEAP) "-Dname=a b"' },
        { name: 'JDK_JAVA_OPTIONS', value: '-XX:+UseG1GC' },
      ],
    };
    assert.deepEqual(jvmWords(c), ['-Xmx300m', '-Dname=a b', '-XX:+UseG1GC', 'java', '-jar', 'app.jar']);
  });
});

describe('heapOf', () => {
  it('-Xmx or -XX:MaxHeapSize gives the heap; the last one wins, as in the JVM', () => {
    assert.deepEqual(heapOf(jvm(['-Xmx512m']), GI), { bytes: 512 * MI, source: '-Xmx512m' });
    assert.deepEqual(heapOf(jvm(['-Xmx512m', '-XX:MaxHeapSize=2g']), undefined), {
      bytes: 2 * GI,
      source: '-XX:MaxHeapSize=2g',
    });
  });

  it('-XX:MaxRAMPercentage is a share of the limit; -Xmx wins over it wherever it stands', () => {
    assert.deepEqual(heapOf(jvm(['-XX:MaxRAMPercentage=50']), 2 * GI), {
      bytes: GI,
      source: '-XX:MaxRAMPercentage=50',
    });
    assert.equal(heapOf(jvm(['-Xmx256m', '-XX:MaxRAMPercentage=50']), 2 * GI).bytes, 256 * MI);
    assert.equal(heapOf(jvm(['-XX:MaxRAMPercentage=75']), undefined).bytes, undefined);
  });

  it('without flags: the JVM’s default share of the limit, said as such; unknown without a limit', () => {
    const h = heapOf(jvm(['-jar', 'app.jar']), 4 * GI);
    assert.equal(h.bytes, GI);
    assert.match(h.source, /^the JVM's default \(25% of the memory limit\)$/);
    assert.equal(heapOf(jvm([]), undefined).bytes, undefined);
  });

  it('a size the JVM would not take is not a heap', () => {
    assert.deepEqual(heapOf(jvm(['-Xmxlots']), GI), { bytes: undefined, source: '-Xmxlots' });
  });
});

describe('quantityBytes', () => {
  it('reads Kubernetes quantities; absent or not one is undefined', () => {
    assert.equal(quantityBytes('512Mi'), 512 * MI);
    assert.equal(quantityBytes('2G'), 2e9);
    assert.equal(quantityBytes(undefined), undefined);
    assert.equal(quantityBytes('lots'), undefined);
  });
});
