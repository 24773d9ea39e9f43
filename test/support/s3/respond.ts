// Answers: an XML document, an empty answer, or S3's error document (sent once the request body is read,
// unless `errorsBeforeBody`, so clients read the error rather than a reset connection).
import { S3Error } from './errors.ts';
import type { Context } from './types.ts';
import { type XmlNode, xmlDocument } from './xml.ts';

export function sendXml(
  ctx: Context,
  status: number,
  root: string,
  body: XmlNode,
  text?: string,
  headers: Record<string, string> = {},
): void {
  const xml =
    text === undefined
      ? xmlDocument(root, body)
      : `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${text}</${root}>`;
  const buf = Buffer.from(xml);
  ctx.res.writeHead(status, {
    ...commonHeaders(ctx),
    ...headers,
    'Content-Type': 'application/xml',
    'Content-Length': String(buf.length),
  });
  ctx.res.end(buf);
}
export function sendEmpty(ctx: Context, status: number, headers: Record<string, string> = {}): void {
  ctx.res.writeHead(status, { 'Content-Length': '0', ...commonHeaders(ctx), ...headers });
  ctx.res.end();
}
export function sendError(ctx: Context, err: unknown, errorsBeforeBody = false): void {
  const e =
    err instanceof S3Error
      ? err
      : new S3Error(500, 'InternalError', `We encountered an internal error: ${String(err)}`);
  if (!(err instanceof S3Error)) console.error('s3-server internal error', err);
  if (ctx.res.headersSent) {
    ctx.res.destroy();
    return;
  }
  const reply = () => {
    const isHead = ctx.req.method === 'HEAD';
    const xml = xmlDocument(
      'Error',
      {
        Code: e.code,
        Message: e.message,
        ...e.extra,
        Resource: ctx.rawPath,
        RequestId: ctx.requestId,
      },
      false,
    );
    ctx.res.writeHead(e.status, {
      ...commonHeaders(ctx),
      'x-amz-error-code': e.code,
      'Content-Type': 'application/xml',
      ...(isHead ? {} : { 'Content-Length': String(Buffer.byteLength(xml)) }),
    });
    ctx.res.end(isHead ? undefined : xml);
  };
  // Answer only once the body is consumed, so clients read our error rather than a reset connection.
  if (ctx.req.complete || ctx.req.destroyed) {
    reply();
    return;
  }
  if (errorsBeforeBody) {
    reply();
    ctx.req.resume(); // the rest of the body is read after the answer, and dropped
    return;
  }
  ctx.req.on('end', reply).on('error', () => ctx.res.destroy());
  ctx.req.resume();
}
export function commonHeaders(ctx: Context): Record<string, string> {
  return { 'x-amz-request-id': ctx.requestId, 'x-amz-id-2': ctx.requestId, Server: 'kube-heapdump-s3' };
}
