// The heap analysis on dumps of real JVMs whose retained sizes follow from how the program built its heap
// (test/fixtures/java/RetainFixture.java), with the sizes a 64-bit HotSpot gives objects: 12-byte headers and
// 4-byte references with compressed oops, 16 and 8 without; arrays 16 (24) bytes of header; 8-byte alignment.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClassRetained, HeapAnalysis } from '@kube-heapdump/contract';
import { HeldJvm } from '../../../test/support/java.ts';
import { analyzeHeap, fileSource } from '../src/index.ts';

const align8 = (n: number) => Math.ceil(n / 8) * 8;
/** Compressed oops and class pointers (JDK 17, heap under 32 GiB). */
const obj = (fieldBytes: number) => align8(12 + fieldBytes);
const arr = (elementBytes: number, length: number) => align8(16 + elementBytes * length);
const REF = 4;

// Constants of RetainFixture.java.
const MAP_ENTRIES = 64;
const MAP_ARRAY_LONGS = 1000;
const CHAIN_LINKS = 100;
const CHAIN_PAYLOAD = 1000;
const DIAMOND_PAYLOAD = 50000;
const WEAK_PAYLOAD = 4000000;
const LOCAL_PAYLOAD = 300000;
const SESSIONS = 7500;
const SESSION_BYTES = 10240;
const DUP_COPIES = 300;
const DUP_SHARED = 200;
const DUP_WIDE = 50;
const ISOLATED_PAYLOAD = 200000;
/** java.lang.String (JDK 9+): value; hash; coder, hashIsZero. */
const STRING = obj(REF + 4 + 1 + 1);

/** java.util.HashMap: keySet, values (AbstractMap), table, entrySet; size, modCount, threshold, loadFactor. */
const HASHMAP = obj(4 * REF + 4 * 4);
/** HashMap.Node: hash; key, value, next. */
const NODE = obj(4 + 3 * REF);
const holder = obj(REF);

let dir: string;
let known: HeapAnalysis;
let knownUncompressed: HeapAnalysis;

function byClass(a: HeapAnalysis, name: string): ClassRetained {
  const row = a.retainedByClass.find((c) => c.name === name);
  assert.ok(row, `${name} is in the retained-by-class table`);
  return row;
}

async function dumpOf(mode: string, file: string, all: boolean): Promise<string> {
  const jvm = await HeldJvm.startMain('RetainFixture', [mode], ['-Xmx256m', '-XX:+UseSerialGC']);
  try {
    const path = join(dir, file);
    await jvm.dump(path, file.endsWith('.gz') ? 1 : undefined, all);
    return path;
  } finally {
    await jvm.close();
  }
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'analysis-'));
  // -all: no GC before the dump, so the weakly referenced array is still in it.
  const path = await dumpOf('known', 'known.hprof', true);
  known = await analyzeHeap(await fileSource(path), { top: 1e6 });
  knownUncompressed = await analyzeHeap(await fileSource(path), { top: 1e6, compressedOops: false });
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('retained sizes known by construction', () => {
  it('infers compressed oops from a 256 MiB heap, and says so', () => {
    assert.equal(known.layout.compressedOops, true);
    assert.match(known.layout.source, /^inferred/);
    assert.equal(knownUncompressed.layout.source, 'given');
  });

  it('a map retains its table, nodes, keys and the N arrays', () => {
    const entry = NODE + obj(4) /* Integer */ + arr(8, MAP_ARRAY_LONGS);
    const expected = holder + HASHMAP + arr(REF, 128) + MAP_ENTRIES * entry;
    assert.equal(byClass(known, 'RetainFixture$MapHolder').retainedBytes, expected);
  });

  it('a chain retains every link after it, counted once for the class', () => {
    const link = obj(2 * REF) + arr(1, CHAIN_PAYLOAD);
    assert.equal(byClass(known, 'RetainFixture$ChainHolder').retainedBytes, holder + CHAIN_LINKS * link);
    const links = byClass(known, 'RetainFixture$Link');
    assert.equal(links.instances, CHAIN_LINKS);
    assert.equal(links.retainedBytes, CHAIN_LINKS * link);
  });

  it('in a diamond neither branch retains the bottom; the top does', () => {
    const pair = obj(2 * REF);
    const expected = holder + 4 * pair + arr(1, DIAMOND_PAYLOAD);
    assert.equal(byClass(known, 'RetainFixture$DiamondHolder').retainedBytes, expected);
    // The four pairs as a class: the top dominates the other three, so the class retains what the top does.
    assert.equal(byClass(known, 'RetainFixture$Pair').retainedBytes, expected - holder);
  });

  it('a weak reference does not retain its referent, which is reported unreachable', () => {
    const weakReference = obj(4 * REF); // referent, queue, next, discovered
    assert.equal(byClass(known, 'RetainFixture$WeakHolder').retainedBytes, holder + weakReference);
    const unreachableBytes = known.unreachable.topClasses.find((c) => c.name === 'byte[]')?.shallowBytes ?? 0;
    assert.ok(unreachableBytes >= arr(1, WEAK_PAYLOAD), `unreachable byte[]: ${unreachableBytes}`);
  });

  it("a thread's local variable retains what it holds, and its thread retains it (as MAT attributes locals)", () => {
    const local = holder + arr(1, LOCAL_PAYLOAD);
    assert.equal(byClass(known, 'RetainFixture$LocalHolder').retainedBytes, local);
    const suspect = known.suspects.find((s) =>
      s.path.some((p) => p.via === '<Java local>' && p.object.className === 'RetainFixture$LocalHolder'),
    );
    assert.ok(suspect, 'the thread is a suspect (the payload is over 10 % of this small heap)');
    assert.equal(suspect.object.className, 'java.lang.Thread');
    assert.ok(suspect.retainedBytes >= local);
    const step = suspect.path.find((p) => p.via === '<Java local>')!;
    assert.equal(step.object.className, 'RetainFixture$LocalHolder');
    assert.equal(step.object.retainedBytes, local);
  });

  it("threads: the local-holder thread by name, its stack, the frame's local and what its locals retain", () => {
    const thread = known.threads?.find((t) => t.name === 'local-holder');
    assert.ok(thread, `the thread by its name: ${known.threads?.map((t) => t.name).join(', ')}`);
    assert.deepEqual(thread.frames[0], {
      method: 'java.lang.Thread.sleep',
      location: 'Native Method',
      locals: [],
    });
    const frame = thread.frames.find((f) => /^RetainFixture\.lambda\$known\$\d+$/.test(f.method));
    assert.ok(frame, thread.frames.map((f) => f.method).join(' <- '));
    assert.match(frame.location, /^RetainFixture\.java:\d+$/);
    const local = frame.locals.find((o) => o.className === 'RetainFixture$LocalHolder');
    assert.equal(local?.retainedBytes, holder + arr(1, LOCAL_PAYLOAD));
    // Its stack alone keeps alive the holder, the lambda (one captured reference) and `ready` (an Object).
    assert.equal(thread.localsRetainedBytes, holder + arr(1, LOCAL_PAYLOAD) + obj(REF) + obj(0));
    assert.ok(thread.object.retainedBytes > thread.localsRetainedBytes);
    assert.equal(thread.object.className, 'java.lang.Thread');
    assert.ok(known.threads?.some((t) => t.name === 'main'));
  });

  it('top consumers by class loader: a class of its own loader retains its static payload, under that loader', () => {
    const row = known.topClassLoaders?.find((l) => l.loader?.className === 'RetainFixture$IsolatedLoader');
    assert.ok(row, JSON.stringify(known.topClassLoaders?.slice(0, 5)));
    assert.equal(row.name, `RetainFixture$IsolatedLoader @ ${row.loader?.id}`);
    // One top-level dominator, the class object (a class object counts its static fields: one reference).
    assert.deepEqual([row.objects, row.retainedBytes], [1, obj(REF) + arr(1, ISOLATED_PAYLOAD)]);
    assert.ok(known.topClassLoaders?.some((l) => l.name === '<bootstrap>' && l.loader === undefined));
  });

  it('duplicate strings: copies with their own arrays, copies sharing one, UTF-16 copies, and their waste', () => {
    const dups = known.duplicateStrings;
    assert.ok(dups, 'the duplicate strings are analysed');
    const find = (text: string) => {
      const row = dups.top.find((d) => d.text === text);
      assert.ok(row, `${text} is among the duplicates: ${JSON.stringify(dups.top.slice(0, 5))}`);
      return row;
    };
    const copied = `kube-heapdump duplicate #${DUP_COPIES * 7}`;
    assert.deepEqual(
      { ...find(copied), example: '' },
      {
        text: copied,
        length: copied.length,
        strings: DUP_COPIES,
        arrays: DUP_COPIES,
        wastedBytes: (DUP_COPIES - 1) * (STRING + arr(1, copied.length)),
        example: '',
      },
    );
    const shared = `kube-heapdump shared #${DUP_SHARED * 7}`;
    const s = find(shared);
    assert.deepEqual([s.strings, s.arrays, s.wastedBytes], [DUP_SHARED + 1, 1, DUP_SHARED * STRING]);
    // Not Latin-1: the JVM stores it as UTF-16, 2 bytes a character.
    const wide = `kube-heapdump wide \u2603 #${DUP_WIDE * 7}`;
    const w = find(wide);
    assert.deepEqual(
      [w.length, w.strings, w.arrays, w.wastedBytes],
      [wide.length, DUP_WIDE, DUP_WIDE, (DUP_WIDE - 1) * (STRING + arr(1, 2 * wide.length))],
    );
    assert.ok(dups.wastedBytes >= s.wastedBytes + w.wastedBytes + find(copied).wastedBytes);
    assert.ok(dups.duplicated <= dups.strings && dups.contents < dups.strings);
  });

  it('under-filled collections: size against the capacity the JDK gave them, the empty slots wasted', () => {
    const c = known.collections;
    assert.ok(c, 'the collections are analysed');
    const largest = (className: string) => {
      const row = c.top.find((t) => t.object.className === className);
      assert.ok(row, `a ${className} among the under-filled`);
      return { size: row.size, capacity: row.capacity, wastedBytes: row.wastedBytes };
    };
    const expect = (size: number, capacity: number) => ({
      size,
      capacity,
      wastedBytes: (capacity - size) * REF,
    });
    assert.deepEqual(largest('java.util.HashMap'), expect(3, 1 << 16));
    assert.deepEqual(largest('java.util.ArrayList'), expect(10, 30000));
    assert.deepEqual(largest('java.util.HashSet'), expect(2, 1 << 14));
    assert.deepEqual(largest('java.util.ArrayDeque'), expect(5, 20001));
    // The HashSet's map is counted as the HashSet, not a second time as a HashMap.
    assert.ok(!c.top.some((t) => t.object.className === 'java.util.HashMap' && t.capacity === 1 << 14));
    const maps = c.classes.find((r) => r.className === 'java.util.HashMap');
    assert.ok(maps && maps.wastedBytes >= (65536 - 3) * REF && maps.capacity >= 65536);
  });

  it('without compressed oops, 16-byte headers and 8-byte references', () => {
    const o = (fieldBytes: number) => align8(16 + fieldBytes);
    const a = (elementBytes: number, length: number) => align8(24 + elementBytes * length);
    const link = o(16) + a(1, CHAIN_PAYLOAD);
    assert.equal(
      byClass(knownUncompressed, 'RetainFixture$ChainHolder').retainedBytes,
      o(8) + CHAIN_LINKS * link,
    );
  });
});

describe('leak suspects', () => {
  let leak: HeapAnalysis;
  before(async () => {
    const path = await dumpOf('leak', 'leak.hprof.gz', false);
    leak = await analyzeHeap(await fileSource(path), { top: 50 });
  });

  it('names the static map of ~75 MiB of sessions as the top suspect, with its exact retained size and path', () => {
    // 7500 sessions: keys 1000..8499 (Long, not cached) in a table grown to 16384 slots, no collisions.
    const session = NODE + obj(8) /* Long */ + obj(8 + 8 + REF) + arr(1, SESSION_BYTES);
    const map = HASHMAP + arr(REF, 16384) + SESSIONS * session;
    const top = leak.suspects[0];
    assert.ok(top, 'a suspect');
    assert.ok(top.percent >= 10);
    const step = top.path.find((s) => s.via === 'static SESSION_MAP');
    assert.ok(
      step,
      `the path goes through RetainFixture.SESSION_MAP: ${top.path.map((s) => s.via).join(' -> ')}`,
    );
    assert.equal(step.object.className, 'java.util.HashMap');
    assert.equal(step.object.retainedBytes, map);
    assert.equal(top.accumulationPoint.className, 'java.util.HashMap$Node[]');
    assert.equal(top.accumulationPoint.retainedBytes, map - HASHMAP);
    assert.equal(top.path.at(-1)?.object.id, top.accumulationPoint.id);
    assert.match(top.path[0]!.via, /^GC root/);
  });

  it("groups the largest dominators by package: the fixture's (default) package comes first, with the map", () => {
    const first = leak.topPackages[0]!;
    assert.equal(first.name, '<default>');
    const map = leak.suspects[0]!.path.find((s) => s.via === 'static SESSION_MAP')!.object.retainedBytes;
    assert.ok(first.retainedBytes >= map && first.retainedBytes < map + (1 << 20), `${first.retainedBytes}`);
  });

  it("groups them by class loader: the application class loader's comes first, with the map", () => {
    const first = leak.topClassLoaders?.[0];
    assert.equal(first?.loader?.className, 'jdk.internal.loader.ClassLoaders$AppClassLoader');
    const map = leak.suspects[0]!.path.find((s) => s.via === 'static SESSION_MAP')!.object.retainedBytes;
    assert.ok(first.retainedBytes >= map && first.retainedBytes < map + (1 << 20), `${first.retainedBytes}`);
  });
});
