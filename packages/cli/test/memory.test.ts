// memory.ts in-process: the heap `heapdump doctor` reads from a container's JVM options against the memory
// limit (the options themselves, in the JVM's order: packages/contract/test/jvm-options.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { heapOf, quantityBytes } from '../src/memory.ts';
import type { Container } from '../src/pod.ts';

const MI = 2 ** 20;
const GI = 2 ** 30;
const jvm = (words: string[], env: Container['env'] = []): Container => ({ name: 'app', args: words, env });

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

  it('_JAVA_OPTIONS wins over the command line, as the JVM reads it last', () => {
    const c = jvm(['-Xmx200m'], [{ name: '_JAVA_OPTIONS', value: '-Xmx300m' }]);
    assert.deepEqual(heapOf(c, GI), { bytes: 300 * MI, source: '-Xmx300m' });
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
