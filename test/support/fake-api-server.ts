// A stand-in for the Kubernetes API server on loopback HTTPS (a self-signed certificate made with openssl,
// given to clients as their ServiceAccount's ca.crt), enough for the uploader's Events and the analysis
// controller: create/list/watch core/v1 Events, create/get batch/v1 Jobs. Bodies are validated against the
// Kubernetes schema (kubernetes-models); every request is authorised by RBAC rules per bearer token (the
// rendered Roles), and a request no rule allows is answered 403 and recorded in `denied`. Every request is
// recorded in `requests`; `failWith` makes it answer every request with that status (an API server that refuses
// or fails).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Event } from 'kubernetes-models/v1/Event';

const exec = promisify(execFile);

export interface RoleRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** What one ServiceAccount may do: Role rules per namespace. */
export type Grants = { namespace: string; rules: RoleRule[] }[];

type Stored = Record<string, unknown> & {
  metadata: Record<string, unknown> & { name: string; namespace: string };
};

/** One request as it came: method and path, its Authorization header, its JSON body (POST). */
export interface ApiRequest {
  path: string;
  authorization: string | undefined;
  body: Record<string, unknown>;
}

export class FakeApiServer {
  readonly requests: ApiRequest[] = [];
  /** When set, every request is answered with this status (a Status body), after it is recorded. */
  failWith: number | undefined;
  readonly events: Stored[] = [];
  readonly jobs = new Map<string, Stored>();
  readonly denied: string[] = [];
  readonly invalid: string[] = [];
  private readonly tokens = new Map<string, Grants>();
  private readonly watchers = new Set<{
    namespace: string;
    reason: string | undefined;
    res: ServerResponse;
  }>();
  private rv = 1;
  private server!: Server;
  private dir!: string;
  private cert!: Buffer;
  port = 0;

  static async start(dir: string): Promise<FakeApiServer> {
    const api = new FakeApiServer();
    api.dir = dir;
    await exec('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=kubernetes',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'api.key'),
      '-out',
      join(dir, 'api.crt'),
    ]);
    api.cert = await readFile(join(dir, 'api.crt'));
    api.server = createServer({ key: await readFile(join(dir, 'api.key')), cert: api.cert }, (req, res) => {
      api.serve(req, res).catch((err: Error) => {
        res.writeHead(500);
        res.end(err.message);
      });
    });
    await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
    api.port = (api.server.address() as AddressInfo).port;
    return api;
  }

  /** A ServiceAccount directory (token, ca.crt) whose token has `grants`. */
  async serviceAccount(name: string, grants: Grants): Promise<string> {
    const token = `${name}.${randomBytes(12).toString('hex')}`;
    this.tokens.set(token, grants);
    const sa = join(this.dir, `sa-${name}`);
    await mkdir(sa, { recursive: true });
    await writeFile(join(sa, 'token'), `${token}\n`);
    await writeFile(join(sa, 'ca.crt'), this.cert);
    return sa;
  }

  /** The variables a pod gets to find this server. */
  env(): Record<string, string> {
    return { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(this.port) };
  }

  setJobStatus(namespace: string, name: string, status: Record<string, unknown>): void {
    const job = this.jobs.get(`${namespace}/${name}`);
    if (!job) throw new Error(`no job ${namespace}/${name}`);
    job.status = status;
  }

  async close(): Promise<void> {
    for (const w of this.watchers) w.res.end();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private allowed(req: IncomingMessage, group: string, resource: string, verb: string, namespace: string) {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const grants = this.tokens.get(token) ?? [];
    const ok = grants.some(
      (g) =>
        g.namespace === namespace &&
        g.rules.some(
          (r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb),
        ),
    );
    if (!ok) this.denied.push(`${token.split('.')[0]}: ${verb} ${group}/${resource} in ${namespace}`);
    return ok;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const events = /^\/api\/v1\/namespaces\/([^/]+)\/events$/.exec(url.pathname);
    const jobs = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs(?:\/([^/]+))?$/.exec(url.pathname);
    const namespace = decodeURIComponent(events?.[1] ?? jobs?.[1] ?? '');
    const watch = url.searchParams.get('watch') === '1';
    const verb =
      req.method === 'POST' ? 'create' : watch ? 'watch' : jobs?.[2] !== undefined ? 'get' : 'list';
    const [group, resource] = events ? ['', 'events'] : jobs ? ['batch', 'jobs'] : ['', ''];
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body = (text ? JSON.parse(text) : {}) as Stored;
    this.requests.push({
      path: `${req.method} ${req.url}`,
      authorization: req.headers.authorization,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    });
    if (this.failWith !== undefined) return reply(this.failWith, { kind: 'Status', code: this.failWith });
    if (!resource) return reply(404, { kind: 'Status', code: 404 });
    if (!this.allowed(req, group, resource, verb, namespace))
      return reply(403, { kind: 'Status', code: 403 });
    if (req.method === 'POST') {
      try {
        if (events) new Event(body as unknown as ConstructorParameters<typeof Event>[0]).validate();
        else new Job(body as unknown as ConstructorParameters<typeof Job>[0]).validate();
      } catch (err) {
        this.invalid.push((err as Error).message);
        return reply(422, { kind: 'Status', code: 422 });
      }
      if (body.metadata.namespace !== namespace) return reply(400, { kind: 'Status', code: 400 });
      const generate = body.metadata.generateName as string | undefined;
      if (!body.metadata.name && generate)
        body.metadata.name = `${generate}${randomBytes(3).toString('hex')}`;
      body.metadata.resourceVersion = String(++this.rv);
      if (jobs) {
        const id = `${namespace}/${body.metadata.name}`;
        if (this.jobs.has(id)) return reply(409, { kind: 'Status', code: 409, reason: 'AlreadyExists' });
        this.jobs.set(id, body);
      } else {
        this.events.push(body);
        for (const w of this.watchers)
          if (w.namespace === namespace && (w.reason === undefined || w.reason === body.reason))
            w.res.write(`${JSON.stringify({ type: 'ADDED', object: body })}\n`);
      }
      return reply(201, body);
    }
    if (jobs) {
      const job = this.jobs.get(`${namespace}/${jobs[2]}`);
      return job ? reply(200, job) : reply(404, { kind: 'Status', code: 404 });
    }
    const reason = /^reason=(.+)$/.exec(url.searchParams.get('fieldSelector') ?? '')?.[1];
    const matching = this.events.filter(
      (e) => e.metadata.namespace === namespace && (reason === undefined || e.reason === reason),
    );
    if (!watch)
      return reply(200, {
        kind: 'EventList',
        metadata: { resourceVersion: String(this.rv) },
        items: matching,
      });
    const from = Number(url.searchParams.get('resourceVersion') ?? '0');
    res.writeHead(200, { 'content-type': 'application/json' });
    for (const e of matching)
      if (Number(e.metadata.resourceVersion) > from)
        res.write(`${JSON.stringify({ type: 'ADDED', object: e })}\n`);
    const w = { namespace, reason, res };
    this.watchers.add(w);
    res.on('close', () => this.watchers.delete(w));
  }
}
