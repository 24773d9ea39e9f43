// kubectl as a child process: KUBECTL, else `kubectl` on PATH. Output is collected whole (pod JSON, logs).
import { spawn } from 'node:child_process';
import { UsageError } from './errors.ts';

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
