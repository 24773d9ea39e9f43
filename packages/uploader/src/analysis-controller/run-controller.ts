// `heapdump-uploader analysis-controller`: lists then watches HeapDumpStored Events in each served namespace
// (listing again when the watch's resourceVersion has expired), hands each dump to the controller one at a
// time, polls the Jobs it follows, and retries dumps whose handling failed (API server or store down).
import { parseNotifyEnv, STORED_EVENT_REASON } from '@kube-heapdump/contract';
import type { Logger } from '../log.ts';
import { createS3Client } from '../s3.ts';
import { AnalysisController } from './controller.ts';
import { type StoredDump, storedDumpOf } from './events.ts';
import { KubeApi, type WatchEvent } from './kube-api.ts';
import { S3Reports } from './s3-reports.ts';
import type { ControllerConfig } from './settings.ts';

export interface RunOptions {
  pollMs: number;
  signal: AbortSignal;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    const stop = () => {
      clearTimeout(t);
      resolve();
    };
    signal.addEventListener('abort', stop, { once: true });
  });

export async function runController(
  cfg: ControllerConfig,
  env: Readonly<Record<string, string | undefined>>,
  log: Logger,
  o: RunOptions,
): Promise<void> {
  const notify = parseNotifyEnv(env);
  if (!notify.apiServer) throw new Error('not in a cluster (no KUBERNETES_SERVICE_HOST)');
  const api = new KubeApi(notify.apiServer, notify.serviceAccountDir);
  const { store } = cfg.jobs;
  const s3 = createS3Client(
    {
      region: store.region,
      endpoint: store.endpoint,
      forcePathStyle: store.forcePathStyle,
      maxSockets: 4,
      idleTimeoutMs: 60_000,
    },
    log,
  );
  const controller = new AnalysisController({
    settings: cfg,
    api,
    store: new S3Reports(s3, store.bucket),
    log,
    now: () => new Date(),
  });
  const retry = new Map<string, StoredDump>();
  // One dump at a time: two namespaces' watches never race on the same key.
  let queue = Promise.resolve();
  const handle = (dump: StoredDump) => {
    queue = queue.then(() =>
      controller.handle(dump).then(
        () => void retry.delete(dump.key),
        (err: Error) => {
          retry.set(dump.key, dump);
          log.warn({ key: dump.key, error: err.message }, 'analysis not started; retrying');
        },
      ),
    );
  };
  const onEvent = (e: Parameters<typeof storedDumpOf>[0]) => {
    const dump = storedDumpOf(e, cfg.namespaces);
    if (dump) handle(dump);
  };

  const watchNamespace = async (namespace: string) => {
    let resourceVersion: string | undefined;
    let backoffMs = 1000;
    while (!o.signal.aborted) {
      try {
        if (resourceVersion === undefined) {
          const list = await api.listEvents(namespace, STORED_EVENT_REASON);
          for (const e of list.items) onEvent(e);
          resourceVersion = list.resourceVersion;
        }
        await api.watchEvents(
          namespace,
          STORED_EVENT_REASON,
          resourceVersion,
          (w: WatchEvent) => {
            if (w.type === 'ERROR') {
              if (w.object.code === 410) resourceVersion = undefined; // expired: list again
              return;
            }
            resourceVersion = w.object.metadata?.resourceVersion ?? resourceVersion;
            if (w.type === 'ADDED' || w.type === 'MODIFIED') onEvent(w.object);
          },
          o.signal,
        );
        backoffMs = 1000;
      } catch (err) {
        if (o.signal.aborted) break;
        log.warn(
          { namespace, error: (err as Error).message, retryInMs: backoffMs },
          'watching events failed',
        );
        resourceVersion = undefined;
        await sleep(backoffMs, o.signal);
        backoffMs = Math.min(backoffMs * 2, 30_000);
      }
    }
  };

  const pollLoop = async () => {
    while (!o.signal.aborted) {
      await sleep(o.pollMs, o.signal);
      for (const dump of retry.values()) handle(dump);
      queue = queue.then(() =>
        controller.poll().catch((err: Error) => log.warn({ error: err.message }, 'polling jobs failed')),
      );
      await queue;
    }
  };

  log.info(
    {
      namespaces: [...cfg.namespaces],
      jobNamespace: cfg.jobs.namespace,
      bucket: store.bucket,
      sizing: cfg.sizing,
    },
    'analysis controller starting',
  );
  await Promise.all([...[...cfg.namespaces].map(watchNamespace), pollLoop()]);
  await queue;
  s3.destroy();
}
