// First use of README's commands on a fresh clone: installs the locked npm dependencies when node_modules
// is missing or older than package-lock.json, and names any system tool the command needs that is not on
// PATH (with the Debian packages that provide it). Imports nothing outside Node, so it runs before the install.
//   node scripts/ensure-installed.ts [tool ...]
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const PROVIDED_BY: Record<string, string> = {
  java: 'openjdk-17-jdk-headless',
  javac: 'openjdk-17-jdk-headless',
  jcmd: 'openjdk-17-jdk-headless',
  aws: 'awscli',
  zstd: 'zstd',
};

const missing = process.argv
  .slice(2)
  .filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
if (missing.length > 0) {
  const packages = [...new Set(missing.map((t) => PROVIDED_BY[t] ?? t))];
  process.stderr.write(
    `missing on PATH: ${missing.join(', ')} (Debian/Ubuntu: apt-get install ${packages.join(' ')})\n`,
  );
  process.exit(2);
}

const installed = join(root, 'node_modules/.package-lock.json');
if (
  !existsSync(installed) ||
  statSync(installed).mtimeMs < statSync(join(root, 'package-lock.json')).mtimeMs
) {
  process.stderr.write('installing the locked npm dependencies (npm ci), once\n');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
