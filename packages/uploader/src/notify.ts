// Notifications when a dump is stored (or shipped incomplete): a Kubernetes Event on the pod and an optional
// Slack-compatible webhook. Fire and forget: each is retried with backoff in the background and can never
// delay, fail or change an upload; `drain` lets --once wait a bounded time for them before exiting.
import { humanBytes, type NotifySettings, type PodIdentity } from '@kube-heapdump/contract';
import { type DumpNotice, dumpEvent, postEvent, Refused } from './kube-event.ts';
import type { Logger } from './log.ts';

/** Attempts per notification, and the wait before each retry (doubling). */
const ATTEMPTS = 4;
const FIRST_RETRY_MS = 500;
const REQUEST_TIMEOUT_MS = 10_000;

/** One line for people: what was stored, where, how big, its verdict and the top class. */
export function noticeText(pod: PodIdentity, n: DumpNotice): string {
  const what = n.verdict === 'complete' ? 'Heap dump stored' : `Heap dump shipped ${n.verdict.toUpperCase()}`;
  const stored = n.compression === 'none' ? '' : ` (${humanBytes(n.storedBytes)} ${n.compression})`;
  const top = n.topClass ? `; top class ${n.topClass.name} ${humanBytes(n.topClass.bytes)}` : '';
  return (
    `${what}: ${pod.namespace}/${pod.name} (app ${pod.app}), s3://${n.bucket}/${n.key}, ` +
    `${humanBytes(n.originalBytes)}${stored}, verdict ${n.verdict}${top}. Fetch: heapdump get ${n.key}`
  );
}

async function postWebhook(url: string, text: string): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`the webhook answered ${res.status}`);
}

export class Notifier {
  private readonly pending = new Set<Promise<void>>();
  private readonly settings: NotifySettings;
  private readonly pod: PodIdentity;
  private readonly log: Logger;
  /** Channels refused for good: said once, not tried again. */
  private readonly refused = new Set<string>();

  constructor(settings: NotifySettings, pod: PodIdentity, log: Logger) {
    this.settings = settings;
    this.pod = pod;
    this.log = log;
  }

  /** Starts the notifications of a stored dump; returns at once. */
  dumpStored(n: DumpNotice): void {
    const text = noticeText(this.pod, n);
    const { events, apiServer, webhookUrl, podUid } = this.settings;
    if (events && apiServer) {
      const event = dumpEvent(this.pod, podUid, n, text, new Date());
      this.track('event', n.key, () => postEvent(this.settings, event, REQUEST_TIMEOUT_MS));
    }
    if (webhookUrl) this.track('webhook', n.key, () => postWebhook(webhookUrl, text));
  }

  /** Waits for notifications under way, at most `ms`. */
  async drain(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.pending]),
      new Promise((r) => {
        timer = setTimeout(r, ms);
      }),
    ]);
    clearTimeout(timer);
  }

  private track(channel: 'event' | 'webhook', key: string, send: () => Promise<void>): void {
    if (this.refused.has(channel)) return;
    const job = this.attempt(channel, key, send).catch(() => {});
    this.pending.add(job);
    void job.finally(() => this.pending.delete(job));
  }

  private async attempt(channel: 'event' | 'webhook', key: string, send: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await send();
        this.log.info({ channel, key, attempt }, 'notification sent');
        return;
      } catch (err) {
        const error = (err as Error).message;
        if (err instanceof Refused) {
          this.refused.add(channel);
          this.log.warn({ channel, key, attempt, error }, 'notification refused; not sending these again');
          return;
        }
        const last = attempt >= ATTEMPTS;
        const retryInMs = last ? undefined : FIRST_RETRY_MS * 2 ** (attempt - 1);
        this.log.warn({ channel, key, attempt, error, retryInMs }, 'notification failed');
        if (last) return;
        await new Promise((r) => setTimeout(r, retryInMs).unref());
      }
    }
  }
}
