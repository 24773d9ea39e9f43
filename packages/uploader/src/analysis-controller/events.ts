// Which Events the controller acts on: HeapDumpStored (a complete dump; incomplete ones are not analysed) in
// the namespaces it serves. The object comes from the Event's annotations, or from its message for uploaders
// that did not annotate (`..., s3://<bucket>/<key>, ...`: keys hold no `,` or space, see keySafeName).
import { EVENT_ANNOTATIONS, STORED_EVENT_REASON } from '@kube-heapdump/contract';

/** The fields of a core/v1 Event the controller reads. */
export interface KubeEvent {
  metadata?: { namespace?: string; annotations?: Record<string, string> };
  involvedObject?: { namespace?: string };
  reason?: string;
  message?: string;
}

export interface StoredDump {
  bucket: string;
  key: string;
  /** The namespace the Event is in (the dump's pod's). */
  namespace: string;
}

const MESSAGE_OBJECT = /\bs3:\/\/([^/\s]+)\/([^\s,]+)/;

/** The dump a HeapDumpStored Event names, when the controller serves its namespace; otherwise undefined. */
export function storedDumpOf(event: KubeEvent, namespaces: ReadonlySet<string>): StoredDump | undefined {
  if (event.reason !== STORED_EVENT_REASON) return undefined;
  const namespace = event.metadata?.namespace ?? event.involvedObject?.namespace;
  if (namespace === undefined || !namespaces.has(namespace)) return undefined;
  const a = event.metadata?.annotations ?? {};
  const bucket = a[EVENT_ANNOTATIONS.bucket];
  const key = a[EVENT_ANNOTATIONS.key];
  if (bucket && key) return { bucket, key, namespace };
  const m = MESSAGE_OBJECT.exec(event.message ?? '');
  if (!m?.[1] || !m[2]) return undefined;
  return { bucket: m[1], key: m[2], namespace };
}
