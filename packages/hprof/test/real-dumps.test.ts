// The reader on dumps written by the JDK here, checked against the JVM's own class histogram.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync, gzipSync, zstdCompressSync } from 'node:zlib';
import {
  type ClassCount,
  FIXTURE_CLASS,
  type FixtureCounts,
  HeldJvm,
  runOutOfMemory,
} from '../../../test/support/java.ts';
import {
  analyzeFile,
  analyzeStream,
  classHistogram,
  HprofParser,
  readableClassName,
  summarize,
} from '../src/index.ts';

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b, 0x08]);
const counts: FixtureCounts = { alphas: 12345, betas: 6789, gammas: 4321, alphaArrays: 17 };

function histogramOf(bytes: Buffer): Map<string, ClassCount> {
  const p = new HprofParser();
  p.push(bytes);
  assert.equal(p.verdict().verdict, 'complete');
  return new Map(classHistogram(p).map((c) => [c.name, { instances: c.instances, bytes: c.bytes }]));
}

function assertFixtureCounts(h: Map<string, ClassCount>): void {
  assert.equal(h.get(FIXTURE_CLASS.alpha)?.instances, counts.alphas);
  assert.equal(h.get(FIXTURE_CLASS.beta)?.instances, counts.betas);
  assert.equal(h.get(FIXTURE_CLASS.gamma)?.instances, counts.gammas);
  assert.equal(h.get(FIXTURE_CLASS.alphaArray)?.instances, counts.alphaArrays);
}

/** Names of classes that are `base` or extend it, from the dump's own class hierarchy. */
function subclassesOf(bytes: Buffer, bases: string[]): Set<string> {
  const p = new HprofParser();
  p.push(bytes);
  const nameOf = (id: number) =>
    readableClassName(p.heap.strings.get(p.heap.classNames.get(id) ?? -1) ?? '?');
  const out = new Set<string>();
  for (const classId of p.heap.classes.keys()) {
    for (let id: number | undefined = classId; id; id = p.heap.classes.get(id)?.superId) {
      if (bases.includes(nameOf(id))) {
        out.add(nameOf(classId));
        break;
      }
    }
  }
  return out;
}

/** Record boundaries found by an independent walk of the top-level records. */
function recordBoundaries(bytes: Buffer): { offset: number; tag: number; length: number }[] {
  const out = [];
  let offset = bytes.indexOf(0) + 1 + 12;
  while (offset < bytes.length) {
    const tag = bytes[offset]!;
    const length = bytes.readUInt32BE(offset + 5);
    out.push({ offset, tag, length });
    offset += 9 + length;
  }
  assert.equal(offset, bytes.length);
  return out;
}

describe('HPROF reader on real JDK dumps', () => {
  let dir: string;
  let raw: Buffer;
  let gz: Buffer;
  let jvmHistogram: Map<string, ClassCount>;
  let rawUncompressedOops: Buffer;
  let jvmHistogramUncompressedOops: Map<string, ClassCount>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kh-hprof-'));
    const jvm = await HeldJvm.start(counts);
    try {
      jvmHistogram = await jvm.classHistogram();
      await jvm.dump(join(dir, 'live.hprof'));
      await jvm.dump(join(dir, 'live.hprof.gz'), 1);
    } finally {
      await jvm.close();
    }
    const wide = await HeldJvm.start(counts, ['-XX:-UseCompressedOops', '-XX:-UseCompressedClassPointers']);
    try {
      jvmHistogramUncompressedOops = await wide.classHistogram();
      await wide.dump(join(dir, 'wide.hprof'));
    } finally {
      await wide.close();
    }
    raw = await readFile(join(dir, 'live.hprof'));
    gz = await readFile(join(dir, 'live.hprof.gz'));
    rawUncompressedOops = await readFile(join(dir, 'wide.hprof'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('counts exactly the instances and arrays the fixture holds', () => {
    assertFixtureCounts(histogramOf(raw));
  });

  it('counts every class as the JVM does (jcmd GC.class_histogram on the same heap)', () => {
    const ours = histogramOf(raw);
    for (const [name, jvm] of jvmHistogram) {
      if (name === 'java.lang.Class') {
        // The dump has one class dump per linked class; mirrors of loaded-but-unlinked (CDS) classes are not in it.
        assert.ok(ours.get(name)!.instances <= jvm.instances, 'java.lang.Class');
        continue;
      }
      assert.equal(ours.get(name)?.instances, jvm.instances, name);
    }
    assert.deepEqual(
      [...ours.keys()].filter((n) => !jvmHistogram.has(n)),
      [],
      'no class the JVM does not know',
    );
  });

  it('matches the JVM byte for byte without compressed oops, except fields the JVM injects', () => {
    const ours = histogramOf(rawUncompressedOops);
    const injected = subclassesOf(rawUncompressedOops, [
      'java.lang.Class',
      'java.lang.Thread',
      'java.lang.ClassLoader',
      'java.lang.Module',
      'java.lang.invoke.MemberName',
      'java.lang.invoke.ResolvedMethodName',
    ]);
    let exact = 0;
    for (const [name, jvm] of jvmHistogramUncompressedOops) {
      const o = ours.get(name);
      assert.equal(o?.instances, jvm.instances, name);
      if (injected.has(name)) assert.ok(o!.bytes <= jvm.bytes, `${name}: ${o!.bytes} > ${jvm.bytes}`);
      else assert.equal(o?.bytes, jvm.bytes, `${name} bytes`);
      if (o?.bytes === jvm.bytes) exact++;
    }
    assert.ok(exact > 100, `${exact} classes exact`);
  });

  it('reads the JVM gzip dump (-gz=1, 1 MiB members) like the raw one', async () => {
    const s = await analyzeFile(join(dir, 'live.hprof.gz'));
    assert.equal(s.verdict, 'complete');
    assert.equal(s.compression, 'gzip');
    assert.equal(s.storedBytes, gz.length);
    assertFixtureCounts(histogramOf(gunzipSync(gz)));
  });

  it('calls a gzip dump cut at a member boundary incomplete, though gzip -t accepts it', async () => {
    // A member starts where a gzip header begins and the rest of the file decompresses on its own.
    const boundaries: number[] = [];
    for (let i = gz.indexOf(GZIP_MAGIC, 1); i > 0; i = gz.indexOf(GZIP_MAGIC, i + 1)) {
      try {
        gunzipSync(gz.subarray(i));
        boundaries.push(i);
      } catch {
        // those bytes were inside compressed data
      }
    }
    assert.ok(boundaries.length >= 2, `${boundaries.length} member boundaries in ${gz.length} bytes`);
    for (const cut of boundaries) {
      const file = join(dir, `cut-${cut}.hprof.gz`);
      await writeFile(file, gz.subarray(0, cut));
      assert.equal(spawnSync('gzip', ['-t', file]).status, 0, `gzip -t accepts the file cut at ${cut}`);
      const s = await analyzeFile(file);
      assert.equal(s.verdict, 'incomplete', `cut at member boundary ${cut}: ${s.reason}`);
    }
    for (const cut of [5, 100, Math.floor(gz.length / 2), gz.length - 4, gz.length - 1]) {
      const s = await analyzeStream([gz.subarray(0, cut)], 'gzip');
      assert.equal(s.verdict, 'incomplete', `cut inside a member at ${cut}: ${s.reason}`);
    }
  });

  it('reads zstd and plain gzip files, and calls truncated ones incomplete', async () => {
    const zst = zstdCompressSync(raw);
    const whole = await analyzeStream([zst], 'zstd');
    assert.equal(whole.verdict, 'complete');
    assert.deepEqual(whole.topClasses, summarize(parse(raw)).topClasses);
    for (const cut of [3, 1000, Math.floor(zst.length / 2), zst.length - 1]) {
      assert.equal(
        (await analyzeStream([zst.subarray(0, cut)], 'zstd')).verdict,
        'incomplete',
        `zstd cut at ${cut}`,
      );
    }
    const gzip = gzipSync(raw);
    assert.equal((await analyzeStream([gzip], 'gzip')).verdict, 'complete');
    assert.equal((await analyzeStream([gzip.subarray(0, gzip.length - 8)], 'gzip')).verdict, 'incomplete');
    const corrupt = Buffer.from(gzip);
    corrupt.fill(0x55, 100, 200);
    assert.equal((await analyzeStream([corrupt], 'gzip')).verdict, 'invalid');
  });

  it('calls the dump cut at any record boundary, mid-header or mid-record incomplete', () => {
    const records = recordBoundaries(raw);
    const cuts = new Set<number>([0, 1, 10, 18, 19, 30, 31]);
    const firstOfTag = new Map<number, { offset: number; length: number }>();
    for (const r of records) if (!firstOfTag.has(r.tag)) firstOfTag.set(r.tag, r);
    for (const r of [...firstOfTag.values(), ...records.slice(-3)]) {
      for (const d of [0, 1, 5, 9, 9 + Math.floor(r.length / 2), 9 + r.length - 1]) cuts.add(r.offset + d);
    }
    for (let i = 0; i < 60; i++) cuts.add(Math.floor(Math.random() * raw.length));
    assert.ok(firstOfTag.size >= 4, `tags ${[...firstOfTag.keys()]}`);
    for (const cut of cuts) {
      if (cut >= raw.length) continue;
      const v = parse(raw.subarray(0, cut)).verdict();
      assert.equal(v.verdict, 'incomplete', `cut at ${cut}: ${v.reason}`);
    }
  });

  it('gives the same summary however the bytes are chunked', () => {
    const whole = summarize(parse(raw));
    const p = new HprofParser();
    for (let pos = 0; pos < raw.length; ) {
      const n = 1 + Math.floor(Math.random() * 70_000);
      p.push(raw.subarray(pos, pos + n));
      pos += n;
    }
    assert.deepEqual(summarize(p), whole);
  });
});

describe('HPROF reader on a dump written on OutOfMemoryError', () => {
  it('is complete and holds the fixture objects', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kh-oom-'));
    try {
      const { code, output } = await runOutOfMemory(counts, [
        '-Xmx64m',
        '-XX:+HeapDumpOnOutOfMemoryError',
        `-XX:HeapDumpPath=${dir}`,
      ]);
      assert.notEqual(code, 0, output);
      assert.match(output, /java\.lang\.OutOfMemoryError: Java heap space/);
      const [file] = (await readdir(dir)).filter((f) => /^java_pid\d+\.hprof$/.test(f));
      assert.ok(file, `dump in ${dir}: ${output}`);
      const s = await analyzeFile(join(dir, file));
      assert.equal(s.verdict, 'complete');
      assert.ok(s.topClasses[0]?.name === 'long[]', 'the filler arrays dominate');
      assertFixtureCounts(histogramOf(await readFile(join(dir, file))));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function parse(bytes: Buffer): HprofParser {
  const p = new HprofParser();
  p.push(bytes);
  return p;
}
