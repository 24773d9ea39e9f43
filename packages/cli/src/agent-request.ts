// `heapdump trigger` through the memory watchdog's agent, for JVMs whose image has no JDK tools (distroless
// JREs): a request file dropped in the dump volume's request directory by `node` in the uploader container
// (kubectl exec; the uploader image has node, the app image may have nothing), answered by the agent inside
// the JVM. No jcmd, no attach, no shared process namespace.
import { AGENT_REQUESTS, agentJarPath } from '@kube-heapdump/contract';
import { StoreError } from './errors.ts';
import { kubectlExec } from './kubectl.ts';
import type { Pod } from './pod.ts';
import type { DumpTarget } from './trigger.ts';

/** The JVM container runs the agent: its literal JAVA_TOOL_OPTIONS names the jar in the dump volume. */
export function runsAgent(pod: Pod, target: DumpTarget): boolean {
  const jvm = pod.spec.containers.find((c) => c.name === target.container);
  const options = jvm?.env?.find((e) => e.name === 'JAVA_TOOL_OPTIONS')?.value ?? '';
  return options.includes(`-javaagent:${agentJarPath(target.dir)}`);
}

/**
 * Runs in the uploader container (`node -e`): drops `<id>.<kind>` (written under a dot-name, then renamed:
 * the agent never sees half a request), waits for `<id>.done`, prints the answer. For a thread dump it prints
 * the evidence file's thread dump too and removes the file (it goes to the developer, not the bucket).
 * Arguments: request directory, dump directory, kind (heap|threads), id, timeout in ms.
 */
export const REQUEST_SCRIPT = `
const fs = require('node:fs'), path = require('node:path');
const [reqDir, dumpDir, kind, id, timeout] = process.argv.slice(1);
const tmp = path.join(reqDir, '.' + id + '.tmp');
fs.writeFileSync(tmp, '');
fs.renameSync(tmp, path.join(reqDir, id + '.' + kind));
const done = path.join(reqDir, id + '.done');
const deadline = Date.now() + Number(timeout);
(function poll() {
  let text;
  try { text = fs.readFileSync(done, 'utf8'); } catch {}
  if (text === undefined) {
    if (Date.now() < deadline) return setTimeout(poll, 200);
    fs.rmSync(path.join(reqDir, id + '.' + kind), { force: true });
    process.stderr.write('the JVM agent did not answer (is the JVM running?)\\n');
    process.exit(3);
  }
  fs.rmSync(done, { force: true });
  const answer = JSON.parse(text);
  if (kind === 'threads' && answer.file) {
    const file = path.join(dumpDir, path.basename(answer.file));
    answer.threadDump = JSON.parse(fs.readFileSync(file, 'utf8')).threadDump;
    fs.rmSync(file, { force: true });
  }
  process.stdout.write(JSON.stringify(answer));
})();
`;

export interface AgentAnswer {
  /** The dump (or thread dump evidence) file the agent wrote in the dump volume. */
  file: string;
  threadDump?: string;
}

/** Asks the agent for a heap dump or a thread dump, through the uploader container. */
export async function askAgent(
  podName: string,
  target: DumpTarget,
  kind: 'heap' | 'threads',
  timeoutSeconds: number,
): Promise<AgentAnswer> {
  const id = `cli-${Date.now().toString(36)}-${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
  const exec = await kubectlExec(target.namespace, podName, target.uploader, [
    'node',
    '-e',
    REQUEST_SCRIPT,
    `${target.dir}/${AGENT_REQUESTS}`,
    target.dir,
    kind,
    id,
    String(timeoutSeconds * 1000),
  ]);
  if (exec.code !== 0) {
    throw new StoreError(
      `request to the JVM agent in ${podName} failed: ${(exec.stderr || exec.stdout).trim()}`,
    );
  }
  let answer: { file?: unknown; error?: unknown; threadDump?: unknown };
  try {
    answer = JSON.parse(exec.stdout);
  } catch {
    throw new StoreError(`the JVM agent in ${podName} answered something else: ${exec.stdout.slice(0, 200)}`);
  }
  if (typeof answer.error === 'string') throw new StoreError(`the JVM agent in ${podName}: ${answer.error}`);
  if (typeof answer.file !== 'string') throw new StoreError(`the JVM agent in ${podName} named no file`);
  return {
    file: answer.file,
    ...(typeof answer.threadDump === 'string' ? { threadDump: answer.threadDump } : {}),
  };
}
