// A fault-injecting HTTP proxy in front of an S3 server, on loopback: it forwards every request and lets a
// test break one on the way, the way networks and stores break: drop the answer after the store acted on
// it, strip a header from the answer, flip a byte of a request body, answer an error before reading the
// body, or accept the connection and never answer. Faults are rules matched on the S3 operation (from method and query, like the server's router).
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export type Operation =
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'PutObject'
  | 'HeadObject'
  | 'GetObject'
  | 'Other';

export function operationOf(req: IncomingMessage): Operation {
  const url = new URL(req.url ?? '/', 'http://proxy');
  const q = url.searchParams;
  if (req.method === 'POST' && q.has('uploads')) return 'CreateMultipartUpload';
  if (req.method === 'PUT' && q.has('uploadId')) return 'UploadPart';
  if (req.method === 'POST' && q.has('uploadId')) return 'CompleteMultipartUpload';
  if (req.method === 'DELETE' && q.has('uploadId')) return 'AbortMultipartUpload';
  if (req.method === 'PUT') return 'PutObject';
  if (req.method === 'HEAD') return 'HeadObject';
  if (req.method === 'GET' && !q.has('list-type') && url.pathname.split('/').filter(Boolean).length > 1)
    return 'GetObject';
  return 'Other';
}

export type Fault =
  /** Forward the request, let the store act on it, then close the client's connection without an answer. */
  | { kind: 'drop-answer' }
  /** Forward, and remove this header from the answer. */
  | { kind: 'strip-header'; header: string }
  /** Forward, and change the answer's body (text) on the way back. */
  | { kind: 'edit-answer'; edit: (body: string) => string }
  /** Change one byte of the request body at this offset on the way to the store. */
  | { kind: 'corrupt-body'; offset: number }
  /** Accept the request and never answer (nor forward it). */
  | { kind: 'hang' }
  /** Answer this S3 error at once, before reading the request body (as S3 does when it throttles), and drop the body. */
  | { kind: 'answer-error'; status: number; code: string };

export interface FaultRule {
  operation: Operation;
  fault: Fault;
  /** How many matching requests get the fault (default 1). */
  times?: number;
  /** Matching requests to let through untouched first (default 0). */
  after?: number;
}

export interface S3Proxy {
  endpoint: string;
  /** Requests seen, in order, with the fault applied to each (if any). */
  seen: { operation: Operation; fault?: Fault['kind'] }[];
  close(): Promise<void>;
}

export async function startS3Proxy(target: string, rules: FaultRule[]): Promise<S3Proxy> {
  const upstream = new URL(target);
  const counts = rules.map(() => 0);
  const applied = rules.map(() => 0);
  const seen: S3Proxy['seen'] = [];
  const hanging = new Set<ServerResponse>();

  const pick = (op: Operation): Fault | undefined => {
    for (const [i, r] of rules.entries()) {
      if (r.operation !== op) continue;
      counts[i]!++;
      if (counts[i]! <= (r.after ?? 0) || applied[i]! >= (r.times ?? 1)) continue;
      applied[i]!++;
      return r.fault;
    }
    return undefined;
  };

  const server: Server = createServer((req, res) => {
    const operation = operationOf(req);
    const fault = pick(operation);
    seen.push({ operation, ...(fault ? { fault: fault.kind } : {}) });
    if (fault?.kind === 'hang') {
      hanging.add(res);
      req.resume();
      return;
    }
    if (fault?.kind === 'answer-error') {
      const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${fault.code}</Code><Message>injected by the fault proxy</Message></Error>`;
      res.writeHead(fault.status, {
        'content-type': 'application/xml',
        'content-length': String(xml.length),
      });
      res.end(xml);
      req.resume();
      return;
    }
    const out = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        if (fault?.kind === 'drop-answer') {
          answer.resume();
          answer.on('end', () => req.socket.destroy());
          return;
        }
        const headers = { ...answer.headers };
        if (fault?.kind === 'strip-header') delete headers[fault.header.toLowerCase()];
        if (fault?.kind === 'edit-answer') {
          const chunks: Buffer[] = [];
          answer.on('data', (c: Buffer) => chunks.push(c));
          answer.on('end', () => {
            const body = Buffer.from(fault.edit(Buffer.concat(chunks).toString()));
            res.writeHead(answer.statusCode ?? 502, { ...headers, 'content-length': String(body.length) });
            res.end(body);
          });
          return;
        }
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    let offset = 0;
    req.on('data', (chunk: Buffer) => {
      if (fault?.kind === 'corrupt-body' && fault.offset >= offset && fault.offset < offset + chunk.length) {
        const copy = Buffer.from(chunk);
        copy[fault.offset - offset] = copy[fault.offset - offset]! ^ 0xff;
        chunk = copy;
      }
      offset += chunk.length;
      out.write(chunk);
    });
    req.on('end', () => out.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    seen,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
