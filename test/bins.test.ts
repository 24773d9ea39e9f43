// The npm bins as the packages build them (scripts/bundle.ts with --launcher): on a Node older than the
// bundles need, one line naming the version, before the bundle is loaded (its node:zlib zstd imports would
// fail to link with a SyntaxError after printing the minified source); on a recent one, the program.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const root = join(import.meta.dirname, '..');
const manifest = (p: string) =>
  JSON.parse(readFileSync(join(root, p, 'package.json'), 'utf8')) as {
    version: string;
    bin: Record<string, string>;
    scripts: { build: string };
  };

/** Pretends to be Node 20 to the launcher: for machines without an older Node on PATH. */
const OLD_NODE_PRELOAD =
  'data:text/javascript,Object.defineProperty(process,"versions",{value:{...process.versions,node:"20.0.0"}});' +
  'Object.defineProperty(process,"version",{value:"v20.0.0"})';

/** `node` binaries on PATH older than 22.15 (the system's, when it is one). */
function olderNodes(): string[] {
  const found = new Set<string>();
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    const node = join(d, 'node');
    if (!existsSync(node)) continue;
    const v = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
    const [major, minor] = v.slice(1).split('.').map(Number) as [number, number];
    if (major < 22 || (major === 22 && minor < 15)) found.add(node);
  }
  return [...found];
}

describe('the bins on an old and a new Node', () => {
  let dir: string;
  const bins: { command: string; launcher: string }[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kh-bins-'));
    for (const pkg of ['packages/cli', 'packages/uploader']) {
      const m = manifest(pkg);
      const [command, binPath] = Object.entries(m.bin)[0]!;
      // The package's own build line, into a scratch directory (the launcher imports the bundle beside it).
      const args = m.scripts.build
        .split(' && ')
        .at(-1)!
        .split(' ')
        .slice(1)
        .map((a) =>
          a.startsWith('dist/') ? join(dir, pkg, a) : a.startsWith('../') ? join(root, pkg, a) : a,
        );
      execFileSync(process.execPath, args, { cwd: join(root, pkg), stdio: 'inherit' });
      bins.push({ command, launcher: join(dir, pkg, binPath) });
    }
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('an old Node gets one line naming the Node needed, exit 1', () => {
    for (const { command, launcher } of bins) {
      const runs = [
        spawnSync(process.execPath, ['--import', OLD_NODE_PRELOAD, launcher, '--version'], {
          encoding: 'utf8',
        }),
        ...olderNodes().map((node) => spawnSync(node, [launcher, '--version'], { encoding: 'utf8' })),
      ];
      for (const r of runs) {
        assert.equal(r.status, 1, r.stderr);
        assert.match(
          r.stderr,
          new RegExp(`^${command}: needs Node\\.js 22\\.15 or newer; this is Node\\.js v[\\d.]+\\n$`),
        );
        assert.equal(r.stdout, '');
      }
    }
  });

  it('a recent Node runs the program', () => {
    for (const { launcher } of bins) {
      const out = execFileSync(process.execPath, [launcher, '--version'], { encoding: 'utf8' });
      assert.equal(out.trim(), manifest('packages/cli').version);
    }
  });
});
