// HPROF reader speed on a large real dump: full histogram, and the record walk alone (verdict only).
import { existsSync } from 'node:fs';
import { mkdir, open, rename, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { analyzeFile, Tag } from '@kube-heapdump/hprof';
import { table } from '../packages/cli/src/format.ts';
import { type FixtureCounts, HeldJvm } from '../test/support/java.ts';

/** A dump of a real JVM holding `counts` of HeapFixture's small objects, made once and kept in tmp as `name`. */
export async function jvmDump(
  name: string,
  counts: FixtureCounts,
  jvmFlags: string[],
  what: string,
): Promise<string> {
  const dir = join(tmpdir(), 'kube-heapdump-bench');
  const path = join(dir, name);
  if (existsSync(path)) return path;
  await mkdir(dir, { recursive: true });
  console.log(`bench: making ${what} with a real JVM (once; kept in tmp)...`);
  const jvm = await HeldJvm.start(counts, jvmFlags);
  try {
    await jvm.dump(`${path}.tmp`);
  } finally {
    await jvm.close();
  }
  await rename(`${path}.tmp`, path);
  return path;
}

/** A ~2 GB dump of many small objects (the slow case for a histogram). */
export const largeDump = () =>
  jvmDump(
    'objects-2g.hprof',
    { alphas: 24_000_000, betas: 12_000_000, gammas: 4_000_000, alphaArrays: 2000 },
    ['-Xmx6g'],
    'a ~2 GB heap dump',
  );

/**
 * A ~8.8 GB dump for the uploader's memory figure at 8 GiB: the 2 GB dump's header and other records once,
 * its heap dump segments four times, then HEAP_DUMP_END. A valid HPROF (objects repeat; the walk and the
 * histogram do not mind), made once and kept in tmp.
 */
export async function largerDump(): Promise<string> {
  const source = await largeDump();
  const path = join(dirname(source), 'objects-8g.hprof');
  if (existsSync(path)) return path;
  console.log('bench: making a ~8.8 GB dump from the 2 GB one (once; kept in tmp)...');
  const src = await open(source, 'r');
  const out = await open(`${path}.tmp`, 'w');
  try {
    const size = (await src.stat()).size;
    const head = Buffer.alloc(64);
    await src.read(head, 0, 64, 0);
    const headerEnd = head.indexOf(0) + 1 + 4 + 8; // "JAVA PROFILE 1.0.2\0", id size, timestamp
    const others: [number, number][] = [[0, headerEnd]];
    const segments: [number, number][] = [];
    const recordHead = Buffer.alloc(9);
    for (let at = headerEnd; at < size; ) {
      await src.read(recordHead, 0, 9, at);
      const tag = recordHead[0]!;
      const end = at + 9 + recordHead.readUInt32BE(5);
      if (tag === Tag.HEAP_DUMP_SEGMENT) segments.push([at, end]);
      else if (tag !== Tag.HEAP_DUMP_END) others.push([at, end]);
      at = end;
    }
    const ranges = [...others, ...segments, ...segments, ...segments, ...segments];
    const buf = Buffer.allocUnsafe(8 << 20);
    let written = 0;
    for (const [from, to] of ranges) {
      for (let at = from; at < to; ) {
        const { bytesRead } = await src.read(buf, 0, Math.min(buf.length, to - at), at);
        await out.write(buf, 0, bytesRead, written);
        written += bytesRead;
        at += bytesRead;
      }
    }
    const end = Buffer.alloc(9);
    end[0] = Tag.HEAP_DUMP_END;
    await out.write(end, 0, 9, written);
  } finally {
    await src.close();
    await out.close();
  }
  await rename(`${path}.tmp`, path);
  return path;
}

async function timed<T>(f: () => Promise<T>): Promise<{ value: T; seconds: number; cpuSeconds: number }> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  const value = await f();
  const used = process.cpuUsage(cpu);
  return { value, seconds: (performance.now() - t) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
}

export async function benchHprof(): Promise<Record<string, unknown>> {
  const path = await largeDump();
  const size = (await stat(path)).size;
  await analyzeFile(path, { histogram: false }); // warm the page cache, so both runs read from memory
  const walk = await timed(() => analyzeFile(path, { histogram: false }));
  const histogram = await timed(() => analyzeFile(path));
  const mbps = (s: number) => Math.round(size / 1e6 / s);
  const rows = [
    [
      'record walk (verdict only)',
      walk.value.verdict,
      mbps(walk.seconds),
      walk.seconds.toFixed(2),
      walk.cpuSeconds.toFixed(2),
    ],
    [
      'class histogram',
      histogram.value.verdict,
      mbps(histogram.seconds),
      histogram.seconds.toFixed(2),
      histogram.cpuSeconds.toFixed(2),
    ],
  ];
  console.log(
    `\nHPROF reader on ${path} (${(size / 1e9).toFixed(2)} GB, ${histogram.value.totals.objects.toLocaleString('en-US')} objects, page cache warm)`,
  );
  console.log(`peak RSS of this process: ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);
  console.log(
    table(
      ['pass', 'verdict', 'MB/s', 'seconds', 'cpu s'],
      rows.map((r) => r.map(String)),
      new Set([2, 3, 4]),
    ),
  );
  return {
    dumpBytes: size,
    objects: histogram.value.totals.objects,
    walkMBps: mbps(walk.seconds),
    histogramMBps: mbps(histogram.seconds),
    histogramCpuSeconds: histogram.cpuSeconds,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    targets: { histogramMBps: 400 },
  };
}
