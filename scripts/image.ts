// `npm run image [-- <extra build flags>]`: builds the uploader image with the engine at hand (docker or
// podman; CONTAINER_ENGINE picks one) and tags it kube-heapdump-uploader:<version>, the version the
// component's default image reference uses (packages/*/package.json move in lockstep; a test checks it).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const { version } = JSON.parse(readFileSync(join(root, 'packages/uploader/package.json'), 'utf8')) as {
  version: string;
};
const has = (cmd: string) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
const engine = process.env.CONTAINER_ENGINE ?? ['docker', 'podman'].find(has);
if (!engine) {
  process.stderr.write('npm run image: neither docker nor podman found (or set CONTAINER_ENGINE)\n');
  process.exit(2);
}
const tag = `kube-heapdump-uploader:${version}`;
const args = [
  'build',
  '-f',
  'packages/uploader/Dockerfile',
  '-t',
  tag,
  '--build-arg',
  `VERSION=${version}`,
  ...process.argv.slice(2),
  '.',
];
process.stdout.write(`${engine} ${args.join(' ')}\n`);
const r = spawnSync(engine, args, { cwd: root, stdio: 'inherit' });
if (r.status === 0) process.stdout.write(`built ${tag}\n`);
process.exit(r.status ?? 1);
