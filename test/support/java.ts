// Real JVMs for tests: compile the fixtures in test/fixtures/java once (cached by content), run them,
// take histograms and dumps through jcmd.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { readableClassName } from '@kube-heapdump/hprof';

const exec = promisify(execFile);
const FIXTURES = join(import.meta.dirname, '../fixtures/java');

// Class files every JDK the tests run (11 and up: test/support/watchdog-pod.ts) can load.
const JAVAC_ARGS = ['--release', '11'];

/** Directory holding the compiled fixture classes. */
export async function fixtureClasspath(): Promise<string> {
  const sources = (await readdir(FIXTURES)).filter((f) => f.endsWith('.java')).sort();
  const hash = createHash('sha256').update(JAVAC_ARGS.join(' '));
  for (const f of sources) hash.update(f).update(await readFile(join(FIXTURES, f)));
  const dir = join(tmpdir(), `kube-heapdump-java-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(dir)) return dir;
  const staging = `${dir}.${process.pid}`;
  await mkdir(staging, { recursive: true });
  await exec('javac', [...JAVAC_ARGS, '-d', staging, ...sources.map((f) => join(FIXTURES, f))]);
  try {
    await rename(staging, dir);
  } catch {
    await rm(staging, { recursive: true, force: true }); // another test process won the race
  }
  return dir;
}

export interface FixtureCounts {
  alphas: number;
  betas: number;
  gammas: number;
  /** Arrays of Alpha, including the one holding all alphas. */
  alphaArrays: number;
}

export const FIXTURE_CLASS = {
  alpha: 'HeapFixture$Alpha',
  beta: 'HeapFixture$Beta',
  gamma: 'HeapFixture$Gamma',
  alphaArray: 'HeapFixture$Alpha[]',
};

/** The secrets HeapFixture holds with -Dsecrets=SEED, as it makes them. */
export function fixtureSecrets(seed: string): { texts: string[]; pin: Buffer } {
  const pin = Buffer.alloc(8);
  pin.writeBigUInt64BE(0x5ec2e70000000000n | BigInt(`0x${seed}`));
  const reversed = [...seed].reverse().join('');
  return {
    texts: [`sess-${seed}-${reversed}`, `pw!${seed}`, `tok_${seed}`, `dbpw-${seed}`, `key-${seed}`],
    pin,
  };
}

/**
 * String literals in HeapFixture's code (with -Dsecrets): HotSpot keeps each as a symbol, a UTF8 record of
 * every dump. The last one is made only of name characters (a streaming redactor cannot tell it from a name).
 */
export const FIXTURE_LITERALS = [
  'password=hunter2-SUPERSECRET',
  'jdbc:postgresql://db.internal:5432/shop?user=app&password=Jdbc-S3cret-42',
  'hunter2SUPERSECRET',
] as const;

/** Where `needle` occurs in `haystack` as ASCII, UTF-16BE or UTF-16LE (the first encoding found), or undefined. */
export function findText(haystack: Buffer, needle: string): string | undefined {
  if (haystack.includes(Buffer.from(needle, 'latin1'))) return 'ASCII';
  if (haystack.includes(Buffer.from(needle, 'utf16le'))) return 'UTF-16LE';
  if (haystack.includes(Buffer.from(needle, 'utf16le').swap16())) return 'UTF-16BE';
  return undefined;
}

const countArgs = (c: FixtureCounts) => [c.alphas, c.betas, c.gammas, c.alphaArrays].map(String);

export interface ClassCount {
  instances: number;
  bytes: number;
}

/** `jcmd GC.class_histogram` / `jmap -histo` output -> readable class name -> counts (same-named merged). */
export function parseClassHistogram(text: string): Map<string, ClassCount> {
  const out = new Map<string, ClassCount>();
  for (const line of text.split('\n')) {
    const m = /^\s*\d+:\s+(\d+)\s+(\d+)\s+(\S+)/.exec(line);
    if (!m) continue;
    const name = readableClassName(m[3]!);
    const prev = out.get(name) ?? { instances: 0, bytes: 0 };
    out.set(name, { instances: prev.instances + Number(m[1]), bytes: prev.bytes + Number(m[2]) });
  }
  return out;
}

/** A fixture JVM holding a known heap, waiting for jcmd. */
export class HeldJvm {
  readonly child: ChildProcess;
  constructor(child: ChildProcess) {
    this.child = child;
  }

  static async start(counts: FixtureCounts, jvmFlags: string[] = []): Promise<HeldJvm> {
    return HeldJvm.startMain('HeapFixture', ['hold', ...countArgs(counts)], ['-Xmx64m', ...jvmFlags]);
  }

  /** Any fixture class that prints READY and then holds its heap until stdin closes. */
  static async startMain(mainClass: string, args: string[], jvmFlags: string[]): Promise<HeldJvm> {
    const cp = await fixtureClasspath();
    const child = spawn('java', [...jvmFlags, '-cp', cp, mainClass, ...args], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      lines.on('line', (l) => l === 'READY' && resolve());
      child.once('exit', (code) => reject(new Error(`fixture JVM exited with ${code} before READY`)));
    });
    return new HeldJvm(child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  async classHistogram(): Promise<Map<string, ClassCount>> {
    const { stdout } = await exec('jcmd', [String(this.pid), 'GC.class_histogram'], { maxBuffer: 64 << 20 });
    return parseClassHistogram(stdout);
  }

  /** `jcmd GC.heap_dump [-gz=level] [-all] path` (live objects only, after a full GC, unless `all`). */
  async dump(path: string, gzipLevel?: number, all = false): Promise<void> {
    const args = [
      String(this.pid),
      'GC.heap_dump',
      ...(gzipLevel ? [`-gz=${gzipLevel}`] : []),
      ...(all ? ['-all'] : []),
      path,
    ];
    const { stdout } = await exec('jcmd', args);
    if (!/Heap dump file created/.test(stdout)) throw new Error(`jcmd GC.heap_dump failed: ${stdout}`);
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin!.end();
    await exited;
  }
}

/**
 * Runs the fixture until it dies of OutOfMemoryError with the given JVM flags (which decide whether a dump is
 * written, where, and how the JVM exits). Resolves with the exit code.
 */
export async function runOutOfMemory(
  counts: FixtureCounts,
  jvmFlags: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number | null; output: string }> {
  const cp = await fixtureClasspath();
  const child = spawn('java', [...jvmFlags, '-cp', cp, 'HeapFixture', 'oom', ...countArgs(counts)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d;
  });
  child.stderr.on('data', (d: Buffer) => {
    output += d;
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, output };
}
