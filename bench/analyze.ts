// `npm run bench -- analyze`: `heapdump analyze` against hprof-analyzer (retained sizes) and hprof-slurp
// (shallow histogram only, so it is compared with our first pass) on the same real dumps. Each tool runs as
// its own process under /usr/bin/time (wall, user + sys CPU, peak RSS); BENCH_RUNS runs each (default 3,
// interleaved), medians with min-max. BENCH_ANALYZE_DUMPS=mid,2g,8g picks the dumps (default mid: ~280 MB; 8g needs ~12 GiB free to make and ~11 GiB to analyse).
// The peers are built from crates.io by `scripts/peer-tools` into /var/cache/kube-heapdump/cargo.
import { execFile } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { table } from '../packages/cli/src/format.ts';
import { bundle } from '../scripts/bundle.ts';
import { jvmDump, largeDump } from './hprof.ts';

const exec = promisify(execFile);
const CARGO_BIN = '/var/cache/kube-heapdump/cargo/bin';
const cli = join(import.meta.dirname, '../packages/cli/src/main.ts');

/** A ~280 MB dump of 5 M small objects (the 2 GB dump's shape, an eighth of it). */
const midDump = () =>
  jvmDump(
    'objects-280m.hprof',
    { alphas: 3_000_000, betas: 1_500_000, gammas: 500_000, alphaArrays: 250 },
    ['-Xmx2g'],
    'a ~280 MB heap dump',
  );

/**
 * A ~8.8 GB dump of 160 M small objects (the 2 GB dump's shape, four times over: every object its own, unlike
 * the uploader bench's 8 GB file, whose repeated segments an analysis would refuse).
 */
const hugeDump = () =>
  jvmDump(
    'objects-8g.real.hprof',
    { alphas: 96_000_000, betas: 48_000_000, gammas: 16_000_000, alphaArrays: 8000 },
    ['-Xmx12g'],
    'a ~8.8 GB heap dump (some minutes)',
  );

interface Measure {
  seconds: number;
  cpuSeconds: number;
  rssMiB: number;
}

/** Runs a command under /usr/bin/time; its output is discarded. A failing tool fails the bench. */
async function measure(argv: string[], okCodes = [0]): Promise<Measure> {
  const args = ['-f', 'BENCH %e %U %S %M', '--', ...argv];
  let stderr: string;
  try {
    ({ stderr } = await exec('/usr/bin/time', args, { maxBuffer: 256 << 20 }));
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    const code = Number(/Command exited with non-zero status (\d+)/.exec(e.stderr ?? '')?.[1] ?? e.code);
    if (!okCodes.includes(code)) throw new Error(`${argv.join(' ')} failed: ${e.stderr?.slice(-500)}`);
    stderr = e.stderr ?? '';
  }
  const m = /BENCH ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(stderr);
  if (!m) throw new Error(`no timing from ${argv[0]}: ${stderr.slice(-300)}`);
  return {
    seconds: Number(m[1]),
    cpuSeconds: Number(m[2]) + Number(m[3]),
    rssMiB: Math.round(Number(m[4]) / 1024),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const spread = (xs: number[], digits: number) =>
  `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;

export async function benchAnalyze(): Promise<Record<string, unknown>> {
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const wanted = (process.env.BENCH_ANALYZE_DUMPS ?? 'mid').split(',');
  const dumps: string[] = [];
  if (wanted.includes('mid')) dumps.push(await midDump());
  if (wanted.includes('2g')) dumps.push(await largeDump());
  if (wanted.includes('8g')) dumps.push(await hugeDump());
  // The CLI as it ships: one bundled file (run from source, stripping the types would cost ~1 CPU-s a run).
  const bundled = join(tmpdir(), 'kube-heapdump-bench', 'heapdump.js');
  await mkdir(join(tmpdir(), 'kube-heapdump-bench'), { recursive: true });
  await bundle(cli, bundled, true);
  const node = [process.execPath, bundled, 'analyze'];
  const results: Record<string, unknown> = {};
  for (const dump of dumps) {
    const bytes = (await stat(dump)).size;
    const tools: [string, string[], number[]][] = [
      ['ours: analyze (both passes, dominators, report)', [...node, dump, '--json'], [0]],
      // --max-memory 1Mi stops right after the first pass, on the memory check: the first pass alone.
      ['ours: first pass (objects, classes, sizes)', [...node, dump, '--max-memory', '1Mi'], [1]],
    ];
    const analyzer = join(CARGO_BIN, 'hprof-analyzer');
    const slurp = join(CARGO_BIN, 'hprof-slurp');
    if (existsSync(analyzer)) tools.push(['hprof-analyzer (retained sizes)', [analyzer, dump], [0]]);
    else console.log(`bench: ${analyzer} missing: scripts/peer-tools builds it`);
    if (existsSync(slurp)) tools.push(['hprof-slurp (shallow histogram)', [slurp, dump, '-t', '20'], [0]]);
    else console.log(`bench: ${slurp} missing: scripts/peer-tools builds it`);
    await pipeline(createReadStream(dump), new Writable({ write: (_c, _e, done) => done() })); // warm the page cache
    const measured = new Map<string, Measure[]>(tools.map(([name]) => [name, []]));
    const load: number[] = [];
    for (let r = 0; r < runs; r++) {
      for (const [name, argv, ok] of tools) {
        load.push(loadavg()[0]!);
        measured.get(name)!.push(await measure(argv, ok));
      }
    }
    const gb = bytes / 1e9;
    const rows = tools.map(([name]) => {
      const m = measured.get(name)!;
      return [
        name,
        spread(
          m.map((x) => x.seconds),
          1,
        ),
        (median(m.map((x) => x.cpuSeconds)) / gb).toFixed(1),
        spread(
          m.map((x) => x.rssMiB),
          0,
        ),
      ];
    });
    console.log(
      `\nheap analysis on ${dump} (${gb.toFixed(2)} GB), ${runs} runs, load average during the runs ${Math.min(...load).toFixed(1)}-${Math.max(...load).toFixed(1)}`,
    );
    console.log(table(['tool', 'wall s', 'CPU-s/GB', 'peak RSS MiB'], rows, new Set([1, 2, 3])));
    results[dump] = {
      bytes,
      load: [Math.min(...load), Math.max(...load)],
      tools: Object.fromEntries([...measured].map(([k, v]) => [k, v])),
    };
  }
  return results;
}
