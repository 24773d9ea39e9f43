// The uploader against the usual ways to ship a dump, on the strict S3 server:
//   (a) light sink: a ~2 GB dump on disk; the server in its cheapest mode (discard, payload trusted) pinned to
//       one core, the client to the other, so the client's own cost is what is measured; then ours on a ~8.8
//       GB dump, for memory;
//   (d) S3-like link: the same, each request body capped at 40 MB/s and 20 ms added per request (a single S3
//       connection is capped; S3 scales with parallel connections);
//   (b) dump-to-durable: a real JVM fills ~2 GB and dumps on OOM; from the dump file's creation to the object
//       being complete. Peers start when the file is closed, as an inotify close_write script would;
//   (c) the same over an emulated 1 Gbit/s link (125 MB/s shared), ours compressing;
//   (r) redaction's cost: ours raw on the light sink (as in (a)), HEAPDUMP_REDACT none, strings, primitives.
// Ours runs as the image runs it (the bundle, the ENTRYPOINT's node flags); its clock stops when the object is
// complete ("dump object complete", which also logs the CPU used so far); the summary follows, timed apart.
// Peers at their defaults and tuned: `aws s3 cp` and boto3 `upload_file` (defaults 8 MB x 10; tuned 64 MB x 4),
// boto3 `put_object` (one PUT: the original blog's approach) in (b) and (c).
// Every figure is the median of BENCH_RUNS runs (default 3, interleaved), with its spread. CPU-s/GB is the
// client process's user + system time per GB of the dump.
import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { copyFile, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { table } from '../packages/cli/src/format.ts';
import { fixtureClasspath } from '../test/support/java.ts';
import { RUN_SOURCE } from '../test/support/node.ts';
import { peakRss, startWithReadyLine, stop } from '../test/support/processes.ts';
import { DEFAULT_CREDENTIAL } from '../test/support/s3/server.ts';
import { bundleUploader, imageNodeFlags, UploaderProcess } from '../test/support/uploader.ts';
import { largeDump, largerDump } from './hprof.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
/** Another uploader bundle (an earlier version's dist/main.js) to run beside ours in (a) and (d), with zstd in (b) and (c). */
const BASELINE = process.env.BENCH_BASELINE_MAIN;

interface ServerOptions {
  rate?: string;
  requestRate?: string;
  latencyMs?: number;
  /** The cheapest mode: discard bytes and trust the digests requests claim. */
  light?: boolean;
  /** Run the server on this CPU. */
  cpu?: number;
}

interface Server {
  endpoint: string;
  child: ChildProcess;
  dir: string;
}

async function startServer(o: ServerOptions): Promise<Server> {
  const dir = await mkdtemp(join(tmpdir(), 'kh-bench-s3-'));
  const args = [
    ...RUN_SOURCE,
    join(import.meta.dirname, '../test/support/s3-server.ts'),
    '--dir',
    dir,
    '--bucket',
    'dumps',
    '--discard',
  ];
  if (o.light) args.push('--trust-payload');
  if (o.rate) args.push('--rate', o.rate);
  if (o.requestRate) args.push('--request-rate', o.requestRate);
  if (o.latencyMs !== undefined) args.push('--latency', String(o.latencyMs));
  const [cmd, cmdArgs] =
    o.cpu === undefined
      ? [process.execPath, args]
      : ['taskset', ['-c', String(o.cpu), process.execPath, ...args]];
  const { child, ready } = await startWithReadyLine<{ endpoint: string }>(cmd, cmdArgs);
  return { endpoint: ready.endpoint, child, dir };
}

async function stopServer(s: Server): Promise<void> {
  await stop(s.child);
  await rm(s.dir, { recursive: true, force: true });
}

/** A peer: the command for one upload of `file`, and the HOME holding its AWS config. */
interface Peer {
  name: string;
  command(endpoint: string, file: string, key: string): string[];
  home: string;
}

const BOTO3 = (chunk?: number, threads?: number) => `
import sys, boto3
from boto3.s3.transfer import TransferConfig
s3 = boto3.client('s3', endpoint_url=sys.argv[1])
path, key = sys.argv[2], sys.argv[3]
${chunk ? `config = TransferConfig(multipart_chunksize=${chunk}, multipart_threshold=${chunk}, max_concurrency=${threads})` : 'config = TransferConfig()'}
s3.upload_file(path, 'dumps', key, Config=config)
`;
const PUT_OBJECT = `
import sys, boto3
s3 = boto3.client('s3', endpoint_url=sys.argv[1])
with open(sys.argv[2], 'rb') as f:
    s3.put_object(Bucket='dumps', Key=sys.argv[3], Body=f)
`;

type PeerName = 'cliDefault' | 'cliTuned' | 'botoDefault' | 'botoTuned' | 'putObject';

async function makePeers(): Promise<{ peers: Record<PeerName, Peer>; cleanup(): Promise<void> }> {
  const homes: string[] = [];
  const home = async (config: string) => {
    const h = await mkdtemp(join(tmpdir(), 'kh-bench-home-'));
    homes.push(h);
    await writeFile(join(h, 'aws-config'), config);
    return h;
  };
  const plain = await home('[default]\n');
  const tuned = await home('[default]\ns3 =\n  multipart_chunksize = 64MB\n  max_concurrent_requests = 4\n');
  const cli = (name: string, h: string): Peer => ({
    name,
    home: h,
    command: (endpoint, file, key) => [
      'aws',
      '--endpoint-url',
      endpoint,
      's3',
      'cp',
      '--only-show-errors',
      file,
      `s3://dumps/${key}`,
    ],
  });
  const py = (name: string, script: string): Peer => ({
    name,
    home: plain,
    command: (endpoint, file, key) => ['python3', '-c', script, endpoint, file, key],
  });
  const peers: Record<PeerName, Peer> = {
    cliDefault: cli('aws s3 cp (8 MB x 10)', plain),
    cliTuned: cli('aws s3 cp (64 MB x 4)', tuned),
    botoDefault: py('boto3 upload_file (8 MB x 10)', BOTO3()),
    botoTuned: py('boto3 upload_file (64 MiB x 4)', BOTO3(64 * 2 ** 20, 4)),
    putObject: py('boto3 put_object', PUT_OBJECT),
  };
  return {
    peers,
    cleanup: async () =>
      Promise.all(homes.map((h) => rm(h, { recursive: true, force: true }))).then(() => {}),
  };
}

function awsEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    AWS_ACCESS_KEY_ID: DEFAULT_CREDENTIAL.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DEFAULT_CREDENTIAL.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: join(home, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
  };
}

interface Measured {
  /** To the finish line: the process's exit, or ours' "dump object complete". */
  seconds: number;
  /** The whole process (ours: with the summary). */
  totalSeconds: number;
  rssMiB: number;
  /** CPU (user + system) to the finish line. */
  cpuSeconds: number;
  /** CPU of the whole process (ours: with the summary). */
  totalCpuSeconds: number;
  /** Ours: bytes of the stored object (`storedBytes` of the finish line). */
  storedBytes?: number;
}

/**
 * Runs a command under /usr/bin/time (optionally pinned to a CPU): elapsed seconds, peak RSS and CPU; with
 * `mark`, the finish line is the JSON line with that `msg`, and its `cpuSeconds` field the CPU to it.
 */
function timed(cmd: string[], env: NodeJS.ProcessEnv, cpu?: number, mark?: string): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let marked: { at: number; cpu: number; stored?: number } | undefined;
    const argv = [
      '-f',
      'TIME %e %M %U %S',
      ...(cpu === undefined ? [] : ['taskset', '-c', String(cpu)]),
      ...cmd,
    ];
    const child = spawn('/usr/bin/time', argv, { env, stdio: ['ignore', mark ? 'pipe' : 'ignore', 'pipe'] });
    if (mark) {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (marked === undefined && line.includes(`"msg":"${mark}"`)) {
          const fields = JSON.parse(line) as { cpuSeconds: number; storedBytes?: number };
          marked = { at: performance.now(), cpu: fields.cpuSeconds, stored: fields.storedBytes };
        }
      });
    }
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d;
    });
    child.on('exit', (code) => {
      const m = /TIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(err);
      if (code !== 0 || !m || (mark && marked === undefined)) {
        reject(new Error(`${cmd[0]} failed (${code}): ${err.slice(-500)}`));
        return;
      }
      const total = Number(m[1]);
      const totalCpu = Number(m[3]) + Number(m[4]);
      resolve({
        seconds: marked ? (marked.at - started) / 1000 : total,
        totalSeconds: total,
        rssMiB: Math.round(Number(m[2]) / 1024),
        // A baseline bundle that does not log its CPU at the finish line is charged its whole run.
        cpuSeconds: marked && Number.isFinite(marked.cpu) ? marked.cpu : totalCpu,
        totalCpuSeconds: totalCpu,
        ...(marked?.stored === undefined ? {} : { storedBytes: marked.stored }),
      });
    });
  });
}

function uploaderEnvFor(
  endpoint: string,
  dir: string,
  compression: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HEAPDUMP_DIR: dir,
    HEAPDUMP_BUCKET: 'dumps',
    HEAPDUMP_PREFIX: 'bench/',
    HEAPDUMP_S3_ENDPOINT: endpoint,
    HEAPDUMP_S3_FORCE_PATH_STYLE: 'true',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: DEFAULT_CREDENTIAL.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DEFAULT_CREDENTIAL.secretAccessKey,
    HEAPDUMP_COMPRESSION: compression,
    HEAPDUMP_DELETE_AFTER_UPLOAD: 'false',
    HEAPDUMP_METRICS_PORT: '0',
    ...extra,
  };
}

/** What the image runs: the bundle, with the ENTRYPOINT's node flags. */
interface Ours {
  main: string;
  flags: string[];
}

/** Our uploader with --once on a copy of `file` (it refuses a file with a second name: a hard link). */
async function oursOnce(
  ours: Ours,
  file: string,
  endpoint: string,
  compression: string,
  cpu?: number,
  extra: Record<string, string> = {},
) {
  const dir = await mkdtemp(join(tmpdir(), 'kh-bench-a-'));
  try {
    await copyFile(file, join(dir, 'java_pid1.hprof'), constants.COPYFILE_FICLONE);
    const cmd = [process.execPath, ...ours.flags, ours.main, '--once'];
    return await timed(cmd, uploaderEnvFor(endpoint, dir, compression, extra), cpu, 'dump object complete');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface Row {
  client: string;
  runs: Measured[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function summarize(rows: Row[], bytes: number) {
  return rows.map((r) => {
    const seconds = median(r.runs.map((m) => m.seconds));
    return {
      client: r.client,
      seconds,
      minSeconds: Math.min(...r.runs.map((m) => m.seconds)),
      maxSeconds: Math.max(...r.runs.map((m) => m.seconds)),
      mbps: bytes / 1e6 / seconds,
      cpuSecondsPerGB: median(r.runs.map((m) => m.cpuSeconds)) / (bytes / 1e9),
      totalCpuSecondsPerGB: median(r.runs.map((m) => m.totalCpuSeconds)) / (bytes / 1e9),
      rssMiB: Math.max(...r.runs.map((m) => m.rssMiB)),
      totalSeconds: median(r.runs.map((m) => m.totalSeconds)),
      storedGB: r.runs.every((m) => m.storedBytes !== undefined)
        ? median(r.runs.map((m) => m.storedBytes!)) / 1e9
        : undefined,
    };
  });
}

/** (a) and (d): every client uploads the same closed file, RUNS rounds, client and server on their own CPUs. */
async function closedFile(title: string, ours: Ours, peers: Peer[], server: ServerOptions, file: string) {
  const bytes = (await stat(file)).size;
  const s = await startServer({ ...server, cpu: 0 });
  const clients: { name: string; run(): Promise<Measured> }[] = [
    ...(['none', 'zstd'] as const).map((c) => ({
      name: `kube-heapdump (${c})`,
      run: () => oursOnce(ours, file, s.endpoint, c, 1),
    })),
    ...(BASELINE
      ? (['none', 'zstd'] as const).map((c) => ({
          name: `kube-heapdump baseline (${c})`,
          run: () => oursOnce({ ...ours, main: BASELINE }, file, s.endpoint, c, 1),
        }))
      : []),
    ...peers.map((p) => ({
      name: p.name,
      run: () => timed(p.command(s.endpoint, file, `bench/${Date.now()}`), awsEnv(p.home), 1),
    })),
  ];
  const rows: Row[] = clients.map((c) => ({ client: c.name, runs: [] }));
  try {
    for (let round = 1; round <= RUNS; round++) {
      for (const [i, c] of clients.entries()) {
        const m = await c.run();
        rows[i]!.runs.push(m);
        console.log(`  ${title} run ${round}: ${c.name} ${m.seconds.toFixed(1)} s, ${m.rssMiB} MiB`);
      }
    }
  } finally {
    await stopServer(s);
  }
  const summary = summarize(rows, bytes);
  const fastest = Math.max(...summary.filter((r) => !r.client.startsWith('kube')).map((r) => r.mbps));
  const lowestCpu = Math.min(
    ...summary.filter((r) => !r.client.startsWith('kube')).map((r) => r.cpuSecondsPerGB),
  );
  console.log(`\n${title}: ${(bytes / 1e9).toFixed(2)} GB on disk, median of ${RUNS} (min-max)`);
  console.log(
    table(
      [
        'client',
        'seconds',
        'min-max',
        'MB/s',
        'vs fastest peer',
        'CPU-s/GB',
        'peak RSS MiB',
        'with summary s',
        'with summary CPU-s/GB',
        'stored GB',
      ],
      summary.map((r) => [
        r.client,
        r.seconds.toFixed(1),
        `${r.minSeconds.toFixed(1)}-${r.maxSeconds.toFixed(1)}`,
        r.mbps.toFixed(0),
        `${(r.mbps / fastest).toFixed(2)}x`,
        r.cpuSecondsPerGB.toFixed(2),
        String(r.rssMiB),
        r.client.startsWith('kube') ? r.totalSeconds.toFixed(1) : '',
        r.client.startsWith('kube') ? r.totalCpuSecondsPerGB.toFixed(2) : '',
        r.storedGB === undefined ? '' : r.storedGB.toFixed(2),
      ]),
      new Set([1, 3, 4, 5, 6, 7, 8, 9]),
    ),
  );
  return { bytes, rows: summary, fastestPeerMBps: fastest, lowestPeerCpuSecondsPerGB: lowestCpu };
}

/** Ours on the ~8.8 GB dump: memory must not grow with the dump's size. */
async function larger(ours: Ours) {
  const file = await largerDump();
  const bytes = (await stat(file)).size;
  const s = await startServer({ light: true, cpu: 0 });
  const rows: Row[] = [];
  try {
    for (const compression of ['none', 'zstd', 'gzip']) {
      const m = await oursOnce(ours, file, s.endpoint, compression, 1);
      rows.push({ client: `kube-heapdump (${compression})`, runs: [m] });
      console.log(
        `  (a) ${compression} on ${(bytes / 1e9).toFixed(1)} GB: ${m.seconds.toFixed(1)} s, ${m.rssMiB} MiB`,
      );
    }
  } finally {
    await stopServer(s);
  }
  return { bytes, rows: summarize(rows, bytes) };
}

/** (r) What redaction costs ours: raw, light sink, client on one core; none, strings, primitives interleaved. */
async function redactionCost(ours: Ours, file: string) {
  const bytes = (await stat(file)).size;
  const s = await startServer({ light: true, cpu: 0 });
  const modes = ['none', 'strings', 'primitives'];
  const rows: Row[] = modes.map((m) => ({ client: `kube-heapdump (none, redact ${m})`, runs: [] }));
  try {
    for (let round = 1; round <= RUNS; round++) {
      for (const [i, mode] of modes.entries()) {
        const m = await oursOnce(ours, file, s.endpoint, 'none', 1, { HEAPDUMP_REDACT: mode });
        rows[i]!.runs.push(m);
        console.log(`  (r) run ${round}: redact ${mode} ${m.seconds.toFixed(1)} s, ${m.cpuSeconds} CPU-s`);
      }
    }
  } finally {
    await stopServer(s);
  }
  const summary = summarize(rows, bytes).map((r, i) => ({
    ...r,
    totalCpuSecondsPerGB: median(rows[i]!.runs.map((m) => m.totalCpuSeconds)) / (bytes / 1e9),
  }));
  const base = summary[0]!;
  console.log(
    `\n(r) redaction, raw, light sink: ${(bytes / 1e9).toFixed(2)} GB, median of ${RUNS} (min-max)`,
  );
  console.log(
    table(
      [
        'client',
        'seconds',
        'min-max',
        'MB/s',
        'CPU-s/GB',
        'added CPU',
        'with summary: s',
        'CPU-s/GB',
        'peak RSS MiB',
      ],
      summary.map((r) => [
        r.client,
        r.seconds.toFixed(1),
        `${r.minSeconds.toFixed(1)}-${r.maxSeconds.toFixed(1)}`,
        r.mbps.toFixed(0),
        r.cpuSecondsPerGB.toFixed(2),
        `${(((r.cpuSecondsPerGB - base.cpuSecondsPerGB) / base.cpuSecondsPerGB) * 100).toFixed(0)}%`,
        r.totalSeconds.toFixed(1),
        r.totalCpuSecondsPerGB.toFixed(2),
        String(r.rssMiB),
      ]),
      new Set([1, 3, 4, 5, 6, 7, 8]),
    ),
  );
  return { bytes, rows: summary, targets: { mbps: 125, addedCpu: 0.25 } };
}

interface DurableRun {
  /** From the dump file's creation to the object being complete in the store. */
  seconds: number;
  /** From the file's creation to the JVM's exit (the dump written). */
  dumpSeconds: number;
  /** Ours: from the file's creation to the summary stored. */
  summarySeconds?: number;
  bytes: number;
  rssMiB?: number;
}

/** (b)/(c): a JVM dumps on OOM; the clock starts when the dump file appears. One run. */
async function dumpOnce(
  ours: Ours,
  server: Server,
  client: { peer?: Peer; compression?: string; main?: string },
): Promise<DurableRun> {
  const cp = await fixtureClasspath();
  const dir = await mkdtemp(join(tmpdir(), 'kh-bench-b-'));
  try {
    const file = join(dir, 'java_pid1.hprof');
    const uploader = client.compression
      ? new UploaderProcess(
          uploaderEnvFor(server.endpoint, dir, client.compression),
          [],
          client.main ?? ours.main,
          ours.flags,
        )
      : undefined;
    const jvm = spawn(
      'java',
      [
        '-Xmx2g',
        '-Dfill=mixed',
        '-XX:+HeapDumpOnOutOfMemoryError',
        `-XX:HeapDumpPath=${file}`,
        '-XX:+ExitOnOutOfMemoryError',
        '-cp',
        cp,
        'HeapFixture',
        'oom',
        '0',
        '0',
        '0',
        '1',
      ],
      { stdio: 'ignore' },
    );
    let exited = false;
    const jvmExit = new Promise((r) => jvm.once('exit', r)).then(() => {
      exited = true;
    });
    let created: number | undefined;
    while (created === undefined) {
      const exists = await stat(file).then(
        () => true,
        () => false,
      );
      if (exists) created = performance.now();
      else if (exited) throw new Error('the JVM exited without writing a dump');
      else await new Promise((r) => setTimeout(r, 2));
    }
    let durable: number | undefined;
    void uploader
      ?.waitForLog((l) => l.msg === 'dump object complete', 600_000)
      .then(() => {
        durable = performance.now();
      });
    await jvmExit; // the dump file is closed
    const closed = performance.now();
    const bytes = (await stat(file)).size;
    if (uploader) {
      await uploader.waitForLog((l) => l.msg === 'dump stored', 600_000);
      const stored = performance.now();
      const rssMiB = Math.round((await peakRss(uploader.child.pid!)) / 2 ** 20);
      await uploader.stop();
      return {
        seconds: ((durable ?? stored) - created) / 1000,
        dumpSeconds: (closed - created) / 1000,
        summarySeconds: (stored - created) / 1000,
        bytes,
        rssMiB,
      };
    }
    const peer = client.peer!;
    await timed(peer.command(server.endpoint, file, `bench/${Date.now()}`), awsEnv(peer.home));
    return { seconds: (performance.now() - created) / 1000, dumpSeconds: (closed - created) / 1000, bytes };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function dumpToDurable(
  title: string,
  ours: Ours,
  server: ServerOptions,
  clients: { name: string; peer?: Peer; compression?: string; main?: string }[],
) {
  const s = await startServer(server);
  const runs = clients.map(() => [] as DurableRun[]);
  try {
    for (let round = 1; round <= RUNS; round++) {
      for (const [i, c] of clients.entries()) {
        const r = await dumpOnce(ours, s, c);
        runs[i]!.push(r);
        console.log(
          `  ${title} run ${round}: ${c.name} ${r.seconds.toFixed(1)} s (JVM ${r.dumpSeconds.toFixed(1)} s)`,
        );
      }
    }
  } finally {
    await stopServer(s);
  }
  return clients.map((c, i) => {
    const r = runs[i]!;
    const summaries = r.flatMap((x) => (x.summarySeconds === undefined ? [] : [x.summarySeconds]));
    return {
      client: c.name,
      seconds: median(r.map((x) => x.seconds)),
      minSeconds: Math.min(...r.map((x) => x.seconds)),
      maxSeconds: Math.max(...r.map((x) => x.seconds)),
      dumpSeconds: median(r.map((x) => x.dumpSeconds)),
      summarySeconds: summaries.length > 0 ? median(summaries) : undefined,
      bytes: median(r.map((x) => x.bytes)),
      rssMiB: r.some((x) => x.rssMiB !== undefined) ? Math.max(...r.map((x) => x.rssMiB ?? 0)) : undefined,
    };
  });
}

function durableTable(
  title: string,
  rows: Awaited<ReturnType<typeof dumpToDurable>>,
  base: number,
  against: string,
) {
  console.log(
    `\n${title} (dumps of ~${(rows[0]!.bytes / 1e9).toFixed(2)} GB; ratio against ${against}; median of ${RUNS})`,
  );
  console.log(
    table(
      [
        'client',
        'JVM dump s',
        'created to durable s',
        'min-max',
        'ratio',
        'summary stored s',
        'peak RSS MiB',
      ],
      rows.map((r) => [
        r.client,
        r.dumpSeconds.toFixed(1),
        r.seconds.toFixed(1),
        `${r.minSeconds.toFixed(1)}-${r.maxSeconds.toFixed(1)}`,
        `${(r.seconds / base).toFixed(2)}x`,
        r.summarySeconds === undefined ? '' : r.summarySeconds.toFixed(1),
        r.rssMiB === undefined ? '' : String(r.rssMiB),
      ]),
      new Set([1, 2, 4, 5, 6]),
    ),
  );
}

/** `npm run bench -- uploader` runs every scenario; BENCH_SCENARIOS=a,d picks some. */
export async function benchUploader(): Promise<Record<string, unknown>> {
  const wanted = new Set((process.env.BENCH_SCENARIOS ?? 'a,d,r,b,c').split(','));
  const out = await mkdtemp(join(tmpdir(), 'kh-bench-bundle-'));
  const { peers, cleanup } = await makePeers();
  const ours: Ours = { main: await bundleUploader(out), flags: imageNodeFlags() };
  const results: Record<string, unknown> = { runs: RUNS };
  try {
    const multipart = [peers.cliDefault, peers.cliTuned, peers.botoDefault, peers.botoTuned];
    if (wanted.has('a')) {
      results.lightSink = await closedFile(
        '(a) light sink',
        ours,
        multipart,
        { light: true },
        await largeDump(),
      );
      results.larger = await larger(ours);
      const l = results.larger as Awaited<ReturnType<typeof larger>>;
      console.log(`\n(a) kube-heapdump on ${(l.bytes / 1e9).toFixed(2)} GB (memory must not grow with size)`);
      console.log(
        table(
          ['client', 'object stored s', 'with summary s', 'CPU-s/GB', 'peak RSS MiB'],
          l.rows.map((r) => [
            r.client,
            r.seconds.toFixed(1),
            r.totalSeconds.toFixed(1),
            r.cpuSecondsPerGB.toFixed(2),
            String(r.rssMiB),
          ]),
          new Set([1, 2, 3, 4]),
        ),
      );
    }
    if (wanted.has('d')) {
      results.s3LikeLink = await closedFile(
        '(d) S3-like link (40 MB/s per request, 20 ms per request)',
        ours,
        multipart,
        { light: true, requestRate: '40MB/s', latencyMs: 20 },
        await largeDump(),
      );
    }
    if (wanted.has('r')) results.redaction = await redactionCost(ours, await largeDump());
    const jvmPeers = [peers.cliDefault, peers.botoDefault, peers.putObject].map((p) => ({
      name: p.name,
      peer: p,
    }));
    if (wanted.has('b')) {
      const b = await dumpToDurable('(b)', ours, {}, [
        { name: 'kube-heapdump (none)', compression: 'none' },
        { name: 'kube-heapdump (zstd)', compression: 'zstd' },
        ...(BASELINE ? [{ name: 'kube-heapdump baseline (zstd)', compression: 'zstd', main: BASELINE }] : []),
        ...jvmPeers,
      ]);
      const blog = b.find((r) => r.client === peers.putObject.name)!.seconds;
      durableTable('(b) dump-to-durable, peers raw', b, blog, "the blog's pipeline (boto3 put_object)");
      results.dumpToDurable = b;
    }
    if (wanted.has('c')) {
      const c = await dumpToDurable('(c)', ours, { rate: '125MB/s' }, [
        { name: 'kube-heapdump (zstd)', compression: 'zstd' },
        { name: 'kube-heapdump (gzip)', compression: 'gzip' },
        ...(BASELINE ? [{ name: 'kube-heapdump baseline (zstd)', compression: 'zstd', main: BASELINE }] : []),
        ...jvmPeers,
      ]);
      const fastest = Math.min(...c.filter((r) => !r.client.startsWith('kube')).map((r) => r.seconds));
      durableTable('(c) dump-to-durable at 125 MB/s, peers raw', c, fastest, 'the fastest raw peer');
      results.dumpToDurableAt125MBps = c;
    }
    results.targets = {
      lightSinkVsFastestPeer: 1.1,
      s3LikeLinkVsFastestPeer: 1.1,
      cpuSecondsPerGB: 'at most the lowest peer',
      rssMiB: 128,
      dumpToDurableVsBlog: 0.5,
      compressedVsRawPeers: 0.5,
    };
    return results;
  } finally {
    await cleanup();
    await rm(out, { recursive: true, force: true });
  }
}
