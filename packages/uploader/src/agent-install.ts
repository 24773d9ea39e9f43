// Puts the memory watchdog's JVM agent into the dump volume (`<dir>/.kube-heapdump/agent.jar`) before the
// JVM starts: the uploader is a native sidecar, so the kubelet starts the app only once this is done and the
// startup probe passes. The jar ships beside the uploader (packages/uploader/agent/agent.jar; /agent/agent.jar
// in the image). The volume is shared with the app container: the directory must be a real directory (not a
// link), and the jar is written under a fresh name (O_EXCL, which also refuses a link) and renamed into place.
import { randomBytes } from 'node:crypto';
import { constants, copyFile, lstat, mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_DIR, AGENT_JAR } from '@kube-heapdump/contract';

/** The jar beside the uploader: `../agent/agent.jar` from both src/main.ts and dist/main.js (/app/main.js in the image). */
export const BUNDLED_AGENT_JAR = fileURLToPath(new URL('../agent/agent.jar', import.meta.url));

/** Copies the agent jar into the volume; returns its path there. Throws with a one-line reason. */
export async function installAgent(dumpDir: string, jar = BUNDLED_AGENT_JAR): Promise<string> {
  const dir = join(dumpDir, AGENT_DIR);
  await mkdir(dir, { mode: 0o755 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  const st = await lstat(dir);
  if (!st.isDirectory())
    throw new Error(`${dir} is not a directory (a link or file put there by someone else)`);
  await mkdir(join(dir, 'requests'), { mode: 0o755 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  const target = join(dir, AGENT_JAR);
  const tmp = join(dir, `.${AGENT_JAR}.${randomBytes(4).toString('hex')}`);
  try {
    await copyFile(jar, tmp, constants.COPYFILE_EXCL);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return target;
}
