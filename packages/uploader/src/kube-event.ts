// A core/v1 Event on the uploader's own pod, posted to the in-cluster API server with the pod's
// ServiceAccount token (read at each post: projected tokens rotate). `kubectl describe pod` and
// `kubectl get events` show it; the component's Role allows creating events and nothing else.
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { EVENT_ANNOTATIONS, type NotifySettings, type PodIdentity } from '@kube-heapdump/contract';

export interface DumpNotice {
  key: string;
  bucket: string;
  file: string;
  verdict: string;
  originalBytes: number;
  storedBytes: number;
  compression: string;
  /** The class with the most shallow bytes, when the summary has one. */
  topClass: { name: string; bytes: number } | undefined;
}

export const EVENT_REASONS = { stored: 'HeapDumpStored', incomplete: 'HeapDumpIncomplete' } as const;

/** The Event for a dump: Normal when it is complete, Warning when it is not. */
export function dumpEvent(
  pod: PodIdentity,
  podUid: string | undefined,
  n: DumpNotice,
  message: string,
  now: Date,
) {
  const complete = n.verdict === 'complete';
  const time = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: {
      generateName: `${pod.name}.heapdump-`,
      namespace: pod.namespace,
      // The object exactly, for the analysis controller (the message says it for people).
      annotations: { [EVENT_ANNOTATIONS.bucket]: n.bucket, [EVENT_ANNOTATIONS.key]: n.key },
    },
    involvedObject: {
      apiVersion: 'v1',
      kind: 'Pod',
      name: pod.name,
      namespace: pod.namespace,
      ...(podUid ? { uid: podUid } : {}),
    },
    reason: complete ? EVENT_REASONS.stored : EVENT_REASONS.incomplete,
    message,
    type: complete ? 'Normal' : 'Warning',
    source: { component: 'heapdump-uploader', host: pod.node },
    reportingComponent: 'heapdump-uploader',
    reportingInstance: pod.name,
    firstTimestamp: time,
    lastTimestamp: time,
    count: 1,
  };
}

/** A refusal not worth retrying (no RBAC, bad request): said once in the log. */
export class Refused extends Error {}

/** POSTs the Event; resolves when the API server accepted it (201). */
export async function postEvent(
  settings: NotifySettings,
  event: ReturnType<typeof dumpEvent>,
  timeoutMs: number,
): Promise<void> {
  if (!settings.apiServer) throw new Refused('not in a cluster (no KUBERNETES_SERVICE_HOST)');
  const [token, ca] = await Promise.all([
    readFile(join(settings.serviceAccountDir, 'token'), 'utf8'),
    readFile(join(settings.serviceAccountDir, 'ca.crt')),
  ]).catch((err: NodeJS.ErrnoException) => {
    throw new Refused(`no ServiceAccount token (${err.code}): automountServiceAccountToken is off?`);
  });
  const url = new URL(
    `/api/v1/namespaces/${encodeURIComponent(event.metadata.namespace)}/events`,
    settings.apiServer,
  );
  const body = JSON.stringify(event);
  await new Promise<void>((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        ca,
        timeout: timeoutMs,
        headers: {
          authorization: `Bearer ${token.trim()}`,
          'content-type': 'application/json',
          accept: 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve();
        else if (status === 401 || status === 403 || status === 422 || status === 400) {
          reject(
            new Refused(
              `the API server answered ${status}${status === 403 ? ' (the Role must allow create on events)' : ''}`,
            ),
          );
        } else reject(new Error(`the API server answered ${status}`));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
