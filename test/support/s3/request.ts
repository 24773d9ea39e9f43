// A request as the handlers see it: parsed once (bucket and key, path or virtual-host addressing, headers,
// query) and routed to its S3 operation and IAM action; small readers of its headers and parameters.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors } from './errors.ts';
import { newId } from './store.ts';
import type { Context, Route } from './types.ts';

export function newContext(
  req: IncomingMessage,
  res: ServerResponse,
  virtualHostSuffix = 'localhost',
): Context {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? '' : url.slice(q + 1);
  const headers = new Map<string, string[]>();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    const list = headers.get(name) ?? [];
    list.push(req.rawHeaders[i + 1]!);
    headers.set(name, list);
  }
  const ctx: Context = {
    req,
    res,
    requestId: newId().toUpperCase(),
    rawPath,
    rawQuery,
    query: new URLSearchParams(rawQuery.replace(/\+/g, '%2B')),
    headers,
    addressing: 'path',
  };
  const host = (req.headers.host ?? '').replace(/:\d+$/, '');
  const path = decodeURIComponent(rawPath);
  if (host.endsWith(`.${virtualHostSuffix}`)) {
    ctx.addressing = 'virtual-host';
    ctx.bucket = host.slice(0, -virtualHostSuffix.length - 1);
    if (path.length > 1) ctx.key = path.slice(1);
  } else {
    const slash = path.indexOf('/', 1);
    if (path.length > 1) ctx.bucket = slash < 0 ? path.slice(1) : path.slice(1, slash);
    if (slash >= 0 && slash < path.length - 1) ctx.key = path.slice(slash + 1);
  }
  return ctx;
}

export function route(ctx: Context): Route {
  const m = ctx.req.method;
  const q = ctx.query;
  const r = (operation: string, action: string): Route => ({ operation, action });
  if (!ctx.bucket) {
    if (m === 'GET') return r('ListBuckets', 's3:ListAllMyBuckets');
  } else if (ctx.key === undefined) {
    if (m === 'PUT' && [...q.keys()].length === 0) return r('CreateBucket', 's3:CreateBucket');
    if (m === 'HEAD') return r('HeadBucket', 's3:ListBucket');
    if (m === 'DELETE' && [...q.keys()].length === 0) return r('DeleteBucket', 's3:DeleteBucket');
    if (m === 'GET' && q.has('uploads')) return r('ListMultipartUploads', 's3:ListBucketMultipartUploads');
    if (m === 'GET' && q.has('location')) return r('GetBucketLocation', 's3:GetBucketLocation');
    if (m === 'GET' && [...q.keys()].every((k) => LIST_PARAMS.has(k) || k.startsWith('X-Amz-'))) {
      return r('ListObjectsV2', 's3:ListBucket');
    }
  } else {
    if (m === 'PUT' && q.has('uploadId')) return r('UploadPart', 's3:PutObject');
    if (
      m === 'PUT' &&
      !q.has('uploadId') &&
      [...q.keys()].every((k) => k.startsWith('X-Amz-') || k === 'x-id')
    ) {
      return r('PutObject', 's3:PutObject');
    }
    if (m === 'POST' && q.has('uploads')) return r('CreateMultipartUpload', 's3:PutObject');
    if (m === 'POST' && q.has('uploadId')) return r('CompleteMultipartUpload', 's3:PutObject');
    if (m === 'DELETE' && q.has('uploadId')) return r('AbortMultipartUpload', 's3:AbortMultipartUpload');
    if (m === 'GET' && q.has('uploadId')) return r('ListParts', 's3:ListMultipartUploadParts');
    if (m === 'GET') return r('GetObject', 's3:GetObject');
    if (m === 'HEAD') return r('HeadObject', 's3:GetObject');
    if (m === 'DELETE') return r('DeleteObject', 's3:DeleteObject');
  }
  throw errors.notImplemented(`${m} ${ctx.rawPath}?${ctx.rawQuery}`);
}

const LIST_PARAMS = new Set([
  'list-type',
  'prefix',
  'delimiter',
  'max-keys',
  'continuation-token',
  'start-after',
  'encoding-type',
  'fetch-owner',
  'x-id',
]);

export function first(ctx: Context, name: string): string | undefined {
  return ctx.headers.get(name)?.[0];
}

export function storedEncoding(ctx: Context): string | undefined {
  const list = (first(ctx, 'content-encoding') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '' && s !== 'aws-chunked');
  return list.length > 0 ? list.join(', ') : undefined;
}

export function stripQuotes(s: string): string {
  return s.replace(/^"|"$/g, '');
}

export function parseNonNegative(value: string | null, fallback: number, name: string): number {
  if (value === null) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n))
    throw errors.invalidArgument(`${name} must be a non-negative integer`);
  return name.startsWith('max-') ? Math.min(n, 1000) : n;
}

/** A single `bytes=` range; anything else means the whole object, as S3 does. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) throw errors.invalidRange();
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) throw errors.invalidRange();
  return { start, end };
}
