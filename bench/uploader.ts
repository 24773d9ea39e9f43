// The uploader against the usual ways to ship a dump, all on the same strict S3 server (discard mode):
//   (a) a ~2 GB dump already on disk: MB/s and peak RSS;
//   (b) dump-to-durable: a real JVM fills ~2 GB and dumps on OOM; time from the dump file's creation to the
//       object being complete. Peers start when the file is closed, as an inotify close_write script would;
//   (c) the same over an emulated 1 Gbit/s link (server limited to 125 MB/s), the uploader compressing.
// Ours runs as the image runs it (the bundle, the ENTRYPOINT's node flags); its clock stops when the object is
// complete ("dump object complete"), the summary following; both are reported.
// Peers: `aws s3 cp` (64 MB parts, 4 concurrent), boto3 upload_file (64 MiB x 4), boto3 put_object (one PUT:
// the original blog's approach).
import { type ChildProcess, spawn } from 'node:child_process';
import { link, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { table } from '../packages/cli/src/format.ts';
import { fixtureClasspath } from '../test/support/java.ts';
import { peakRss, startWithReadyLine, stop } from '../test/support/processes.ts';
import { DEFAULT_CREDENTIAL } from '../test/support/s3/server.ts';
import { bundleUploader, imageNodeFlags, UploaderProcess } from '../test/support/uploader.ts';
import { largeDump, largerDump } from './hprof.ts';

const peers = ['kube-heapdump', 'aws s3 cp', 'boto3 upload_file', 'boto3 put_object'] as const;
type Peer = (typeof peers)[number];

interface Server {
  endpoint: string;
  child: ChildProcess;
  dir: string;
}

async function startServer(rate?: string): Promise<Server> {
  const dir = await mkdtemp(join(tmpdir(), 'kh-bench-s3-'));
  const args = [
    join(import.meta.dirname, '../test/support/s3-server.ts'),
    '--dir',
    dir,
    '--bucket',
    'dumps',
    '--discard',
  ];
  if (rate) args.push('--rate', rate);
  const { child, ready } = await startWithReadyLine<{ endpoint: string }>(process.execPath, args);
  return { endpoint: ready.endpoint, child, dir };
}

async function stopServer(s: Server): Promise<void> {
  await stop(s.child);
  await rm(s.dir, { recursive: true, force: true });
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

const BOTO3 = (mode: 'upload_file' | 'put_object') => `
import sys, boto3
from boto3.s3.transfer import TransferConfig
s3 = boto3.client('s3', endpoint_url=sys.argv[1])
path, key = sys.argv[2], sys.argv[3]
if '${mode}' == 'upload_file':
    s3.upload_file(path, 'dumps', key, Config=TransferConfig(multipart_chunksize=64 * 1024 * 1024, max_concurrency=4, multipart_threshold=64 * 1024 * 1024))
else:
    with open(path, 'rb') as f:
        s3.put_object(Bucket='dumps', Key=key, Body=f)
`;

/** Runs a peer on a closed file under /usr/bin/time: elapsed seconds and peak RSS. */
async function runPeer(peer: Exclude<Peer, 'kube-heapdump'>, file: string, server: Server, home: string) {
  const key = `bench/${peer.replace(/\W+/g, '-')}-${Date.now()}`;
  const cmd: Record<typeof peer, string[]> = {
    'aws s3 cp': [
      'aws',
      '--endpoint-url',
      server.endpoint,
      's3',
      'cp',
      '--only-show-errors',
      file,
      `s3://dumps/${key}`,
    ],
    'boto3 upload_file': ['python3', '-c', BOTO3('upload_file'), server.endpoint, file, key],
    'boto3 put_object': ['python3', '-c', BOTO3('put_object'), server.endpoint, file, key],
  };
  return timed(cmd[peer], awsEnv(home));
}

/**
 * Runs a command under /usr/bin/time: elapsed seconds and peak RSS; with `mark`, also the seconds until the
 * command logged a JSON line with that `msg` (ours: "dump object complete").
 */
function timed(
  cmd: string[],
  env: NodeJS.ProcessEnv,
  mark?: string,
): Promise<{ seconds: number; rssMiB: number; markSeconds?: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let marked: number | undefined;
    const child = spawn('/usr/bin/time', ['-f', 'TIME %e %M', ...cmd], {
      env,
      stdio: ['ignore', mark ? 'pipe' : 'ignore', 'pipe'],
    });
    if (mark) {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (marked === undefined && line.includes(`"msg":"${mark}"`)) marked = performance.now();
      });
    }
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d;
    });
    child.on('exit', (code) => {
      const m = /TIME ([\d.]+) (\d+)/.exec(err);
      if (code !== 0 || !m || (mark && marked === undefined))
        reject(new Error(`${cmd[0]} failed (${code}): ${err.slice(-500)}`));
      else
        resolve({
          seconds: Number(m[1]),
          rssMiB: Math.round(Number(m[2]) / 1024),
          ...(marked === undefined ? {} : { markSeconds: (marked - started) / 1000 }),
        });
    });
  });
}

function uploaderEnvFor(server: Server, dir: string, compression: string): Record<string, string> {
  return {
    HEAPDUMP_DIR: dir,
    HEAPDUMP_BUCKET: 'dumps',
    HEAPDUMP_PREFIX: 'bench/',
    HEAPDUMP_S3_ENDPOINT: server.endpoint,
    HEAPDUMP_S3_FORCE_PATH_STYLE: 'true',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: DEFAULT_CREDENTIAL.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DEFAULT_CREDENTIAL.secretAccessKey,
    HEAPDUMP_COMPRESSION: compression,
    HEAPDUMP_DELETE_AFTER_UPLOAD: 'false',
  };
}

const rawPeers = peers.filter((p) => p !== 'kube-heapdump').map((peer) => ({ peer }));

/** What the image runs: the bundle, with the ENTRYPOINT's node flags. */
interface Ours {
  main: string;
  flags: string[];
}

/** Our uploader with --once on a copy (hard link) of `file`: seconds and peak RSS of the whole run. */
async function oursOnce(ours: Ours, file: string, server: Server, compression: string) {
  const dir = await mkdtemp(join(tmpdir(), 'kh-bench-a-'));
  try {
    await link(file, join(dir, 'java_pid1.hprof'));
    const env = {
      PATH: process.env.PATH,
      ...uploaderEnvFor(server, dir, compression),
      HEAPDUMP_METRICS_PORT: '0',
    };
    return await timed([process.execPath, ...ours.flags, ours.main, '--once'], env, 'dump object complete');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** (a): every peer uploads the same closed file; then our memory on a 4x larger one. */
async function onDisk(ours: Ours, home: string) {
  const file = await largeDump();
  const size = (await stat(file)).size;
  const server = await startServer();
  const rows: { peer: string; seconds: number; mbps: number; rssMiB: number; withSummarySeconds?: number }[] =
    [];
  const larger: {
    compression: string;
    bytes: number;
    seconds: number;
    rssMiB: number;
    markSeconds?: number;
  }[] = [];
  try {
    // Ours raw (like the peers) and with its default compression (MB/s of the dump's own bytes). Stored when
    // the object is complete; the summary (SHA-256, histogram) follows, reported beside.
    for (const compression of ['none', 'zstd']) {
      const r = await oursOnce(ours, file, server, compression);
      const seconds = r.markSeconds!;
      rows.push({
        peer: `kube-heapdump (${compression})`,
        seconds,
        rssMiB: r.rssMiB,
        mbps: Math.round(size / 1e6 / seconds),
        withSummarySeconds: r.seconds,
      });
      console.log(`  (a) ${rows.at(-1)!.peer}: ${seconds.toFixed(1)} s`);
    }
    for (const { peer } of rawPeers) {
      const r = await runPeer(peer, file, server, home);
      rows.push({ peer, ...r, mbps: Math.round(size / 1e6 / r.seconds) });
      console.log(`  (a) ${peer}: ${r.seconds.toFixed(1)} s`);
    }
    const big = await largerDump();
    const bigSize = (await stat(big)).size;
    for (const compression of ['none', 'zstd', 'gzip']) {
      larger.push({ compression, bytes: bigSize, ...(await oursOnce(ours, big, server, compression)) });
      console.log(
        `  (a) kube-heapdump ${compression} on ${(bigSize / 1e9).toFixed(1)} GB: ${larger.at(-1)!.seconds} s`,
      );
    }
  } finally {
    await stopServer(server);
  }
  return { size, rows, larger };
}

interface DurableRow {
  peer: string;
  /** From the dump file's creation to the object being complete in the store. */
  seconds: number;
  /** From the file's creation to the JVM's exit (the dump written). */
  dumpSeconds: number;
  /** Ours: from the file's creation to the summary stored and the local file done with. */
  summarySeconds?: number;
  bytes: number;
  rssMiB?: number;
}

/** (b)/(c): a JVM dumps on OOM; the clock starts when the dump file appears. */
async function dumpToDurable(
  ours: Ours,
  home: string,
  rate: string | undefined,
  runs: readonly { peer: Peer; compression?: string }[],
) {
  const server = await startServer(rate);
  const cp = await fixtureClasspath();
  const rows: DurableRow[] = [];
  try {
    for (const { peer, compression } of runs) {
      const dir = await mkdtemp(join(tmpdir(), 'kh-bench-b-'));
      const file = join(dir, 'java_pid1.hprof');
      const uploader = compression
        ? new UploaderProcess(uploaderEnvFor(server, dir, compression), [], ours.main, ours.flags)
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
      const name = compression ? `${peer} (${compression})` : peer;
      const bytes = (await stat(file)).size;
      if (uploader) {
        await uploader.waitForLog((l) => l.msg === 'dump stored', 600_000);
        const stored = performance.now();
        rows.push({
          peer: name,
          seconds: ((durable ?? stored) - created) / 1000,
          dumpSeconds: (closed - created) / 1000,
          summarySeconds: (stored - created) / 1000,
          bytes,
          rssMiB: Math.round((await peakRss(uploader.child.pid!)) / 2 ** 20),
        });
        await uploader.stop();
      } else {
        await runPeer(peer as Exclude<Peer, 'kube-heapdump'>, file, server, home);
        rows.push({
          peer: name,
          seconds: (performance.now() - created) / 1000,
          dumpSeconds: (closed - created) / 1000,
          bytes,
        });
      }
      console.log(`  ${rate ? '(c)' : '(b)'} ${name}: ${rows.at(-1)!.seconds.toFixed(1)} s`);
      await rm(dir, { recursive: true, force: true });
    }
  } finally {
    await stopServer(server);
  }
  return rows;
}

function durableTable(title: string, rows: DurableRow[], base: number, against: string): void {
  console.log(`\n${title} (dumps of ~${(rows[0]!.bytes / 1e9).toFixed(2)} GB; ratio against ${against})`);
  console.log(
    table(
      ['peer', 'dump written s', 'created to durable s', 'ratio', 'summary stored s', 'peak RSS MiB'],
      rows.map((r) => [
        r.peer,
        r.dumpSeconds.toFixed(1),
        r.seconds.toFixed(1),
        `${(r.seconds / base).toFixed(2)}x`,
        r.summarySeconds === undefined ? '' : r.summarySeconds.toFixed(1),
        r.rssMiB === undefined ? '' : String(r.rssMiB),
      ]),
      new Set([1, 2, 3, 4, 5]),
    ),
  );
}

export async function benchUploader(): Promise<Record<string, unknown>> {
  const home = await mkdtemp(join(tmpdir(), 'kh-bench-home-'));
  await writeFile(
    join(home, 'aws-config'),
    '[default]\ns3 =\n  multipart_chunksize = 64MB\n  max_concurrent_requests = 4\n',
  );
  const out = await mkdtemp(join(tmpdir(), 'kh-bench-bundle-'));
  const ours: Ours = { main: await bundleUploader(out), flags: imageNodeFlags() };
  try {
    const a = await onDisk(ours, home);
    const fastestA = Math.max(
      ...a.rows.filter((r) => !r.peer.startsWith('kube-heapdump')).map((r) => r.mbps),
    );
    console.log(`\n(a) ${(a.size / 1e9).toFixed(2)} GB dump on disk, one after another on the same server`);
    console.log(
      table(
        ['peer', 'seconds', 'MB/s', 'peak RSS MiB', 'vs fastest peer', 'with summary s'],
        a.rows.map((r) => [
          r.peer,
          r.seconds.toFixed(1),
          String(r.mbps),
          String(r.rssMiB),
          `${(r.mbps / fastestA).toFixed(2)}x`,
          r.withSummarySeconds === undefined ? '' : r.withSummarySeconds.toFixed(1),
        ]),
        new Set([1, 2, 3, 4, 5]),
      ),
    );
    console.log(
      `\n(a) kube-heapdump on ${(a.larger[0]!.bytes / 1e9).toFixed(2)} GB (memory must not grow with size)`,
    );
    console.log(
      table(
        ['compression', 'object stored s', 'with summary s', 'peak RSS MiB'],
        a.larger.map((r) => [
          r.compression,
          r.markSeconds!.toFixed(1),
          r.seconds.toFixed(1),
          String(r.rssMiB),
        ]),
        new Set([1, 2, 3]),
      ),
    );

    const b = await dumpToDurable(ours, home, undefined, [
      { peer: 'kube-heapdump', compression: 'none' },
      { peer: 'kube-heapdump', compression: 'zstd' },
      ...rawPeers,
    ]);
    const c = await dumpToDurable(ours, home, '125MB/s', [
      { peer: 'kube-heapdump', compression: 'zstd' },
      { peer: 'kube-heapdump', compression: 'gzip' },
      ...rawPeers,
    ]);
    const blog = b.find((r) => r.peer === 'boto3 put_object')!.seconds;
    const fastestC = Math.min(...c.filter((r) => !r.peer.startsWith('kube-heapdump')).map((r) => r.seconds));
    durableTable('(b) dump-to-durable, peers raw', b, blog, "the blog's pipeline (boto3 put_object)");
    durableTable('(c) dump-to-durable at 125 MB/s, peers raw', c, fastestC, 'the fastest raw peer');
    return {
      onDisk: {
        bytes: a.size,
        rows: a.rows,
        oursRawVsFastestPeer: a.rows[0]!.mbps / fastestA,
        oursZstdVsFastestPeer: a.rows[1]!.mbps / fastestA,
        larger: a.larger,
      },
      dumpToDurable: b,
      dumpToDurableAt125MBps: c,
      targets: { onDiskVsFastestPeer: 1.1, rssMiB: 128, dumpToDurableVsBlog: 0.5, compressedVsRawPeers: 0.5 },
    };
  } finally {
    await rm(home, { recursive: true, force: true });
    await rm(out, { recursive: true, force: true });
  }
}
