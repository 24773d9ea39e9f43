// The memory watchdog's JVM agent, on its own: the committed jar is built from the current sources, it reads
// cgroup v1 and v2 memory the way the kubelet counts it (fixture trees standing in for /proc and /sys), and
// the uploader puts it in the volume without following what the app container may have put there.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { AGENT_DIR, AGENT_JAR } from '@kube-heapdump/contract';
import { agentSourceDigest, AGENT_JAR as BUILT_JAR, jarSourceDigest } from '../../../scripts/build-agent.ts';
import { BUNDLED_AGENT_JAR, installAgent } from '../src/agent-install.ts';

const exec = promisify(execFile);
const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'kh-cgroup-'));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

async function reading(root: string) {
  const { stdout } = await exec('java', ['-cp', BUILT_JAR, 'io.kubeheapdump.agent.CgroupMemory', root]);
  return JSON.parse(stdout);
}

const MI = 2 ** 20;
const v1Mount = '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n';

describe('agent jar', () => {
  test('is the one scripts/build-agent.ts builds from the current sources', async () => {
    assert.equal(BUNDLED_AGENT_JAR, BUILT_JAR);
    assert.equal(await jarSourceDigest(BUILT_JAR), await agentSourceDigest());
  });
});

describe('agent: cgroup memory as the kubelet and the kernel count it (working set = usage - inactive file; unreclaimable = usage - all file pages)', () => {
  test('v1 without a cgroup namespace: the container path below the mount, total_inactive_file, its limit', async () => {
    const ctr = 'sys/fs/cgroup/memory/kubepods/burstable/pod1/ctr1';
    const root = await tree({
      'proc/self/cgroup': '12:memory:/kubepods/burstable/pod1/ctr1\n11:cpu,cpuacct:/kubepods\n0::/\n',
      'proc/self/mountinfo': v1Mount,
      [`${ctr}/memory.usage_in_bytes`]: `${300 * MI}\n`,
      [`${ctr}/memory.limit_in_bytes`]: `${512 * MI}\n`,
      [`${ctr}/memory.stat`]: `cache 1\ninactive_file 7\nhierarchical_memory_limit ${512 * MI}\ntotal_inactive_file ${100 * MI}\nactive_file 3\ntotal_active_file ${30 * MI}\n`,
    });
    assert.deepEqual(await reading(root), {
      version: 1,
      dir: ctr,
      usage: 300 * MI,
      inactiveFile: 100 * MI,
      workingSet: 200 * MI,
      unreclaimable: 170 * MI,
      limit: 512 * MI,
    });
  });

  test('v1 seen from inside a container: the mount root is the container cgroup; a lower hierarchical limit wins', async () => {
    const root = await tree({
      'proc/self/cgroup': '4:memory:/kubepods/pod1/ctr1\n',
      'proc/self/mountinfo':
        '900 800 0:32 /kubepods/pod1/ctr1 /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory\n',
      'sys/fs/cgroup/memory/memory.usage_in_bytes': `${10 * MI}\n`,
      'sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n',
      'sys/fs/cgroup/memory/memory.stat': `hierarchical_memory_limit ${256 * MI}\ntotal_inactive_file 0\n`,
    });
    const r = await reading(root);
    assert.equal(r.dir, 'sys/fs/cgroup/memory');
    assert.equal(r.limit, 256 * MI);
  });

  test('v1 with no limit anywhere: -1', async () => {
    const root = await tree({
      'proc/self/cgroup': '4:memory:/\n',
      'proc/self/mountinfo': v1Mount,
      'sys/fs/cgroup/memory/memory.usage_in_bytes': '5\n',
      'sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n',
      'sys/fs/cgroup/memory/memory.stat':
        'hierarchical_memory_limit 9223372036854771712\ntotal_inactive_file 1\n',
    });
    assert.equal((await reading(root)).limit, -1);
  });

  test('v2 with a cgroup namespace: memory.current, inactive_file, memory.max', async () => {
    const root = await tree({
      'proc/self/cgroup': '0::/\n',
      'proc/self/mountinfo': '30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n',
      'sys/fs/cgroup/memory.current': `${700 * MI}\n`,
      'sys/fs/cgroup/memory.max': `${1024 * MI}\n`,
      'sys/fs/cgroup/memory.stat': `anon 1\nactive_file 9\ninactive_file ${50 * MI}\nfile 3\n`,
    });
    assert.deepEqual(await reading(root), {
      version: 2,
      dir: 'sys/fs/cgroup',
      usage: 700 * MI,
      inactiveFile: 50 * MI,
      workingSet: 650 * MI,
      unreclaimable: 650 * MI - 9,
      limit: 1024 * MI,
    });
  });

  test('v2 without a namespace: the path below the mount; "max" in the container, the pod\'s limit above it binds', async () => {
    const pod = 'sys/fs/cgroup/kubepods.slice/pod1.slice';
    const root = await tree({
      'proc/self/cgroup': '0::/kubepods.slice/pod1.slice/cri-ctr1.scope\n',
      'proc/self/mountinfo': '30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n',
      [`${pod}/memory.max`]: `${384 * MI}\n`,
      [`${pod}/cri-ctr1.scope/memory.current`]: `${100 * MI}\n`,
      [`${pod}/cri-ctr1.scope/memory.max`]: 'max\n',
      [`${pod}/cri-ctr1.scope/memory.stat`]: 'inactive_file 0\n',
    });
    const r = await reading(root);
    assert.equal(r.dir, `${pod}/cri-ctr1.scope`);
    assert.equal(r.limit, 384 * MI);
  });

  test('no memory controller: says so', async () => {
    const root = await tree({ 'proc/self/cgroup': '1:cpu:/\n', 'proc/self/mountinfo': '' });
    assert.deepEqual(await reading(root), { cgroup: null });
  });
});

describe('uploader: installing the agent in the volume', () => {
  test('copies the jar into <dir>/.kube-heapdump/ with a requests directory', async () => {
    const dir = await tree({});
    const path = await installAgent(dir);
    assert.equal(path, join(dir, AGENT_DIR, AGENT_JAR));
    assert.deepEqual(await readFile(path), await readFile(BUNDLED_AGENT_JAR));
    await installAgent(dir); // again, over its own copy (an uploader restart)
  });

  test('refuses a .kube-heapdump the app container replaced with a link', async () => {
    const dir = await tree({ 'elsewhere/x': '' });
    await symlink(join(dir, 'elsewhere'), join(dir, AGENT_DIR));
    await assert.rejects(installAgent(dir), /is not a directory/);
    await assert.rejects(readFile(join(dir, 'elsewhere', AGENT_JAR)), { code: 'ENOENT' });
  });
});

describe('agent: a dump the JVM was killed merging (JDK 22+) is finished by the next JVM', () => {
  /** A real heap dump (this JDK's, written whole), and where its heap records start and end. */
  async function realDump(dir: string) {
    const src = join(dir, 'Dump.java');
    await writeFile(
      src,
      'public class Dump { public static void main(String[] a) throws Exception {' +
        ' java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)' +
        '.dumpHeap(a[0], true); } }',
    );
    const path = join(dir, 'whole.hprof');
    await exec('java', [src, path]);
    const bytes = await readFile(path);
    let at = bytes.indexOf(0, 0) + 1 + 4 + 8;
    while (bytes[at] !== 0x1c && bytes[at] !== 0x0c) at += 9 + bytes.readUInt32BE(at + 5);
    const end = bytes.length - 9;
    assert.deepEqual([...bytes.subarray(end)], [0x2c, 0, 0, 0, 0, 0, 0, 0, 0]);
    return { bytes, heapAt: at, end };
  }

  async function volumeWithAgent() {
    const dir = await mkdtemp(join(tmpdir(), 'kh-partial-'));
    dirs.push(dir);
    await mkdir(join(dir, '.kube-heapdump/partial'), { recursive: true });
    await writeFile(join(dir, '.kube-heapdump/agent.jar'), await readFile(BUILT_JAR));
    return dir;
  }

  async function nextJvm(dir: string): Promise<string> {
    const { stderr } = await exec('java', [
      `-javaagent:${join(dir, '.kube-heapdump/agent.jar')}=threshold=0`,
      '-version',
    ]);
    return stderr;
  }

  test('the file cut back to its non-heap records, the pieces appended in order, the end record: the whole dump', async () => {
    const dir = await volumeWithAgent();
    const { bytes, heapAt, end } = await realDump(dir);
    const partial = join(dir, '.kube-heapdump/partial/heapdump-threshold-20261207T120000Z.hprof');
    const middle = heapAt + Math.floor((end - heapAt) / 2);
    // As the kill leaves it: the merge had appended part of the first piece.
    await writeFile(partial, bytes.subarray(0, heapAt + 1000));
    await writeFile(`${partial}.p0`, bytes.subarray(heapAt, middle));
    await writeFile(`${partial}.p1`, bytes.subarray(middle, end));
    const log = await nextJvm(dir);
    assert.match(
      log,
      /a dump cut off by the JVM's end, heapdump-threshold-20261207T120000Z\.hprof, finished from its 2 piece\(s\)/,
    );
    assert.ok((await readFile(join(dir, 'heapdump-threshold-20261207T120000Z.hprof'))).equals(bytes));
    assert.deepEqual(await readdir(join(dir, '.kube-heapdump/partial')), []);
  });

  test('cut inside the safepoint (no pieces): moved as it is, for its summary to say truncated', async () => {
    const dir = await volumeWithAgent();
    const { bytes, heapAt } = await realDump(dir);
    const cut = bytes.subarray(0, heapAt + 500);
    await writeFile(join(dir, '.kube-heapdump/partial/heapdump-ondemand-x.hprof'), cut);
    assert.match(await nextJvm(dir), /heapdump-ondemand-x\.hprof, moved as it is/);
    assert.ok((await readFile(join(dir, 'heapdump-ondemand-x.hprof'))).equals(cut));
  });
});

describe('agent: a dump another live JVM is still writing', () => {
  test('is left alone while that JVM holds its lock, finished once the JVM is gone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kh-partial-'));
    dirs.push(dir);
    await mkdir(join(dir, '.kube-heapdump/partial'), { recursive: true });
    await writeFile(join(dir, '.kube-heapdump/agent.jar'), await readFile(BUILT_JAR));
    const dump = join(dir, '.kube-heapdump/partial/heapdump-threshold-y.hprof');
    await writeFile(dump, 'JAVA PROFILE 1.0.2\0');
    const src = join(dir, 'Hold.java');
    await writeFile(
      src,
      'import java.nio.channels.FileChannel; import java.nio.file.*; public class Hold {' +
        ' public static void main(String[] a) throws Exception { try (FileChannel c = FileChannel.open(Paths.get(a[0]),' +
        ' StandardOpenOption.CREATE, StandardOpenOption.WRITE); java.nio.channels.FileLock l = c.lock()) {' +
        ' System.out.println("LOCKED"); Thread.sleep(120000); } } }',
    );
    const holder = spawn('java', [src, `${dump}.lock`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on('data', (d: Buffer) => d.toString().includes('LOCKED') && resolve());
        holder.on('exit', () => reject(new Error('the lock holder exited')));
      });
      const agent = `-javaagent:${join(dir, '.kube-heapdump/agent.jar')}=threshold=0`;
      await exec('java', [agent, '-version']);
      assert.deepEqual(await readdir(dir).then((n) => n.filter((f) => f.endsWith('.hprof'))), []);
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder.once('exit', resolve));
      const { stderr } = await exec('java', [agent, '-version']);
      assert.match(stderr, /heapdump-threshold-y\.hprof, moved as it is/);
      assert.deepEqual(await readdir(join(dir, '.kube-heapdump/partial')), []);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});

describe('agent: a jlinked runtime without the modules it needs', () => {
  test('jdk.management left out: one line naming it, and the application runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kh-jlink-'));
    dirs.push(dir);
    const runtime = join(dir, 'runtime');
    await exec('jlink', ['--add-modules', 'java.base,java.instrument,java.management', '--output', runtime]);
    const { stdout, stderr } = await exec(join(runtime, 'bin/java'), [
      `-javaagent:${BUILT_JAR}=dir=${dir}`,
      '-version',
    ]);
    assert.equal(stdout, '');
    assert.match(stderr, /version "/, 'the JVM ran');
    const agentLines = stderr.split('\n').filter((l) => /kube-heapdump|Exception|\tat /.test(l));
    assert.deepEqual(agentLines, [
      "kube-heapdump agent: not started: this Java runtime lacks the module jdk.management (heap dumps need it); add it to the image's jlink --add-modules",
    ]);
  });
});
