// `heapdump diff` (diff-command.ts) on two real dumps of one JVM whose leak is known: between the dumps
// (jcmd GC.heap_dump at two moments) it keeps exactly LEAKED more LeakFixture$Session objects. Compared from the summaries the real
// uploader stored (no dump downloaded) and from the two files (parsed in full).
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { type AnalysisReport, type ClassStats, REPORT_SCHEMA, reportKey } from '@kube-heapdump/contract';
import { analyzeHeap, fileSource } from '@kube-heapdump/hprof';
import { developerEnv } from '../../../test/support/developer-env.ts';
import { fixtureClasspath } from '../../../test/support/java.ts';
import { RUN_SOURCE } from '../../../test/support/node.ts';
import { run } from '../../../test/support/processes.ts';
import { DEFAULT_CREDENTIAL } from '../../../test/support/s3/server.ts';
import { type S3Fixture, startS3Fixture } from '../../../test/support/s3-fixture.ts';
import { type DiffSide, diffDumps, stableClassName } from '../src/diff.ts';
import { shipDumps } from './ship.ts';

const exec = promisify(execFile);
const cli = join(import.meta.dirname, '../src/main.ts');
const SESSION = 'LeakFixture$Session';
const BEFORE = 5_000;
const LEAKED = 40_000;

interface DiffJson {
  classes: {
    name: string;
    delta?: { instances: number; bytes: number };
    before?: { instances: number };
    retained?: { before?: number; after?: number; delta?: number };
  }[];
  totals: { delta: { instances: number } };
  retained?: { delta: number; from: { before: string; after: string } };
}

/** The leaking JVM: `leak(n)` keeps n more sessions and resolves once it has. */
class LeakingJvm {
  private readonly lines: AsyncIterator<string>;
  readonly child: ChildProcess;
  constructor(child: ChildProcess) {
    this.child = child;
    this.lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  }
  static async start(): Promise<LeakingJvm> {
    const child = spawn('java', ['-Xmx64m', '-cp', await fixtureClasspath(), 'LeakFixture'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const jvm = new LeakingJvm(child);
    assert.equal(await jvm.next(), 'READY');
    return jvm;
  }
  private async next(): Promise<string | undefined> {
    return (await this.lines.next()).value as string | undefined;
  }
  async leak(n: number): Promise<string | undefined> {
    this.child.stdin!.write(`leak ${n}\n`);
    return this.next();
  }
  async dump(path: string): Promise<void> {
    const { stdout } = await exec('jcmd', [String(this.child.pid), 'GC.heap_dump', path]);
    assert.match(stdout, /Heap dump file created/);
  }
  async close(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.end();
    await exited;
  }
}

describe('heapdump diff', () => {
  let fixture: S3Fixture;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const files = { old: '', new: '' };
  const heapdump = (...args: string[]) => run(process.execPath, [...RUN_SOURCE, cli, ...args], env, 60_000);

  before(async () => {
    fixture = await startS3Fixture();
    dir = await mkdtemp(join(tmpdir(), 'kh-diff-'));
    files.old = join(dir, 'old.hprof');
    files.new = join(dir, 'new.hprof');
    const jvm = await LeakingJvm.start();
    try {
      assert.equal(await jvm.leak(BEFORE), `LEAKED ${BEFORE}`);
      await jvm.dump(files.old);
      assert.equal(await jvm.leak(LEAKED), `LEAKED ${BEFORE + LEAKED}`);
      await jvm.dump(files.new);
    } finally {
      await jvm.close();
    }
    // The pod's uploader ships each dump as it appears (a second apart, so their key times order them).
    await shipDumps(fixture, dir, [
      { pod: 'pod-1', dump: files.old },
      { pod: 'pod-2', dump: files.new },
    ]);
    env = developerEnv({
      home: dir,
      credential: DEFAULT_CREDENTIAL,
      bucket: 'dumps',
      endpoint: fixture.server.endpoint,
    });
  });
  after(async () => {
    await fixture?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('latest~1 latest: the leaking class first, grown by exactly the leaked count, from the summaries only', async () => {
    const before = fixture.server.requests.length;
    const r = await heapdump('diff', 'latest~1', 'latest', '--json');
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout) as DiffJson;
    assert.equal(d.classes[0]?.name, SESSION);
    assert.equal(d.classes[0]?.before?.instances, BEFORE);
    assert.equal(d.classes[0]?.delta?.instances, LEAKED);
    // Only the summaries (and the analysis reports, none here) were read: no dump object was fetched.
    const gets = fixture.server.requests.slice(before).filter((q) => q.operation === 'GetObject');
    assert.equal(gets.filter((q) => q.key?.endsWith('.summary.json')).length, 2);
    assert.ok(
      gets.every((q) => q.key?.endsWith('.summary.json') || q.key?.endsWith('.report.json')),
      JSON.stringify(gets),
    );
    assert.equal(d.retained, undefined);
  });

  it('two files: parsed in full, the same class and count first', async () => {
    const r = await heapdump('diff', files.old, files.new, '--json');
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout) as DiffJson;
    assert.equal(d.classes[0]?.name, SESSION);
    assert.equal(d.classes[0]?.delta?.instances, LEAKED);
  });

  it('two files --analyze: the retained bytes of the leaking class grew by exactly the leaked sessions', async () => {
    const r = await heapdump('diff', files.old, files.new, '--analyze', '--json');
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout) as DiffJson;
    const session = d.classes.find((c) => c.name === SESSION);
    // A Session retains itself only (attributes null): 12-byte header, three longs and a reference, 8-aligned.
    const each = Math.ceil((12 + 3 * 8 + 4) / 8) * 8;
    assert.deepEqual(session?.retained, {
      before: BEFORE * each,
      after: (BEFORE + LEAKED) * each,
      delta: LEAKED * each,
    });
    assert.ok(d.retained && d.retained.delta >= LEAKED * each);
    assert.deepEqual(d.retained.from, { before: 'analysed now', after: 'analysed now' });
    // Sorted by retained growth.
    const growth = d.classes.map((c) => c.retained?.delta ?? 0);
    assert.deepEqual(
      growth,
      [...growth].sort((x, y) => y - x),
    );
    const table = await heapdump('diff', files.old, files.new, '--analyze', '--top', '50');
    assert.match(
      table.stdout,
      /^\s*instances\s+->\s+change\s+bytes\s+->\s+change\s+retained\s+->\s+change\s+class$/m,
    );
    assert.match(table.stdout, /\+[\d.]+ (KiB|MiB)\s+LeakFixture\$Session$/m);
  });

  it('latest~1 latest with their stored analysis reports: retained bytes without downloading a dump', async () => {
    const client = fixture.client();
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'dumps' }));
    const keys = (listed.Contents ?? [])
      .map((o) => o.Key!)
      .filter((k) => /\.hprof(\.gz|\.zst)?$/.test(k))
      .sort();
    assert.equal(keys.length, 2, JSON.stringify(keys));
    for (const [key, file] of [
      [keys[0]!, files.old],
      [keys[1]!, files.new],
    ] as const) {
      const analysis = await analyzeHeap(await fileSource(file), { top: Number.POSITIVE_INFINITY });
      const report: AnalysisReport = {
        schema: REPORT_SCHEMA,
        status: 'analysed',
        dump: { bucket: 'dumps', key },
        at: new Date().toISOString(),
        analysis,
      };
      await client.send(
        new PutObjectCommand({ Bucket: 'dumps', Key: reportKey(key), Body: JSON.stringify(report) }),
      );
    }
    const before = fixture.server.requests.length;
    const r = await heapdump('diff', 'latest~1', 'latest', '--json');
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout) as DiffJson;
    const each = Math.ceil((12 + 3 * 8 + 4) / 8) * 8;
    assert.equal(d.classes.find((c) => c.name === SESSION)?.retained?.delta, LEAKED * each);
    assert.deepEqual(d.retained?.from, { before: 'stored report', after: 'stored report' });
    const gets = fixture.server.requests.slice(before).filter((q) => q.operation === 'GetObject');
    assert.ok(
      gets.every((q) => /\.(summary|report)\.json$/.test(q.key ?? '')),
      JSON.stringify(gets),
    );
    for (const key of keys)
      await client.send(new DeleteObjectCommand({ Bucket: 'dumps', Key: reportKey(key) }));
  });

  it('the table: before -> after and the change, sorted by growth, --top rows and a total', async () => {
    const r = await heapdump('diff', files.old, files.new, '--top', '3');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    const header = lines.findIndex((l) =>
      /^\s*instances\s+->\s+change\s+bytes\s+->\s+change\s+class$/.test(l),
    );
    assert.ok(header > 0, r.stdout);
    assert.match(
      lines[header + 1] ?? '',
      /^\s*5,000\s+45,000\s+\+40,000\s+[\d.]+ KiB\s+[\d.]+ (KiB|MiB)\s+\+[\d.]+ (KiB|MiB)\s+LeakFixture\$Session$/,
    );
    const rows = lines.slice(header + 1).filter((l) => /\S\s*$/.test(l) && !/^[\s-]+$/.test(l));
    assert.equal(rows.length, 3 + 1, r.stdout); // three classes and the total
    assert.match(rows.at(-1) ?? '', /\btotal \(\d+ classes changed, top 3 shown\)$/);
  });

  it('names what it cannot compare: a missing file without a bucket, a latest~N that is not there', async () => {
    const missing = await run(
      process.execPath,
      [...RUN_SOURCE, cli, 'diff', join(dir, 'nope.hprof'), files.new],
      {
        PATH: process.env.PATH,
      },
    );
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.hprof: no such file/);
    const far = await heapdump('diff', 'latest~5', 'latest');
    assert.equal(far.code, 2);
    assert.match(
      far.stderr,
      /^heapdump: latest~5: there are only 2 complete dumps under s3:\/\/dumps\/heapdumps\/\n$/,
    );
  });
  it('refuses a file that is not a dump or is truncated: exit 1, one line', async () => {
    const notes = join(dir, 'notes.hprof');
    await writeFile(notes, 'password=hunter2\n');
    const cut = join(dir, 'cut.hprof');
    const whole = await readFile(files.new);
    await writeFile(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    for (const [file, what] of [
      [notes, /notes\.hprof is not a heap dump \(.+\): nothing to compare\n$/],
      [cut, /cut\.hprof is an incomplete heap dump \(.+\): nothing to compare\n$/],
    ] as const) {
      const r = await heapdump('diff', files.old, file);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, new RegExp(`^heapdump: [^\\n]*${what.source}`));
      assert.equal(r.stdout, '');
    }
  });
});

describe('heapdump diff: hidden classes', () => {
  const side = (classes: ClassStats[]): DiffSide => ({
    label: 'x',
    verdict: 'complete',
    timestamp: undefined,
    classes,
    full: true,
    totals: { objects: 0, shallowBytes: 0 },
  });
  it('merges lambdas and other hidden classes whose names differ only by address or serial', () => {
    const d = diffDumps(
      side([
        { name: 'com.shop.Orders$$Lambda$1+0x00007f3a1c0a1000', instances: 2, bytes: 32 },
        { name: 'com.shop.Orders$$Lambda$2+0x00007f3a1c0a2000', instances: 1, bytes: 16 },
        { name: 'java.lang.invoke.LambdaForm$MH+0x00007f3a1c003000', instances: 1, bytes: 16 },
        { name: 'com.shop.Cart', instances: 1, bytes: 24 },
      ]),
      side([
        { name: 'com.shop.Orders$$Lambda.0x0000000801001000', instances: 3, bytes: 48 },
        { name: 'java.lang.invoke.LambdaForm$MH+0x00007f99aa004000', instances: 1, bytes: 16 },
        { name: 'com.shop.Cart', instances: 2, bytes: 48 },
      ]),
    );
    assert.deepEqual(
      d.classes.map((c) => [c.name, c.delta]),
      [['com.shop.Cart', { instances: 1, bytes: 24 }]],
    );
    assert.equal(
      stableClassName('com.shop.Orders$$Lambda/0x0000000801001000[]'),
      'com.shop.Orders$$Lambda[]',
    );
  });
});
