// `heapdump doctor`, the pure part: from the pod (spec and status), the uploader's log lines and a listing of
// the dump volume, the findings that explain why there is, or is not, a dump.
import { CREDENTIAL_ERRORS, isDumpFileName, NETWORK_ERRORS } from '@kube-heapdump/contract';
import { terminationFinding } from './doctor-exits.ts';
import { humanBytes } from './format.ts';
import { quantityBytes } from './memory.ts';
import type { ContainerStateTerminated, ContainerStatus, Pod } from './pod.ts';
import type { DumpTarget } from './trigger.ts';

export type Severity = 'ok' | 'note' | 'problem';
export type Topic = 'app' | 'uploader' | 'volume';

export interface Finding {
  topic: Topic;
  severity: Severity;
  text: string;
  /** What to change. */
  advice?: string;
}

/** What the uploader logged that matters here (its JSON lines' stable fields). */
export interface UploaderEvent {
  time: string | undefined;
  kind: 'credentials refused' | 'store unreachable' | 'bucket missing' | 'volume full' | 'error' | 'crash';
  text: string;
}

export interface StoredDump {
  file: string;
  key: string;
  verdict: string | undefined;
  time: string | undefined;
}

export interface VolumeListing {
  /** Bytes of every file under the dump directory (dumps, upload state). */
  bytes: number;
  files: { name: string; bytes: number; mtimeMs: number }[];
}

export interface DoctorInput {
  pod: Pod;
  target: DumpTarget;
  /** The uploader's log, current run then the previous one (kubectl logs [--previous]). */
  logs: string[];
  /** Undefined when the volume could not be looked into, with why. */
  volume: VolumeListing | { unavailable: string };
  now: Date;
}

interface LogLine {
  level?: string;
  time?: string;
  msg?: string;
  code?: string;
  error?: string;
  file?: string;
  key?: string;
  verdict?: string;
}

function kindOf(l: LogLine): UploaderEvent['kind'] {
  const code = l.code ?? '';
  const text = `${l.msg ?? ''} ${l.error ?? ''}`;
  if (CREDENTIAL_ERRORS.has(code) || /refused our credentials/.test(text)) return 'credentials refused';
  if (code === 'NoSuchBucket') return 'bucket missing';
  if (code === 'ENOSPC' || /ENOSPC|no space left|volume full/i.test(text)) return 'volume full';
  if (NETWORK_ERRORS.has(code) || /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|timed out/i.test(text)) {
    return 'store unreachable';
  }
  return 'error';
}

/** The uploader's warnings and errors, and what it stored, from its log lines (JSON, or a crash's text). */
export function readUploaderLog(lines: readonly string[]): { events: UploaderEvent[]; stored: StoredDump[] } {
  const events: UploaderEvent[] = [];
  const stored: StoredDump[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '') continue;
    let l: LogLine | undefined;
    if (line.startsWith('{')) {
      try {
        l = JSON.parse(line) as LogLine;
      } catch {
        l = undefined;
      }
    }
    if (!l) {
      // Node's own report of an uncaught error: `Error: message`, `TypeError: ...`, `Unhandled 'error' event`.
      if (/^(\w*Error\b|Unhandled|FATAL|Uncaught)/.test(line))
        events.push({ time: undefined, kind: 'crash', text: line });
      continue;
    }
    if (l.msg === 'dump stored' && l.key !== undefined) {
      stored.push({ file: l.file ?? '', key: l.key, verdict: l.verdict, time: l.time });
    }
    if (l.level === 'warn' || l.level === 'error' || l.level === 'fatal') {
      const code = l.code ? ` [${l.code}]` : '';
      events.push({
        time: l.time,
        kind: kindOf(l),
        text: `${l.msg ?? ''}${code}${l.error ? `: ${l.error}` : ''}`,
      });
    }
  }
  return { events, stored };
}

function statusOf(pod: Pod, name: string): ContainerStatus | undefined {
  const all = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  return all.find((s) => s.name === name);
}

function lastTermination(s: ContainerStatus | undefined): ContainerStateTerminated | undefined {
  return s?.state?.terminated ?? s?.lastState?.terminated;
}

function appFindings(input: DoctorInput, stored: StoredDump[]): Finding[] {
  const { pod, target } = input;
  const status = statusOf(pod, target.container);
  const t = lastTermination(status);
  const restarts = status?.restartCount ?? 0;
  const where = `container ${target.container}`;
  if (!t) {
    return [
      {
        topic: 'app',
        severity: 'ok',
        text: `${where} is running and has not terminated (restarts ${restarts})`,
      },
    ];
  }
  const when = t.finishedAt ? ` at ${t.finishedAt}` : '';
  const head = `${where} last terminated${when}: exit ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}, restarts ${restarts}`;
  const container = pod.spec.containers.find((c) => c.name === target.container);
  return [
    { topic: 'app', ...terminationFinding({ termination: t, head, container, logs: input.logs, stored }) },
  ];
}

function uploaderFindings(input: DoctorInput, events: UploaderEvent[]): Finding[] {
  const s = statusOf(input.pod, input.target.uploader);
  const where = `container ${input.target.uploader}`;
  if (!s)
    return [{ topic: 'uploader', severity: 'problem', text: `${where} has no status: it has not started` }];
  const state = s.state?.running
    ? `running since ${s.state.running.startedAt ?? '?'}`
    : s.state?.waiting
      ? `waiting (${s.state.waiting.reason ?? '?'})`
      : `terminated (exit ${s.state?.terminated?.exitCode ?? '?'})`;
  const findings: Finding[] = [];
  const crashLooping = s.state?.waiting?.reason === 'CrashLoopBackOff';
  findings.push({
    topic: 'uploader',
    severity: s.state?.running && !crashLooping ? 'ok' : 'problem',
    text: `${where} ${state}, restarts ${s.restartCount}`,
  });
  const last = s.lastState?.terminated;
  if (last?.reason === 'OOMKilled') {
    findings.push({
      topic: 'uploader',
      severity: 'problem',
      text: `${where} was OOM-killed (its memory limit is too small for the dumps in flight)`,
      advice:
        'raise uploader.resources.limits.memory, or lower HEAPDUMP_BUFFER_MIB / HEAPDUMP_S3_CONCURRENCY',
    });
  }
  const ADVICE: Record<UploaderEvent['kind'], string | undefined> = {
    'credentials refused':
      "the store refuses the uploader's credentials: check the Secret's keys, or the role (IRSA / Pod Identity) and its policy (s3:PutObject on the prefix)",
    'store unreachable':
      'the uploader cannot reach the store: check HEAPDUMP_S3_ENDPOINT, DNS, and network policies (egress)',
    'bucket missing': 'the bucket does not exist at the endpoint: check HEAPDUMP_BUCKET and the region',
    'volume full': 'the dump volume is full: raise heapDumps.sizeLimit (one dump needs 1.2 x the heap)',
    error: undefined,
    crash: 'the uploader crashed: its previous log (kubectl logs --previous) has the stack trace',
  };
  const kinds = new Set(events.map((e) => e.kind));
  for (const kind of kinds) {
    const advice = ADVICE[kind];
    const recent = events.filter((e) => e.kind === kind).slice(-3);
    findings.push({
      topic: 'uploader',
      severity: 'problem',
      text: `${kind}: ${recent.map((e) => `${e.time ? `${e.time} ` : ''}${e.text}`).join(' | ')}`,
      ...(advice ? { advice } : {}),
    });
  }
  return findings;
}

function volumeFindings(input: DoctorInput, events: UploaderEvent[]): Finding[] {
  const { pod, target, volume } = input;
  if ('unavailable' in volume) {
    return [
      { topic: 'volume', severity: 'note', text: `could not look into ${target.dir}: ${volume.unavailable}` },
    ];
  }
  const mount = pod.spec.containers
    .concat(pod.spec.initContainers ?? [])
    .find((c) => c.name === target.uploader)
    ?.volumeMounts?.find((m) => m.mountPath === target.dir);
  const limitText = pod.spec.volumes?.find((v) => v.name === mount?.name)?.emptyDir?.sizeLimit;
  const limit = quantityBytes(limitText);
  const findings: Finding[] = [];
  const share = limit ? volume.bytes / limit : undefined;
  findings.push({
    topic: 'volume',
    severity: share !== undefined && share >= 0.9 ? 'problem' : 'ok',
    text:
      `${target.dir} (volume ${mount?.name ?? '?'}) holds ${humanBytes(volume.bytes)}` +
      (limit ? ` of its ${limitText} sizeLimit (${Math.round((share ?? 0) * 100)}%)` : ', no sizeLimit'),
    ...(share !== undefined && share >= 0.9
      ? {
          advice:
            'a full volume cuts the next dump short, and the kubelet evicts the pod past the sizeLimit: raise ' +
            'heapDumps.sizeLimit, and see why dumps are not shipped and deleted',
        }
      : {}),
  });
  const dumps = volume.files.filter((f) => isDumpFileName(f.name));
  const stuck = events.length > 0;
  for (const f of dumps) {
    const age = Math.max(0, Math.round((input.now.getTime() - f.mtimeMs) / 1000));
    findings.push({
      topic: 'volume',
      severity: stuck ? 'problem' : 'note',
      text: `${f.name} (${humanBytes(f.bytes)}, last written ${age} s ago) is present, not yet shipped${stuck ? ': the uploader reports errors above' : ''}`,
    });
  }
  return findings;
}

export function diagnose(input: DoctorInput): { findings: Finding[]; stored: StoredDump[] } {
  const { events, stored } = readUploaderLog(input.logs);
  return {
    findings: [
      ...appFindings(input, stored),
      ...uploaderFindings(input, events),
      ...volumeFindings(input, events),
    ],
    stored,
  };
}
