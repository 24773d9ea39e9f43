// jvm-options.ts in-process: the JVM options a container's JVM applies, in the JVM's order, with `$(VAR)` as
// the kubelet expands it. The expected heaps are what HotSpot does (the sources and the JDK 17 run named at
// the top of jvm-options.ts), not what either former reader did.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  expandReferences,
  jvmOptions,
  jvmOptionWords,
  type OptionsContainer,
  readHeapFlags,
} from '../src/index.ts';

const MI = 2 ** 20;
const heapOf = (c: OptionsContainer) => readHeapFlags(jvmOptionWords(c)).maxHeapBytes;
const env = (vars: Record<string, string>) => Object.entries(vars).map(([name, value]) => ({ name, value }));

describe('jvmOptionWords: the order the JVM applies', () => {
  it('reads JAVA_TOOL_OPTIONS, then JDK_JAVA_OPTIONS, resolving $(VAR), then command and args', () => {
    const c: OptionsContainer = {
      command: ['java'],
      args: ['-jar', 'app.jar'],
      env: [
        { name: 'HEAP', value: '-Xmx300m' },
        { name: 'JAVA_TOOL_OPTIONS', value: '$(HEAP) "-Dname=a b"' },
        { name: 'JDK_JAVA_OPTIONS', value: '-XX:+UseG1GC' },
      ],
    };
    assert.deepEqual(jvmOptionWords(c), [
      '-Xmx300m',
      '-Dname=a b',
      '-XX:+UseG1GC',
      'java',
      '-jar',
      'app.jar',
    ]);
  });

  it('_JAVA_OPTIONS comes last and wins over the command line, as HotSpot parses it after', () => {
    const c = { args: ['-Xmx200m'], env: env({ _JAVA_OPTIONS: '-Xmx300m', JAVA_TOOL_OPTIONS: '-Xmx100m' }) };
    assert.deepEqual(jvmOptionWords(c), ['-Xmx100m', '-Xmx200m', '-Xmx300m']);
    assert.equal(heapOf(c), 300 * MI);
    // The env's order does not matter, only the JVM's.
    assert.equal(
      heapOf({ args: ['-Xmx200m'], env: env({ JAVA_TOOL_OPTIONS: '-Xmx100m', _JAVA_OPTIONS: '-Xmx300m' }) }),
      300 * MI,
    );
  });

  it('JDK_JAVA_OPTIONS goes before the command line (the launcher prepends it) and after JAVA_TOOL_OPTIONS', () => {
    assert.equal(heapOf({ args: ['-Xmx200m'], env: env({ JDK_JAVA_OPTIONS: '-Xmx400m' }) }), 200 * MI);
    assert.equal(
      heapOf({ env: env({ JDK_JAVA_OPTIONS: '-Xmx400m', JAVA_TOOL_OPTIONS: '-Xmx100m' }) }),
      400 * MI,
    );
  });

  it('names where each word comes from: the env entry, or the place in command / args', () => {
    const c = {
      command: ['java'],
      args: ['-Xmx1g'],
      env: [{ name: 'A', value: 'x' }, ...env({ _JAVA_OPTIONS: '-XX:HeapDumpPath=/tmp -Xmx2g' })],
    };
    assert.deepEqual(jvmOptions(c), [
      { word: 'java', source: 'command', index: 0 },
      { word: '-Xmx1g', source: 'args', index: 0 },
      { word: '-XX:HeapDumpPath=/tmp', source: '_JAVA_OPTIONS', index: 1 },
      { word: '-Xmx2g', source: '_JAVA_OPTIONS', index: 1 },
    ]);
  });
});

describe('$(VAR) as the kubelet expands it', () => {
  it('an unknown or later variable stays as written; $$ escapes; an earlier one is expanded', () => {
    const c = {
      env: [
        { name: 'EARLY', value: '-Xmx256m' },
        {
          name: 'JAVA_TOOL_OPTIONS',
          value: '$(EARLY) -Dlater=$(LATE) -Dmissing=$(NOPE) -Descaped=$$(EARLY)',
        },
        { name: 'LATE', value: 'x' },
      ],
    };
    assert.deepEqual(jvmOptionWords(c), [
      '-Xmx256m',
      '-Dlater=$(LATE)',
      '-Dmissing=$(NOPE)',
      '-Descaped=$(EARLY)',
    ]);
  });

  it('a value from a Secret is unknown: no words from it, a reference to it stays', () => {
    const c = {
      env: [
        { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
        { name: '_JAVA_OPTIONS', valueFrom: { secretKeyRef: { name: 's', key: 'j' } } },
        { name: 'JAVA_TOOL_OPTIONS', value: '$(FROM_SECRET) -Xmx64m' },
      ],
    };
    assert.deepEqual(jvmOptionWords(c), ['$(FROM_SECRET)', '-Xmx64m']);
  });

  it('command and args are expanded against the whole env, as the kubelet does', () => {
    const c = { args: ['-Xmx$(HEAP)', '$(NOPE)'], env: env({ HEAP: '768m' }) };
    assert.deepEqual(jvmOptionWords(c), ['-Xmx768m', '$(NOPE)']);
    assert.equal(heapOf(c), 768 * MI);
  });

  it('expandReferences follows the kubelet on the odd cases', () => {
    const none = () => undefined;
    assert.equal(expandReferences('a$b $( $(X', none), 'a$b $( $(X');
    assert.equal(
      expandReferences('$$$(X)$', () => 'v'),
      '$v$',
    );
    assert.equal(
      expandReferences('$(A B)', (n) => (n === 'A B' ? 'y' : undefined)),
      'y',
    );
  });
});
