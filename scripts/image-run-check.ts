// Runs the built uploader image the way the component does (read-only root filesystem, all capabilities
// dropped, the dump's owner UID, the dump volume mounted) against the strict S3 server on the host's
// loopback, with a real heap dump, and checks the object arrived intact. `node scripts/image-run-check.ts
// <image>`; Docker must be reachable (DOCKER_HOST). Used by scripts/image-check.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdDecompressSync } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { HeldJvm } from '../test/support/java.ts';
import { run } from '../test/support/processes.ts';
import { DEFAULT_CREDENTIAL } from '../test/support/s3/server.ts';
import { startS3Fixture } from '../test/support/s3-fixture.ts';
import { AGENT_JAR } from './build-agent.ts';

const image = process.argv[2];
if (!image) throw new Error('usage: image-run-check.ts <image>');
const docker = (...args: string[]) => run('docker', args, process.env, 180_000);

const fixture = await startS3Fixture({ buckets: ['dumps'] });
const dir = await mkdtemp(join(tmpdir(), 'kh-image-dumps-'));
try {
  const inspect = JSON.parse((await docker('image', 'inspect', image)).stdout)[0];
  const labels = inspect.Config.Labels as Record<string, string>;
  for (const label of ['source', 'version', 'licenses'])
    assert.ok(labels[`org.opencontainers.image.${label}`], label);
  assert.equal(inspect.Config.User, '65532:65532');
  process.stdout.write(
    `image-run-check: ${image} is ${(inspect.Size / 1e6).toFixed(1)} MB, user ${inspect.Config.User}, version label ${labels['org.opencontainers.image.version']}\n`,
  );

  const help = await docker('run', '--rm', '--network', 'none', image, '--help');
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^heapdump-uploader \d+\.\d+\.\d+/);

  // The memory watchdog's agent ships in the image where the uploader looks for it (../agent/agent.jar from
  // /app/main.js), byte for byte the committed jar.
  const jar = await docker(
    'run',
    '--rm',
    '--network',
    'none',
    '--entrypoint',
    'node',
    image,
    '-e',
    "process.stdout.write(require('fs').readFileSync('/agent/agent.jar').toString('base64'))",
  );
  assert.equal(jar.code, 0, jar.stderr);
  assert.equal(
    jar.stdout,
    (await readFile(AGENT_JAR)).toString('base64'),
    'the image holds the committed agent jar',
  );

  // A real dump of a real JVM, mode 0600 like an OOM dump, in the directory the pod would share.
  const dump = join(dir, 'java_pid1.hprof');
  const jvm = await HeldJvm.start({ alphas: 200_000, betas: 1_000, gammas: 100, alphaArrays: 3 });
  try {
    await jvm.dump(dump);
  } finally {
    await jvm.close();
  }
  await chmod(dump, 0o600);
  await chmod(dir, 0o777); // an emptyDir is world-writable: the uploader deletes the dump and keeps its state there
  const original = await readFile(dump);
  const owner = await stat(dump);

  const started = Date.now();
  const r = await docker(
    'run',
    '--rm',
    '--network',
    'host', // the host's network namespace: the server listens on its loopback only
    '--read-only',
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges',
    '--user',
    `${owner.uid}:${owner.gid}`,
    '-v',
    `${dir}:/dumps`,
    '-e',
    'HEAPDUMP_BUCKET=dumps',
    '-e',
    `HEAPDUMP_S3_ENDPOINT=${fixture.server.endpoint}`,
    '-e',
    'HEAPDUMP_S3_FORCE_PATH_STYLE=true',
    '-e',
    'AWS_REGION=us-east-1',
    '-e',
    `AWS_ACCESS_KEY_ID=${DEFAULT_CREDENTIAL.accessKeyId}`,
    '-e',
    `AWS_SECRET_ACCESS_KEY=${DEFAULT_CREDENTIAL.secretAccessKey}`,
    '-e',
    'POD_NAME=orders-7d9f-abcde',
    '-e',
    'POD_NAMESPACE=shop',
    '-e',
    'HEAPDUMP_APP=orders',
    '-e',
    'HEAPDUMP_METRICS_PORT=0',
    image,
    '--once',
  );
  assert.equal(r.code, 0, `uploader exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  const stored = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; key?: string })
    .find((l) => l.msg === 'dump stored');
  assert.ok(stored?.key, r.stdout);
  const object = await fixture.client().send(new GetObjectCommand({ Bucket: 'dumps', Key: stored.key }));
  assert.match(stored.key, /\.hprof\.zst$/, 'zstd, the default');
  const bytes = zstdDecompressSync(Buffer.from(await object.Body!.transformToByteArray()));
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  assert.equal(sha(bytes), sha(original), 'the object is the dump');
  assert.deepEqual(
    (await readdir(dir)).filter((f) => f.endsWith('.hprof')),
    [],
    'the dump was removed',
  );
  process.stdout.write(
    `image-run-check: ${(original.length / 1e6).toFixed(1)} MB dump stored as ${stored.key} in ${((Date.now() - started) / 1000).toFixed(1)} s (container start included), sha256 equal\n`,
  );
} finally {
  await fixture.close();
  await rm(dir, { recursive: true, force: true });
}
