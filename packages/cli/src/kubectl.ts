// kubectl as a child process: KUBECTL, else `kubectl` on PATH. Output is collected whole (pod JSON, logs).
import { spawn } from 'node:child_process';
import { StoreError, UsageError } from './errors.ts';
import type { Pod } from './pod.ts';

export interface KubectlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function kubectl(args: string[]): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.env.KUBECTL ?? 'kubectl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.on('error', (e) =>
      reject(
        new UsageError(
          `cannot run kubectl (${(e as NodeJS.ErrnoException).code}): install it or set KUBECTL`,
        ),
      ),
    );
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `kubectl exec -n <namespace> <pod> -c <container> -- <command...>`: the command run in one container. */
export function kubectlExec(
  namespace: string,
  podName: string,
  container: string,
  command: string[],
): Promise<KubectlResult> {
  return kubectl(['exec', '-n', namespace, podName, '-c', container, '--', ...command]);
}

/** `kubectl get pod <name> [-n ns] -o json`, parsed; its stderr in one line when it fails. */
export async function getPod(podName: string, namespace: string | undefined): Promise<Pod> {
  const ns = namespace !== undefined ? ['-n', namespace] : [];
  const got = await kubectl(['get', 'pod', podName, ...ns, '-o', 'json']);
  if (got.code !== 0) throw new StoreError(`kubectl get pod ${podName}: ${kubectlReason(got)}`);
  return JSON.parse(got.stdout) as Pod;
}

/** client-go's log lines (`E1207 11:47:22.286370 7370 memcache.go:265] ...`): the same reason, repeated. */
const KLOG = /^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d+\s+\d+ [^\]]*\] /;

/**
 * Why a kubectl call failed, in one line: its own last message (`The connection to the server ... was
 * refused ...`), not client-go's log lines before it; failing that, the last log line's error.
 */
export function kubectlReason(r: KubectlResult): string {
  const lines = (r.stderr || r.stdout)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const own = lines.filter((l) => !KLOG.test(l));
  const last =
    own.at(-1) ??
    lines
      .at(-1)
      ?.replace(KLOG, '')
      .replace(/^"Unhandled Error" err=/, '');
  return last ?? `exit ${r.code}`;
}
