// `heapdump trigger <pod>`: an on-demand dump of a live JVM. Reads the pod (kubectl get) to find the dump
// volume, the JVM container and the bucket settings from the uploader's env; runs jcmd (or jattach) in the
// JVM container through kubectl exec; the uploader sidecar ships the file like an OOM dump; --wait polls the
// bucket until it is stored.
import {
  type Compression,
  isCompression,
  keySafeName,
  keyTimestamp,
  originPrefix,
  storedSuffix,
  UPLOADER_DEFAULTS,
  UPLOADER_ENV,
} from '@kube-heapdump/contract';
import { askAgent, runsAgent } from './agent-request.ts';
import { listDumps } from './catalog.ts';
import { StoreError, UsageError } from './errors.ts';
import { humanBytes } from './format.ts';
import { getPod, kubectlExec, kubectlReason } from './kubectl.ts';
import type { Pod } from './pod.ts';
import { openStore, type StoreOptions } from './store.ts';

export interface TriggerOptions {
  namespace?: string;
  container?: string;
  pid?: number;
  wait: boolean;
  timeout: number;
  /** A thread dump instead, printed (needs the memory watchdog's agent in the JVM). */
  threadDump?: boolean;
}

/** What the pod spec says about its dumps. */
export interface DumpTarget {
  namespace: string;
  container: string;
  /** The uploader's container. */
  uploader: string;
  dir: string;
  app: string;
  /** The uploader's literal environment. */
  env: Record<string, string | undefined>;
}

/** Finds the uploader (the container with HEAPDUMP_DIR) and the JVM container that mounts the same volume. */
export function dumpTarget(pod: Pod, container: string | undefined): DumpTarget {
  const all = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  const uploader = all.find((c) => c.env?.some((e) => e.name === UPLOADER_ENV.dir));
  if (!uploader) {
    throw new UsageError(
      `pod ${pod.metadata.name} has no heap dump uploader (no container with ${UPLOADER_ENV.dir})`,
    );
  }
  const env = Object.fromEntries((uploader.env ?? []).map((e) => [e.name, e.value]));
  const dir = env[UPLOADER_ENV.dir] ?? UPLOADER_DEFAULTS.dir;
  const volume = uploader.volumeMounts?.find((m) => m.mountPath === dir)?.name;
  const candidates = pod.spec.containers.filter(
    (c) => c !== uploader && c.volumeMounts?.some((m) => m.name === volume && m.mountPath === dir),
  );
  const chosen =
    container === undefined ? candidates : pod.spec.containers.filter((c) => c.name === container);
  if (chosen.length !== 1 || !chosen[0]) {
    throw new UsageError(
      container === undefined
        ? `pod ${pod.metadata.name}: ${candidates.length} containers mount the dump volume at ${dir}; pass -c`
        : `pod ${pod.metadata.name} has no container ${container}`,
    );
  }
  if (!chosen[0].volumeMounts?.some((m) => m.name === volume && m.mountPath === dir)) {
    throw new UsageError(`container ${chosen[0].name} does not mount the dump volume at ${dir}`);
  }
  return {
    namespace: pod.metadata.namespace,
    container: chosen[0].name,
    uploader: uploader.name,
    dir,
    app: env[UPLOADER_ENV.app] ?? pod.metadata.labels?.app ?? pod.metadata.name,
    env,
  };
}

/** The store options the uploader's environment gives (the CLI then reads them like its own flags). */
export function uploaderStore(target: DumpTarget): StoreOptions {
  const e = target.env;
  const options: StoreOptions = { pathStyle: e[UPLOADER_ENV.forcePathStyle] === 'true' };
  if (e[UPLOADER_ENV.bucket] !== undefined) options.bucket = e[UPLOADER_ENV.bucket];
  if (e[UPLOADER_ENV.prefix] !== undefined) options.prefix = e[UPLOADER_ENV.prefix];
  if (e[UPLOADER_ENV.endpoint] !== undefined) options.endpoint = e[UPLOADER_ENV.endpoint];
  if (e[UPLOADER_ENV.region] !== undefined) options.region = e[UPLOADER_ENV.region];
  return options;
}

/** How the uploader will store the file: its compression, the contract's default when the pod sets none. */
export function uploaderCompression(target: DumpTarget): Compression {
  const c = target.env[UPLOADER_ENV.compression];
  return isCompression(c) ? c : UPLOADER_DEFAULTS.compression;
}

/** The key the uploader will give the dump, with `<time>` and `<id>` for what only it knows. */
export function announcedKey(target: DumpTarget, prefix: string, pod: string, file: string): string {
  const where = originPrefix(prefix, { namespace: target.namespace, app: target.app, pod });
  return `${where}<time>-<id>-${keySafeName(file)}${storedSuffix(file, uploaderCompression(target))}`;
}

/**
 * Runs in the JVM container: finds the JVM (the one java process, unless a pid is given), then jcmd
 * GC.heap_dump, or jattach dumpheap when the image has no JDK. Positional: dir, file name, pid.
 */
export const DUMP_SCRIPT = `set -eu
dir=$1; name=$2; pid=\${3:-}
if [ -z "$pid" ]; then
  found=""
  for p in /proc/[0-9]*; do
    case "$(readlink "$p/exe" 2>/dev/null || true)" in */java) found="$found \${p#/proc/}" ;; esac
  done
  set -- $found
  if [ $# -eq 0 ]; then echo "no java process in the container" >&2; exit 3; fi
  if [ $# -gt 1 ]; then echo "several java processes ($*); pass --pid" >&2; exit 3; fi
  pid=$1
fi
if command -v jcmd >/dev/null 2>&1; then exec jcmd "$pid" GC.heap_dump "$dir/$name"; fi
if command -v jattach >/dev/null 2>&1; then exec jattach "$pid" dumpheap "$dir/$name"; fi
echo "neither jcmd nor jattach in the container" >&2; exit 4
`;

export async function trigger(
  podName: string,
  options: TriggerOptions,
  out: (s: string) => void,
): Promise<void> {
  const pod = await getPod(podName, options.namespace);
  const target = dumpTarget(pod, options.container);
  const agent = runsAgent(pod, target);
  if (options.threadDump) {
    if (!agent)
      throw new UsageError(
        `--thread-dump needs the memory watchdog's agent, which ${podName}'s JVM does not run`,
      );
    out((await askAgent(podName, target, 'threads', 60)).threadDump ?? '');
    return;
  }
  // The JVM's own agent when it runs one (no JDK tools needed in the image), jcmd or jattach otherwise.
  const name = agent
    ? (await askAgent(podName, target, 'heap', options.timeout)).file
    : await dumpWithJcmd(podName, target, options.pid);
  out(`dump written in ${target.namespace}/${podName}: ${target.dir}/${name}`);
  await waitForStored(podName, target, name, options, out);
}

/** jcmd (or jattach) in the JVM container; returns the dump's file name. */
async function dumpWithJcmd(podName: string, target: DumpTarget, pid: number | undefined): Promise<string> {
  const name = `heapdump-${keyTimestamp(new Date())}.hprof`;
  const exec = await kubectlExec(target.namespace, podName, target.container, [
    'sh',
    '-c',
    DUMP_SCRIPT,
    'heapdump-trigger',
    target.dir,
    name,
    ...(pid !== undefined ? [String(pid)] : []),
  ]);
  if (exec.code !== 0) {
    throw new StoreError(`dump in ${podName}/${target.container} failed: ${kubectlReason(exec)}`);
  }
  return name;
}

async function waitForStored(
  podName: string,
  target: DumpTarget,
  name: string,
  options: TriggerOptions,
  out: (s: string) => void,
): Promise<void> {
  const store = await openStore(uploaderStore(target));
  try {
    out(`the uploader ships it as s3://${store.bucket}/${announcedKey(target, store.prefix, podName, name)}`);
    if (!options.wait) return;
    const deadline = Date.now() + options.timeout * 1000;
    for (;;) {
      const dumps = await listDumps(store, { namespace: target.namespace, app: target.app, pod: podName });
      const ending = `-${keySafeName(name)}${storedSuffix(name, uploaderCompression(target))}`;
      const mine = dumps.find((d) => d.key.endsWith(ending) && d.summary === 'stored');
      if (mine) {
        out(
          `stored: s3://${store.bucket}/${mine.key} (${humanBytes(mine.originalBytes ?? 0)}, ${mine.verdict})`,
        );
        return;
      }
      if (Date.now() > deadline) throw new StoreError(`${name} is not stored after ${options.timeout} s`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  } finally {
    store.client.destroy();
  }
}
