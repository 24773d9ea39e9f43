// Which Events the controller acts on: HeapDumpStored (a complete dump; incomplete ones are not analysed) in
// the namespaces it serves. The object comes from the Event's annotations, or from its message for uploaders
// that did not annotate (`..., s3://<bucket>/<key>, ...`: keys hold no `,` or space, see keySafeName).
import {
  ANALYZED_EVENT_REASON,
  type AnalysisReport,
  EVENT_ANNOTATIONS,
  humanBytes,
  STORED_EVENT_REASON,
} from '@kube-heapdump/contract';

/** The fields of a core/v1 Event the controller reads. */
export interface KubeEvent {
  metadata?: { namespace?: string; annotations?: Record<string, string> };
  involvedObject?: { kind?: string; name?: string; namespace?: string; uid?: string };
  reason?: string;
  message?: string;
}

export interface StoredDump {
  bucket: string;
  key: string;
  /** The namespace the Event is in (the dump's pod's). */
  namespace: string;
  /** The pod the Event was on: the HeapDumpAnalyzed Event goes there too. */
  pod?: { name: string; uid?: string };
}

const MESSAGE_OBJECT = /\bs3:\/\/([^/\s]+)\/([^\s,]+)/;

/** The dump a HeapDumpStored Event names, when the controller serves its namespace; otherwise undefined. */
export function storedDumpOf(event: KubeEvent, namespaces: ReadonlySet<string>): StoredDump | undefined {
  if (event.reason !== STORED_EVENT_REASON) return undefined;
  const namespace = event.metadata?.namespace ?? event.involvedObject?.namespace;
  if (namespace === undefined || !namespaces.has(namespace)) return undefined;
  const o = event.involvedObject;
  const pod = o?.kind === 'Pod' && o.name ? { pod: { name: o.name, ...(o.uid ? { uid: o.uid } : {}) } } : {};
  const a = event.metadata?.annotations ?? {};
  const bucket = a[EVENT_ANNOTATIONS.bucket];
  const key = a[EVENT_ANNOTATIONS.key];
  if (bucket && key) return { bucket, key, namespace, ...pod };
  const m = MESSAGE_OBJECT.exec(event.message ?? '');
  if (!m?.[1] || !m[2]) return undefined;
  return { bucket: m[1], key: m[2], namespace, ...pod };
}

/** One line for people: what the report says, and how to read it. */
export function analyzedMessage(dump: StoredDump, report: AnalysisReport): string {
  const where = `s3://${dump.bucket}/${dump.key}`;
  if (report.status !== 'analysed')
    return `Heap dump not analysed (${report.status}): ${where}: ${report.reason ?? ''}`;
  const s = report.analysis?.suspects[0];
  const top = s
    ? `top suspect ${s.className} retains ${humanBytes(s.retainedBytes)} (${s.percent.toFixed(0)}% of the heap)`
    : 'no leak suspect';
  return `Heap dump analysed: ${where}; ${top}. Report: heapdump report ${dump.key}`;
}

/** The core/v1 Event on the dump's pod when its report is stored (Warning when there is no analysis). */
export function analyzedEvent(
  dump: StoredDump & { pod: { name: string; uid?: string } },
  report: AnalysisReport,
  now: Date,
) {
  const time = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: {
      generateName: `${dump.pod.name}.heapdump-`,
      namespace: dump.namespace,
      annotations: { [EVENT_ANNOTATIONS.bucket]: dump.bucket, [EVENT_ANNOTATIONS.key]: dump.key },
    },
    involvedObject: {
      apiVersion: 'v1',
      kind: 'Pod',
      name: dump.pod.name,
      namespace: dump.namespace,
      ...(dump.pod.uid ? { uid: dump.pod.uid } : {}),
    },
    reason: ANALYZED_EVENT_REASON,
    message: analyzedMessage(dump, report),
    type: report.status === 'analysed' ? 'Normal' : 'Warning',
    source: { component: 'heapdump-analysis' },
    reportingComponent: 'heapdump-analysis',
    reportingInstance: 'heapdump-analysis',
    firstTimestamp: time,
    lastTimestamp: time,
    count: 1,
  };
}

export type AnalyzedEvent = ReturnType<typeof analyzedEvent>;
