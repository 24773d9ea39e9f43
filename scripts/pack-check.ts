// What users install, installed the way they install it: `npm pack` every workspace, then in a fresh project
// outside the repository (no workspace links, no access to the repository's node_modules) install the
// tarballs plus @pulumi/* from the registry, and check that
//   1. every example program renders, against the installed packages under Pulumi's mocks, exactly the
//      resources it renders in the repository;
//   2. the installed `heapdump` (--version, --help, inspect of a real JVM dump) and `heapdump-uploader`
//      (--version, --help, --once shipping that dump to the strict S3 server) run on Node 22 (the lowest
//      the packages claim) and on Node 24;
//   3. Pulumi's component analyzer, run on the installed @kube-heapdump/heapdump, produces the schema with
//      HeapDumpEnabledApp.
// Prints the tarball sizes and start-up times it measured. `scripts/pack-check` (CI runs it).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLES } from '../test/support/examples.ts';
import { fixtureClasspath } from '../test/support/java.ts';
import { run } from '../test/support/processes.ts';
import { DEFAULT_CREDENTIAL } from '../test/support/s3/server.ts';
import { startS3Fixture } from '../test/support/s3-fixture.ts';

const root = join(import.meta.dirname, '..');
const NODE_22 = '22.15.0';
/** A Node the bins refuse: each says in one line what it needs. */
const NODE_OLD = '20.19.0';
const rootPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  workspaces: string[];
  devDependencies: Record<string, string>;
};

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

function step(what: string): void {
  process.stdout.write(`pack-check: ${what}\n`);
}

const work = mkdtempSync(join(tmpdir(), 'kh-pack-check-'));
try {
  // Tarballs, as `npm publish` would make them (prepack builds each package).
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  const packed = JSON.parse(
    sh('npm', ['pack', '--workspaces', '--json', '--pack-destination', tarballs], root),
  ) as { name: string; filename: string; size: number; unpackedSize: number; files: { path: string }[] }[];
  for (const p of packed) {
    step(
      `${p.filename}: ${(p.size / 1024).toFixed(1)} KiB packed, ${(p.unpackedSize / 1024).toFixed(1)} KiB unpacked`,
    );
    for (const f of p.files)
      assert.ok(!/\.test\.ts$|\.tsbuildinfo$/.test(f.path), `${p.name} ships ${f.path}`);
  }

  // A fresh project, outside the repository.
  const project = join(work, 'project');
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'pack-check', private: true, type: 'module' }, null, 2),
  );
  const dev = rootPackage.devDependencies;
  // Not typescript: the component declares it as a peer (Pulumi's analyzer needs it) and npm installs it.
  const registry = ['@pulumi/pulumi', '@pulumi/aws', '@pulumi/kubernetes'].map(
    (name) => `${name}@${dev[name]}`,
  );
  step(`installing ${packed.length} tarballs and ${registry.join(' ')}`);
  sh(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      ...readdirSync(tarballs).map((f) => join(tarballs, f)),
      ...registry,
    ],
    project,
  );
  for (const p of packed) {
    const installed = join(project, 'node_modules', p.name);
    assert.ok(!statSync(installed).isSymbolicLink(), `${p.name} is installed, not linked`);
  }

  // 1. The examples against the installed packages, compared with the repository's rendering.
  const harness = join(project, 'harness');
  mkdirSync(harness);
  for (const f of ['render-program.ts', 'pulumi-mocks.ts'])
    cpSync(join(root, 'test/support', f), join(harness, f));
  for (const [example, config] of Object.entries(EXAMPLES)) {
    const copy = join(project, 'examples', example);
    cpSync(join(root, 'examples', example), copy, { recursive: true });
    const render = (cwd: string, script: string, program: string, flags: string[]) =>
      sh(process.execPath, [...flags, script, program, JSON.stringify(config)], cwd);
    const inRepo = render(
      root,
      join(root, 'test/support/render-program.ts'),
      join(root, 'examples', example, 'index.ts'),
      ['--conditions=@kube-heapdump/source'],
    );
    const installed = render(project, join(harness, 'render-program.ts'), join(copy, 'index.ts'), []);
    assert.deepEqual(JSON.parse(installed), JSON.parse(inRepo), `examples/${example}`);
    step(`examples/${example}: ${JSON.parse(installed).length} resources, the same as in the repository`);
  }

  // 2. The commands on Node 22 and Node 24, on a real dump.
  const dumps = join(work, 'dumps');
  mkdirSync(dumps);
  spawnSync(
    'java',
    [
      '-Xmx16m',
      '-XX:+HeapDumpOnOutOfMemoryError',
      `-XX:HeapDumpPath=${join(dumps, 'java_pid1.hprof')}`,
      '-cp',
      await fixtureClasspath(),
      'HeapFixture',
      'oom',
      '1000',
      '100',
      '10',
      '1',
    ],
    { stdio: 'ignore' },
  );
  assert.ok(statSync(join(dumps, 'java_pid1.hprof')).size > 0, 'the JVM wrote its dump');
  const version = (
    JSON.parse(readFileSync(join(root, 'packages/cli/package.json'), 'utf8')) as { version: string }
  ).version;
  const bin = (name: string) => join(project, 'node_modules/.bin', name);
  const node22 = join(sh(join(root, 'scripts/fetch-node'), [NODE_22], root).trim(), 'node');
  const nodeOld = join(sh(join(root, 'scripts/fetch-node'), [NODE_OLD], root).trim(), 'node');
  for (const command of ['heapdump', 'heapdump-uploader']) {
    const r = spawnSync(bin(command), ['--version'], {
      env: { ...process.env, PATH: `${join(nodeOld, '..')}:${process.env.PATH}` },
      encoding: 'utf8',
    });
    assert.equal(r.status, 1, r.stdout);
    assert.equal(r.stderr, `${command}: needs Node.js 22.15 or newer; this is Node.js v${NODE_OLD}\n`);
  }
  step(`Node ${NODE_OLD}: both bins say in one line that they need Node.js 22.15`);
  const s3 = await startS3Fixture();
  try {
    for (const node of [node22, process.execPath]) {
      const nodeVersion = sh(node, ['--version'], project).trim();
      const env = { ...process.env, PATH: `${join(node, '..')}:${process.env.PATH}` };
      const timed = (args: string[]) => {
        const started = process.hrtime.bigint();
        const out = sh(bin('heapdump'), args, project, env);
        return { out, ms: Number(process.hrtime.bigint() - started) / 1e6 };
      };
      const times = { version: [] as number[], help: [] as number[] };
      for (let i = 0; i < 5; i++) {
        const v = timed(['--version']);
        assert.equal(v.out.trim(), version);
        times.version.push(v.ms);
        const h = timed(['--help']);
        assert.match(h.out, /^Usage: heapdump/m);
        times.help.push(h.ms);
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(0);
      const inspected = spawnSync(bin('heapdump'), ['inspect', join(dumps, 'java_pid1.hprof'), '--json'], {
        env,
        encoding: 'utf8',
      });
      assert.equal(inspected.status, 0, inspected.stderr);
      const summary = JSON.parse(inspected.stdout) as { verdict: string; topClasses: { name: string }[] };
      assert.equal(summary.verdict, 'complete');
      assert.ok(summary.topClasses.some((c) => c.name === 'HeapFixture$Alpha'));
      assert.equal(sh(bin('heapdump-uploader'), ['--version'], project, env).trim(), version);
      assert.match(sh(bin('heapdump-uploader'), ['--help'], project, env), /HEAPDUMP_BUCKET/);
      const shipDir = join(work, `ship-${nodeVersion}`);
      cpSync(dumps, shipDir, { recursive: true });
      // Asynchronously: the S3 server answers from this process.
      const shipped = await run(
        bin('heapdump-uploader'),
        ['--once'],
        {
          PATH: env.PATH,
          HEAPDUMP_DIR: shipDir,
          HEAPDUMP_BUCKET: 'dumps',
          HEAPDUMP_S3_ENDPOINT: s3.server.endpoint,
          HEAPDUMP_S3_FORCE_PATH_STYLE: 'true',
          HEAPDUMP_METRICS_PORT: '0',
          POD_NAME: `pack-check-${nodeVersion.replace(/\./g, '-')}`,
          AWS_ACCESS_KEY_ID: DEFAULT_CREDENTIAL.accessKeyId,
          AWS_SECRET_ACCESS_KEY: DEFAULT_CREDENTIAL.secretAccessKey,
          AWS_CONFIG_FILE: '/nonexistent',
          AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
        },
        60_000,
      );
      assert.equal(shipped.code, 0, shipped.stdout + shipped.stderr);
      assert.match(shipped.stdout, /"msg":"dump stored"/);
      step(
        `Node ${nodeVersion}: heapdump --version ${median(times.version)} ms, --help ${median(times.help)} ms ` +
          '(median of 5); inspect and heapdump-uploader --once on a real dump: ok',
      );
    }
  } finally {
    await s3.close();
  }

  // 3. Pulumi's analyzer on the installed component package: the schema other languages are generated from.
  const analyze = join(project, 'analyze.mjs');
  writeFileSync(
    analyze,
    `import { ComponentProvider } from '@pulumi/pulumi/provider/experimental/index.js';
import { HeapDumpEnabledApp } from '@kube-heapdump/heapdump';
const dirname = new URL('./node_modules/@kube-heapdump/heapdump', import.meta.url).pathname;
const provider = new ComponentProvider({ name: 'heapdump', dirname, components: [HeapDumpEnabledApp] });
process.stdout.write(await provider.getSchema());
`,
  );
  const schema = JSON.parse(sh(process.execPath, [analyze], project)) as {
    resources: Record<string, { isComponent: boolean; inputProperties: Record<string, unknown> }>;
  };
  const app = schema.resources['heapdump:index:HeapDumpEnabledApp'];
  assert.ok(app?.isComponent, Object.keys(schema.resources).join(', '));
  step(
    `the analyzer on the installed package: HeapDumpEnabledApp with ${Object.keys(app.inputProperties).length} inputs`,
  );
  step('passed');
} finally {
  rmSync(work, { recursive: true, force: true });
}
