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

/** `kubectl get pod <name> [-n ns] -o json`, parsed; its stderr in one line when it fails. */
export async function getPod(podName: string, namespace: string | undefined): Promise<Pod> {
  const ns = namespace !== undefined ? ['-n', namespace] : [];
  const got = await kubectl(['get', 'pod', podName, ...ns, '-o', 'json']);
  if (got.code !== 0)
    throw new StoreError(`kubectl get pod ${podName}: ${got.stderr.trim() || `exit ${got.code}`}`);
  return JSON.parse(got.stdout) as Pod;
}
