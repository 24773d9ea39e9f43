// The uploader against the usual ways to ship a dump, all on the same strict S3 server (discard mode):
//   (a) a ~2 GB dump already on disk: MB/s and peak RSS;
//   (b) dump-to-durable: a real JVM fills ~2 GB and dumps on OOM; time from the dump file's creation to the
//       object being complete. Peers start when the file is closed, as an inotify close_write script would;
//   (c) the same over an emulated 1 Gbit/s link (server limited to 125 MB/s), the uploader compressing (gzip).
// Peers: `aws s3 cp` (64 MB parts, 4 concurrent), boto3 upload_file (64 MiB x 4), boto3 put_object (one PUT:
// the original blog's approach).
import { type ChildProcess, spawn } from 'node:child_process';
import { link, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { table } from '../packages/cli/src/format.ts';
import { fixtureClasspath } from '../test/support/java.ts';
import { peakRss, startWithReadyLine, stop } from '../test/support/processes.ts';
import { DEFAULT_CREDENTIAL } from '../test/support/s3/server.ts';
import { UPLOADER_MAIN, UploaderProcess } from '../test/support/uploader.ts';
import { largeDump } from './hprof.ts';

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

function timed(cmd: string[], env: NodeJS.ProcessEnv): Promise<{ seconds: number; rssMiB: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'TIME %e %M', ...cmd], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d;
    });
    child.on('exit', (code) => {
      const m = /TIME ([\d.]+) (\d+)/.exec(err);
      if (code !== 0 || !m) reject(new Error(`${cmd[0]} failed (${code}): ${err.slice(-500)}`));
      else resolve({ seconds: Number(m[1]), rssMiB: Math.round(Number(m[2]) / 1024) });
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

/** (a): every peer uploads the same closed file. */
async function onDisk(home: string) {
  const file = await largeDump();
  const size = (await stat(file)).size;
  const server = await startServer();
  const rows: { peer: Peer; seconds: number; mbps: number; rssMiB: number }[] = [];
  try {
    for (const peer of peers) {
      let r: { seconds: number; rssMiB: number };
      if (peer === 'kube-heapdump') {
        const dir = await mkdtemp(join(tmpdir(), 'kh-bench-a-'));
        await link(file, join(dir, 'java_pid1.hprof'));
        const env = {
          PATH: process.env.PATH,
          ...uploaderEnvFor(server, dir, 'none'),
          HEAPDUMP_METRICS_PORT: '0',
        };
        r = await timed([process.execPath, UPLOADER_MAIN, '--once'], env);
        await rm(dir, { recursive: true, force: true });
      } else {
        r = await runPeer(peer, file, server, home);
      }
      rows.push({ peer, ...r, mbps: Math.round(size / 1e6 / r.seconds) });
      console.log(`  (a) ${peer}: ${r.seconds} s`);
    }
  } finally {
    await stopServer(server);
  }
  return { size, rows };
}

/** (b)/(c): a JVM dumps on OOM; the peer's clock starts when the dump file appears. */
async function dumpToDurable(home: string, rate: string | undefined, compression: string) {
  const server = await startServer(rate);
  const cp = await fixtureClasspath();
  const rows: { peer: Peer; seconds: number; dumpSeconds: number; bytes: number; rssMiB?: number }[] = [];
  try {
    for (const peer of peers) {
      const dir = await mkdtemp(join(tmpdir(), 'kh-bench-b-'));
      const file = join(dir, 'java_pid1.hprof');
      const uploader =
        peer === 'kube-heapdump' ? new UploaderProcess(uploaderEnvFor(server, dir, compression)) : undefined;
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
      await jvmExit; // the dump file is closed
      const closed = performance.now();
      let done: number;
      let rssMiB: number | undefined;
      if (uploader) {
        await uploader.waitForLog((l) => l.msg === 'dump stored', 600_000);
        done = performance.now();
        rssMiB = Math.round((await peakRss(uploader.child.pid!)) / 2 ** 20);
        await uploader.stop();
      } else if (peer !== 'kube-heapdump') {
        await runPeer(peer, file, server, home);
        done = performance.now();
      } else {
        throw new Error('unreachable: kube-heapdump always has an uploader');
      }
      const bytes = (await stat(file)).size;
      rows.push({
        peer,
        seconds: (done - created) / 1000,
        dumpSeconds: (closed - created) / 1000,
        bytes,
        rssMiB,
      });
      console.log(`  ${rate ? '(c)' : '(b)'} ${peer}: ${((done - created) / 1000).toFixed(1)} s`);
      await rm(dir, { recursive: true, force: true });
    }
  } finally {
    await stopServer(server);
  }
  return rows;
}

export async function benchUploader(): Promise<Record<string, unknown>> {
  const home = await mkdtemp(join(tmpdir(), 'kh-bench-home-'));
  await writeFile(
    join(home, 'aws-config'),
    '[default]\ns3 =\n  multipart_chunksize = 64MB\n  max_concurrent_requests = 4\n',
  );
  try {
    const a = await onDisk(home);
    const fastestA = Math.max(...a.rows.filter((r) => r.peer !== 'kube-heapdump').map((r) => r.mbps));
    console.log(`\n(a) ${(a.size / 1e9).toFixed(2)} GB dump on disk, one after another on the same server`);
    console.log(
      table(
        ['peer', 'seconds', 'MB/s', 'peak RSS MiB', 'vs fastest peer'],
        a.rows.map((r) => [
          r.peer,
          r.seconds.toFixed(1),
          String(r.mbps),
          String(r.rssMiB),
          `${(r.mbps / fastestA).toFixed(2)}x`,
        ]),
        new Set([1, 2, 3, 4]),
      ),
    );

    const b = await dumpToDurable(home, undefined, 'none');
    const c = await dumpToDurable(home, '125MB/s', 'gzip');
    for (const [name, rows, ref] of [
      ['(b) dump-to-durable, uncompressed', b, 'boto3 put_object'],
      ['(c) dump-to-durable at 125 MB/s, kube-heapdump gzip, peers raw', c, undefined],
    ] as const) {
      const peersOnly = rows.filter((r) => r.peer !== 'kube-heapdump');
      const base = ref
        ? rows.find((r) => r.peer === ref)!.seconds
        : Math.min(...peersOnly.map((r) => r.seconds));
      console.log(
        `\n${name} (dumps of ~${(rows[0]!.bytes / 1e9).toFixed(2)} GB; ratio against ${ref ?? 'the fastest peer'})`,
      );
      console.log(
        table(
          ['peer', 'dump written s', 'created to durable s', 'ratio', 'peak RSS MiB'],
          rows.map((r) => [
            r.peer,
            r.dumpSeconds.toFixed(1),
            r.seconds.toFixed(1),
            `${(r.seconds / base).toFixed(2)}x`,
            r.rssMiB === undefined ? '' : String(r.rssMiB),
          ]),
          new Set([1, 2, 3, 4]),
        ),
      );
    }
    return {
      onDisk: { bytes: a.size, rows: a.rows, oursVsFastestPeer: a.rows[0]!.mbps / fastestA },
      dumpToDurable: b,
      dumpToDurableAt125MBps: c,
      targets: { onDiskVsFastestPeer: 1.1, rssMiB: 128, dumpToDurableVsBlog: 0.5, compressedVsRawPeers: 0.5 },
    };
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
