// Who the uploader tells of each dump stored: a Kubernetes Event on the pod, and a chat webhook. The
// uploader's own variables, apart from the settings the component decides.
import { EnvError, parseBoolean, type ValueSource, value } from './env-read.ts';
import { UPLOADER_DEFAULTS, UPLOADER_ENV } from './uploader-variables.ts';

/** What Kubernetes sets in every container: where the API server is (the uploader posts Events there). */
export const KUBERNETES_ENV = { host: 'KUBERNETES_SERVICE_HOST', port: 'KUBERNETES_SERVICE_PORT' } as const;

/** Who hears of each dump stored: a Kubernetes Event on the pod, and a chat webhook. */
export interface NotifySettings {
  /** Post Events (needs the API server's address, a ServiceAccount token and RBAC to create events). */
  events: boolean;
  /** Where the ServiceAccount token, ca.crt and namespace are mounted. */
  serviceAccountDir: string;
  /** `https://host:port` of the API server, from KUBERNETES_SERVICE_HOST/PORT; undefined outside a cluster. */
  apiServer: string | undefined;
  /** Slack-compatible incoming webhook (a secret: never logged). */
  webhookUrl: string | undefined;
  /** The pod's UID (downward API), so `kubectl describe pod` lists the Event. */
  podUid: string | undefined;
}

/** `https://host:port` of the in-cluster API server (IPv6 hosts bracketed), undefined outside a cluster. */
function apiServer(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const host = env[KUBERNETES_ENV.host]?.trim();
  if (!host) return undefined;
  const port = env[KUBERNETES_ENV.port]?.trim() || '443';
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function webhook(get: ValueSource): string | undefined {
  const v = value(get, UPLOADER_ENV.webhookUrl);
  if (v === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new EnvError(UPLOADER_ENV.webhookUrl, 'is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new EnvError(UPLOADER_ENV.webhookUrl, 'must be an http(s) URL');
  }
  return v;
}

/** Where the uploader tells of stored dumps (its own variables, apart from the settings the component decides). */
export function parseNotifyEnv(env: Readonly<Record<string, string | undefined>>): NotifySettings {
  const get: ValueSource = (name) => env[name];
  return {
    events: parseBoolean(get, UPLOADER_ENV.events, UPLOADER_DEFAULTS.events),
    serviceAccountDir: value(get, UPLOADER_ENV.serviceAccountDir) ?? UPLOADER_DEFAULTS.serviceAccountDir,
    apiServer: apiServer(env),
    webhookUrl: webhook(get),
    podUid: value(get, UPLOADER_ENV.podUid),
  };
}
