// Who sent a request, and whether they may: SigV4 in the Authorization header or a presigned URL (clock
// skew, region, expiry, every x-amz-* header signed), then the credential's IAM policy for the route.
import { errors, S3Error } from './errors.ts';
import { isAllowed } from './policy.ts';
import { first } from './request.ts';
import * as sigv4 from './sigv4.ts';
import type { Context, S3Credential, S3State } from './types.ts';

const MAX_SKEW_MS = 15 * 60 * 1000;

export function authenticator(s: S3State) {
  const { region, credentials } = s;

  function authenticate(ctx: Context): void {
    const auth = ctx.req.headers.authorization;
    if (auth) authenticateHeader(ctx, auth);
    else if (ctx.query.has('X-Amz-Algorithm')) authenticateQuery(ctx);
    else throw errors.accessDenied('Anonymous access is not allowed');
  }
  function checkScope(credential: sigv4.Credential, amzDate: string): S3Credential {
    const known = credentials.get(credential.accessKeyId);
    if (!known) throw errors.invalidAccessKeyId();
    if (
      credential.service !== 's3' ||
      credential.region !== region ||
      credential.date !== amzDate.slice(0, 8)
    ) {
      throw new S3Error(
        400,
        'AuthorizationHeaderMalformed',
        `The authorization header is malformed; the region '${credential.region}' is wrong; expecting '${region}' (service s3, date ${amzDate.slice(0, 8)})`,
      );
    }
    return known;
  }
  function verify(
    ctx: Context,
    credential: sigv4.Credential,
    known: S3Credential,
    amzDate: string,
    signedHeaders: string[],
    signature: string,
    payloadHash: string,
    excludeQuery?: ReadonlySet<string>,
  ): Buffer {
    if (!signedHeaders.includes('host')) throw errors.accessDenied('The host header must be signed');
    const canonical = sigv4.canonicalRequest({
      method: ctx.req.method ?? 'GET',
      path: ctx.rawPath,
      rawQuery: ctx.rawQuery,
      headers: ctx.headers,
      signedHeaders,
      payloadHash,
      excludeQuery,
    });
    const key = sigv4.signingKey(known.secretAccessKey, credential);
    const expected = sigv4.sign(key, sigv4.stringToSign(amzDate, credential, canonical));
    if (!sigv4.signaturesEqual(expected, signature)) throw errors.signatureDoesNotMatch();
    ctx.credential = known;
    return key;
  }
  function authenticateHeader(ctx: Context, header: string): void {
    let parsed: sigv4.ParsedAuthorization;
    try {
      parsed = sigv4.parseAuthorization(header);
    } catch (err) {
      throw new S3Error(400, 'AuthorizationHeaderMalformed', (err as Error).message);
    }
    const amzDate = first(ctx, 'x-amz-date') ?? '';
    const when = sigv4.parseAmzDate(amzDate);
    if (Number.isNaN(when))
      throw errors.accessDenied('AWS authentication requires a valid x-amz-date header');
    if (Math.abs(Date.now() - when) > MAX_SKEW_MS) throw errors.timeSkewed();
    const payloadHash = first(ctx, 'x-amz-content-sha256');
    if (!payloadHash)
      throw errors.invalidRequest('Missing required header for this request: x-amz-content-sha256');
    const unsigned = [...ctx.headers.keys()].filter(
      (h) => h.startsWith('x-amz-') && !parsed.signedHeaders.includes(h),
    );
    if (unsigned.length > 0) {
      throw errors.accessDenied(
        `There were headers present in the request which were not signed: ${unsigned.join(', ')}`,
      );
    }
    const known = checkScope(parsed.credential, amzDate);
    const key = verify(
      ctx,
      parsed.credential,
      known,
      amzDate,
      parsed.signedHeaders,
      parsed.signature,
      payloadHash,
    );
    ctx.payloadHash = payloadHash;
    if (payloadHash.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD')) {
      ctx.signing = { key, amzDate, credential: parsed.credential, seedSignature: parsed.signature };
    }
  }
  function authenticateQuery(ctx: Context): void {
    const q = ctx.query;
    if (q.get('X-Amz-Algorithm') !== sigv4.ALGORITHM) {
      throw new S3Error(
        400,
        'AuthorizationQueryParametersError',
        `X-Amz-Algorithm only supports "${sigv4.ALGORITHM}"`,
      );
    }
    const need = [
      'X-Amz-Credential',
      'X-Amz-Date',
      'X-Amz-Expires',
      'X-Amz-SignedHeaders',
      'X-Amz-Signature',
    ];
    const missing = need.filter((n) => !q.get(n));
    if (missing.length > 0) {
      throw new S3Error(
        400,
        'AuthorizationQueryParametersError',
        `Query-string authentication requires ${missing.join(', ')}`,
      );
    }
    let credential: sigv4.Credential;
    try {
      credential = sigv4.parseCredential(q.get('X-Amz-Credential')!);
    } catch (err) {
      throw new S3Error(400, 'AuthorizationQueryParametersError', (err as Error).message);
    }
    const amzDate = q.get('X-Amz-Date')!;
    const when = sigv4.parseAmzDate(amzDate);
    const expires = Number(q.get('X-Amz-Expires'));
    if (Number.isNaN(when) || !Number.isInteger(expires) || expires < 1 || expires > 604800) {
      throw new S3Error(
        400,
        'AuthorizationQueryParametersError',
        'X-Amz-Date must be yyyymmddThhmmssZ and X-Amz-Expires between 1 and 604800 seconds',
      );
    }
    if (when - Date.now() > MAX_SKEW_MS) throw errors.accessDenied('Request is not valid yet');
    if (Date.now() > when + expires * 1000) throw errors.accessDenied('Request has expired');
    const known = checkScope(credential, amzDate);
    const payloadHash = q.get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD';
    verify(
      ctx,
      credential,
      known,
      amzDate,
      q.get('X-Amz-SignedHeaders')!.split(';'),
      q.get('X-Amz-Signature')!,
      payloadHash,
      new Set(['X-Amz-Signature']),
    );
    ctx.payloadHash = payloadHash;
  }
  function authorize(ctx: Context): void {
    const policy = ctx.credential?.policy;
    if (!policy || !ctx.route) return;
    const resource = ctx.bucket
      ? `arn:aws:s3:::${ctx.bucket}${ctx.key !== undefined && !ctx.route.action.includes('Bucket') ? `/${ctx.key}` : ''}`
      : '*';
    if (!isAllowed(policy, ctx.route.action, resource)) {
      throw errors.accessDenied(
        `User ${ctx.credential?.accessKeyId} is not authorized to perform: ${ctx.route.action} on resource: "${resource}"`,
      );
    }
  }

  return { authenticate, authorize };
}
