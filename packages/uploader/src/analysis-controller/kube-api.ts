// The few calls the controller makes to the API server, with its ServiceAccount token and CA (read at each
// call: projected tokens rotate): list and watch Events, create and get Jobs. node:https rather than fetch,
// which cannot be given a CA per request.
import { readFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import type { JobApi } from './controller.ts';
import type { AnalyzedEvent, KubeEvent } from './events.ts';
import type { AnalysisJob } from './job-spec.ts';
import type { JobStatus } from './outcome.ts';

export class KubeError extends Error {
  readonly status: number;
  constructor(status: number, what: string) {
    super(
      `${what}: the API server answered ${status}${status === 403 ? ' (forbidden: check the Role)' : ''}`,
    );
    this.status = status;
  }
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeEvent & { metadata?: { resourceVersion?: string }; code?: number };
}

export class KubeApi implements JobApi {
  private readonly apiServer: string;
  private readonly serviceAccountDir: string;

  constructor(apiServer: string, serviceAccountDir: string) {
    this.apiServer = apiServer;
    this.serviceAccountDir = serviceAccountDir;
  }

  private async open(
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<IncomingMessage> {
    const [token, ca] = await Promise.all([
      readFile(join(this.serviceAccountDir, 'token'), 'utf8'),
      readFile(join(this.serviceAccountDir, 'ca.crt')),
    ]);
    const url = new URL(path, this.apiServer);
    const text = body === undefined ? undefined : JSON.stringify(body);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, {
        method,
        ca,
        ...(signal ? { signal } : {}),
        headers: {
          authorization: `Bearer ${token.trim()}`,
          accept: 'application/json',
          ...(text === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }),
        },
      });
      req.on('response', resolve);
      req.on('error', reject);
      req.end(text);
    });
  }

  private async call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown }> {
    const res = await this.open(method, path, body);
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.statusCode ?? 0, json };
  }

  private static eventsPath(namespace: string): string {
    return `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`;
  }

  /** The namespace's HeapDumpStored Events now, and the resourceVersion to watch from. */
  async listEvents(
    namespace: string,
    reason: string,
  ): Promise<{ items: KubeEvent[]; resourceVersion: string }> {
    const q = new URLSearchParams({ fieldSelector: `reason=${reason}` });
    const { status, json } = await this.call('GET', `${KubeApi.eventsPath(namespace)}?${q}`);
    if (status !== 200) throw new KubeError(status, `list events in ${namespace}`);
    const list = json as { items?: KubeEvent[]; metadata?: { resourceVersion?: string } };
    return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? '' };
  }

  /** Watches from `resourceVersion` until the server ends the watch (its timeout) or `signal` aborts. */
  async watchEvents(
    namespace: string,
    reason: string,
    resourceVersion: string,
    onEvent: (e: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const q = new URLSearchParams({
      watch: '1',
      fieldSelector: `reason=${reason}`,
      resourceVersion,
      allowWatchBookmarks: 'true',
      timeoutSeconds: '300',
    });
    const res = await this.open('GET', `${KubeApi.eventsPath(namespace)}?${q}`, undefined, signal);
    if (res.statusCode !== 200) {
      res.resume();
      throw new KubeError(res.statusCode ?? 0, `watch events in ${namespace}`);
    }
    let rest = '';
    try {
      for await (const chunk of res) {
        const lines = (rest + (chunk as Buffer).toString('utf8')).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) if (line.trim()) onEvent(JSON.parse(line) as WatchEvent);
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    }
  }

  async createJob(job: AnalysisJob): Promise<'created' | 'exists'> {
    const path = `/apis/batch/v1/namespaces/${encodeURIComponent(job.metadata.namespace)}/jobs`;
    const { status } = await this.call('POST', path, job);
    if (status === 201 || status === 200) return 'created';
    if (status === 409) return 'exists';
    throw new KubeError(status, `create job ${job.metadata.name}`);
  }

  async postEvent(event: AnalyzedEvent): Promise<void> {
    const { status } = await this.call('POST', KubeApi.eventsPath(event.metadata.namespace), event);
    if (status !== 201 && status !== 200)
      throw new KubeError(status, `post event in ${event.metadata.namespace}`);
  }

  async jobStatus(namespace: string, name: string): Promise<JobStatus | undefined> {
    const path = `/apis/batch/v1/namespaces/${encodeURIComponent(namespace)}/jobs/${encodeURIComponent(name)}`;
    const { status, json } = await this.call('GET', path);
    if (status === 404) return undefined;
    if (status !== 200) throw new KubeError(status, `get job ${name}`);
    return (json as { status?: JobStatus }).status ?? {};
  }
}
