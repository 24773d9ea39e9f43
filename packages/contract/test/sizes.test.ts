// Kubernetes quantities, JVM sizes and heap flags (sizes.ts), as the component and `heapdump doctor` read them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseJvmSize, parseQuantity, readHeapFlags } from '../src/index.ts';

test('Kubernetes quantities and JVM sizes', () => {
  assert.equal(parseQuantity('512Mi'), 512 * 2 ** 20);
  assert.equal(parseQuantity('2G'), 2e9);
  assert.equal(parseQuantity('1.5Gi'), 1.5 * 2 ** 30);
  assert.equal(parseQuantity('1e9'), 1e9);
  assert.equal(parseQuantity('2 GB'), undefined);
  assert.equal(parseJvmSize('2g'), 2 * 2 ** 30);
  assert.equal(parseJvmSize('1536M'), 1536 * 2 ** 20);
  assert.equal(parseJvmSize('4096'), 4096);
  assert.equal(parseJvmSize('2gb'), undefined);
  assert.deepEqual(readHeapFlags(['-Xmx1g', '-XX:MaxHeapSize=3g', '-XX:MaxRAMPercentage=60']), {
    maxHeapBytes: 3 * 2 ** 30,
    maxRamPercentage: 60,
  });
  assert.throws(() => readHeapFlags(['-XX:MaxRAMPercentage=150']), /not a percentage/);
});
