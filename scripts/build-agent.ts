// Builds the JVM agent (packages/uploader/agent/src, Java, no dependencies) into
// packages/uploader/agent/agent.jar with `javac --release 11`: the jar the uploader image and npm package
// ship and the uploader copies into the dump volume. The jar is committed (the image's build stage has no
// JDK); its manifest's Source-Digest names the sources it was built from, and a test fails when they differ.
//   node scripts/build-agent.ts          rebuild the jar
//   node scripts/build-agent.ts --check  exit 1 when the jar is not built from the current sources
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const AGENT = join(import.meta.dirname, '../packages/uploader/agent');
export const AGENT_JAR = join(AGENT, 'agent.jar');
const SOURCES = join(AGENT, 'src');

async function javaSources(): Promise<string[]> {
  const entries = await readdir(SOURCES, { recursive: true });
  return entries
    .filter((f) => f.endsWith('.java'))
    .map((f) => join(SOURCES, f))
    .sort();
}

/** SHA-256 over the agent's sources (relative path and content of each, in order). */
export async function agentSourceDigest(): Promise<string> {
  const hash = createHash('sha256');
  for (const f of await javaSources()) {
    hash
      .update(relative(SOURCES, f))
      .update('\0')
      .update(await readFile(f))
      .update('\0');
  }
  return hash.digest('hex');
}

/** The Source-Digest in a jar's manifest (read with the JDK's `jar`), or undefined. */
export async function jarSourceDigest(jar: string): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'kh-agent-'));
  try {
    await exec('jar', ['--extract', '--file', jar, 'META-INF/MANIFEST.MF'], { cwd: dir });
    const manifest = await readFile(join(dir, 'META-INF/MANIFEST.MF'), 'utf8');
    // Manifest lines wrap at 72 bytes, continued on lines that start with a space.
    return /^Source-Digest: (\S+)/m.exec(manifest.replace(/\r?\n /g, ''))?.[1];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function buildAgent(out = AGENT_JAR): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'kh-agent-'));
  try {
    const classes = join(dir, 'classes');
    await exec('javac', [
      '--release',
      '11',
      '-Xlint:all',
      '-Werror',
      '-d',
      classes,
      ...(await javaSources()),
    ]);
    const manifest = join(dir, 'MANIFEST.MF');
    await writeFile(
      manifest,
      [
        'Premain-Class: io.kubeheapdump.agent.Agent',
        'Agent-Class: io.kubeheapdump.agent.Agent',
        'Implementation-Title: kube-heapdump agent',
        `Source-Digest: ${await agentSourceDigest()}`,
        '',
      ].join('\n'),
    );
    await exec('jar', ['--create', '--file', out, '--manifest', manifest, '-C', classes, '.']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.filename === process.argv[1]) {
  if (process.argv.includes('--check')) {
    const [want, have] = await Promise.all([
      agentSourceDigest(),
      jarSourceDigest(AGENT_JAR).catch(() => undefined),
    ]);
    if (want !== have) {
      process.stderr.write(
        `${AGENT_JAR} is not built from the current sources: run node scripts/build-agent.ts\n`,
      );
      process.exit(1);
    }
  } else await buildAgent();
}
