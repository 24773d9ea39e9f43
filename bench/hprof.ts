// HPROF reader speed on a large real dump: full histogram, and the record walk alone (verdict only).
import { existsSync } from 'node:fs';
import { mkdir, rename, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeFile } from '@kube-heapdump/hprof';
import { table } from '../packages/cli/src/format.ts';
import { HeldJvm } from '../test/support/java.ts';

/** A ~2 GB dump of many small objects (the slow case for a histogram), made once and kept in tmp. */
export async function largeDump(): Promise<string> {
  const dir = join(tmpdir(), 'kube-heapdump-bench');
  const path = join(dir, 'objects-2g.hprof');
  if (existsSync(path)) return path;
  await mkdir(dir, { recursive: true });
  console.log('bench: making a ~2 GB heap dump with a real JVM (once; kept in tmp)...');
  const jvm = await HeldJvm.start(
    { alphas: 24_000_000, betas: 12_000_000, gammas: 4_000_000, alphaArrays: 2000 },
    ['-Xmx6g'],
  );
  try {
    await jvm.dump(`${path}.tmp`);
  } finally {
    await jvm.close();
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
