// `heapdump doctor <pod>`, the shell: reads the pod, the uploader's logs (and its previous run's) and the dump
// volume through kubectl, asks the bucket for the dump when the log does not name it, prints the findings.
import { listDumps } from './catalog.ts';
import { diagnose, type Finding, type VolumeListing } from './doctor-findings.ts';
import { paint, printable } from './format.ts';
import { getPod, kubectl, kubectlExec, kubectlReason } from './kubectl.ts';
import type { Pod } from './pod.ts';
import { openStore } from './store.ts';
import { dumpTarget, uploaderStore } from './trigger.ts';

export interface DoctorOptions {
  namespace?: string;
  json: boolean;
}

/**
 * Lists the dump directory from inside the uploader's container with the node it runs on (its image has no
 * shell or du): the bytes of every file, and the top-level files.
 */
export const VOLUME_SCRIPT = `const fs = require('fs'), path = require('path');
const dir = process.argv[1]; let bytes = 0; const files = [];
const walk = (d, top) => { for (const n of fs.readdirSync(d)) { const f = path.join(d, n); const s = fs.lstatSync(f);
  if (s.isDirectory()) walk(f, false); else { bytes += s.size; if (top) files.push({ name: n, bytes: s.size, mtimeMs: s.mtimeMs }); } } };
walk(dir, true); process.stdout.write(JSON.stringify({ bytes, files }));`;

async function logsOf(ns: string, pod: string, container: string, previous: boolean): Promise<string[]> {
  const r = await kubectl([
    'logs',
    pod,
    '-n',
    ns,
    '-c',
    container,
    '--tail=500',
    ...(previous ? ['--previous'] : []),
  ]);
  return r.code === 0 ? r.stdout.split('\n') : [];
}

async function volumeOf(ns: string, pod: string, container: string, dir: string) {
  const r = await kubectlExec(ns, pod, container, ['node', '-e', VOLUME_SCRIPT, dir]);
  if (r.code !== 0) return { unavailable: kubectlReason(r) };
  try {
    return JSON.parse(r.stdout) as VolumeListing;
  } catch {
    return { unavailable: 'the listing is not JSON' };
  }
}

/** The newest stored dumps of the pod, from the bucket with the developer's credentials. */
async function bucketFinding(pod: Pod, target: ReturnType<typeof dumpTarget>): Promise<Finding> {
  try {
    const store = await openStore(uploaderStore(target));
    try {
      const [newest] = await listDumps(
        store,
        { namespace: target.namespace, app: target.app, pod: pod.metadata.name },
        1,
      );
      return newest
        ? {
            topic: 'app',
            severity: 'ok',
            text: `newest dump of the pod in the bucket: ${newest.key} (${newest.verdict ?? newest.summary})`,
          }
        : {
            topic: 'app',
            severity: 'problem',
            text: `no dump of the pod in s3://${store.bucket}/${store.prefix}`,
          };
    } finally {
      store.client.destroy();
    }
  } catch (err) {
    return {
      topic: 'app',
      severity: 'note',
      text: `could not look in the bucket: ${(err as Error).message}`,
    };
  }
}

const MARK: Record<Finding['severity'], string> = { ok: 'ok', note: 'note', problem: 'PROBLEM' };

export async function doctor(
  podName: string,
  options: DoctorOptions,
  out: (s: string) => void,
): Promise<number> {
  const pod = await getPod(podName, options.namespace);
  const target = dumpTarget(pod, undefined);
  const namespace = pod.metadata.namespace;
  const restarted = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ].some((s) => s.name === target.uploader && s.restartCount > 0);
  const logs = [
    ...(restarted ? await logsOf(namespace, podName, target.uploader, true) : []),
    ...(await logsOf(namespace, podName, target.uploader, false)),
  ];
  const volume = await volumeOf(namespace, podName, target.uploader, target.dir);
  const { findings } = diagnose({ pod, target, logs, volume, now: new Date() });
  const expectsDump = findings.some(
    (f) => f.topic === 'app' && /ExitOnOutOfMemoryError/.test(f.text) && f.severity !== 'ok',
  );
  if (expectsDump) findings.splice(1, 0, await bucketFinding(pod, target));

  const problems = findings.filter((f) => f.severity === 'problem').length;
  if (options.json) {
    out(JSON.stringify({ pod: `${namespace}/${podName}`, findings }, null, 2));
  } else {
    out(`Pod       ${printable(`${namespace}/${podName}`)} (${pod.status?.phase ?? 'phase unknown'})`);
    for (const topic of ['app', 'uploader', 'volume'] as const) {
      const label = { app: 'App', uploader: 'Uploader', volume: 'Volume' }[topic].padEnd(10);
      findings
        .filter((f) => f.topic === topic)
        .forEach((f, i) => {
          const mark =
            f.severity === 'problem'
              ? paint(MARK[f.severity], 'red')
              : f.severity === 'ok'
                ? paint('ok', 'green')
                : MARK[f.severity];
          out(`${i === 0 ? label : ' '.repeat(10)}${mark}  ${printable(f.text)}`);
          if (f.advice) out(`${' '.repeat(10)}      -> ${printable(f.advice)}`);
        });
    }
    out(problems === 0 ? 'No problem found.' : `${problems} problem${problems === 1 ? '' : 's'} found.`);
  }
  return problems === 0 ? 0 : 1;
}
