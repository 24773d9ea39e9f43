// The CLI suites' set-up: dumps put in a store the way a pod's uploader puts them there, by the real uploader
// (`--once`) from a pod's dump directory, so the verbs read what production writes.
import assert from 'node:assert/strict';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Fixture } from '../../../test/support/s3-fixture.ts';
import { type LogLine, localUploaderEnv, UploaderProcess } from '../../../test/support/uploader.ts';

export interface ShippedDump {
  key: string;
  /** The uploader's `dump stored` line (verdict, sizes). */
  stored: LogLine;
  uploader: UploaderProcess;
}

/**
 * Ships one dump from `podDir` (created here) as `java_pid1.hprof`: `dump` is a file to copy or the bytes.
 * `env` goes over localUploaderEnv's (POD_NAME, compression, credentials, another store's bucket).
 */
export async function shipDump(
  store: S3Fixture | { endpoint: string },
  podDir: string,
  dump: string | Uint8Array,
  env: Record<string, string> = {},
): Promise<ShippedDump> {
  await mkdir(podDir);
  const file = join(podDir, 'java_pid1.hprof');
  if (typeof dump === 'string') await copyFile(dump, file);
  else await writeFile(file, dump);
  const uploader = new UploaderProcess(localUploaderEnv(store, podDir, env), ['--once']);
  assert.equal(await uploader.exited, 0, `${uploader.stderr}${JSON.stringify(uploader.logs)}`);
  const stored = await uploader.waitForLog((l) => l.msg === 'dump stored');
  return { key: String(stored.key), stored, uploader };
}

/**
 * Ships each dump in turn from `<dir>/<pod>`, a second apart so their key times (second precision) order
 * them; the stored dumps by pod.
 */
export async function shipDumps(
  store: S3Fixture | { endpoint: string },
  dir: string,
  dumps: readonly { pod: string; dump: string | Uint8Array; env?: Record<string, string> }[],
): Promise<Record<string, ShippedDump>> {
  const shipped: Record<string, ShippedDump> = {};
  for (const { pod, dump, env } of dumps) {
    shipped[pod] = await shipDump(store, join(dir, pod), dump, env);
    await new Promise((r) => setTimeout(r, 1100));
  }
  return shipped;
}
