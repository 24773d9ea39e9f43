// What the CLI suites that reach a cluster (trigger, doctor, kubectl) set up alike: the stand-in kubectl
// (test/fixtures/kubectl/kubectl) over a directory holding its pods, logs and call log, and the store
// settings the component renders for a pod that writes to the strict S3 server with a Secret-held key.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const FAKE_KUBECTL = join(import.meta.dirname, '../../../test/fixtures/kubectl/kubectl');

/** The stand-in kubectl's variables over `dir`: `pods.json`, `logs/`, and `kubectl.log` (every call). */
export function fakeKubectlEnv(dir: string): NodeJS.ProcessEnv {
  return {
    KUBECTL: FAKE_KUBECTL,
    FAKE_KUBECTL_PODS: join(dir, 'pods.json'),
    FAKE_KUBECTL_LOGS: join(dir, 'logs'),
    FAKE_KUBECTL_LOG: join(dir, 'kubectl.log'),
  };
}

/** The pods `kubectl get pod -o json` answers with, by `<namespace>/<name>`. */
export async function writePods(dir: string, pods: Record<string, unknown>): Promise<void> {
  await writeFile(join(dir, 'pods.json'), JSON.stringify(pods));
}

/** Every kubectl call so far, its arguments in order. */
export async function kubectlCalls(dir: string): Promise<string[][]> {
  return (await readFile(join(dir, 'kubectl.log'), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as string[]);
}

/** renderDeployment's `target` and `credentials` for the strict S3 server (the key in Secret `store-keys`). */
export function storeArgs(endpoint: string, bucket: string, prefix: string) {
  return {
    target: { bucket, prefix, endpoint, region: 'us-east-1', forcePathStyle: true, checksums: true },
    credentials: {
      kind: 'secret' as const,
      secretName: 'store-keys',
      accessKeyIdKey: 'id',
      secretAccessKeyKey: 'secret',
    },
  };
}
