// AWS Signature Version 4 as S3 checks it: pure functions over a request's parts.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

export interface Credential {
  accessKeyId: string;
  date: string; // yyyymmdd
  region: string;
  service: string;
}

export interface ParsedAuthorization {
  credential: Credential;
  signedHeaders: string[];
  signature: string;
}

export class SigV4FormatError extends Error {}

/** Parses `AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request, SignedHeaders=a;b, Signature=hex`. */
export function parseAuthorization(header: string): ParsedAuthorization {
  if (!header.startsWith(`${ALGORITHM} `)) {
    throw new SigV4FormatError(`Unsupported authorization type; only ${ALGORITHM} is accepted`);
  }
  const fields = new Map<string, string>();
  for (const part of header.slice(ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credential || !signedHeaders || !signature) {
    throw new SigV4FormatError('Authorization header must contain Credential, SignedHeaders and Signature');
  }
  return { credential: parseCredential(credential), signedHeaders: signedHeaders.split(';'), signature };
}

export function parseCredential(value: string): Credential {
  const parts = value.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request' || !/^\d{8}$/.test(parts[1] ?? '')) {
    throw new SigV4FormatError(`Malformed credential scope: ${value}`);
  }
  const [accessKeyId, date, region, service] = parts as [string, string, string, string];
  return { accessKeyId, date, region, service };
}

export function scopeOf(c: Credential): string {
  return `${c.date}/${c.region}/${c.service}/aws4_request`;
}

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters. */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Canonical query string from raw (still encoded) query text, optionally without some keys. */
export function canonicalQuery(rawQuery: string, exclude: ReadonlySet<string> = new Set()): string {
  if (rawQuery === '') return '';
  const pairs: [string, string][] = [];
  for (const item of rawQuery.split('&')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    const rawKey = eq < 0 ? item : item.slice(0, eq);
    const rawValue = eq < 0 ? '' : item.slice(eq + 1);
    const key = decodeQueryComponent(rawKey);
    if (exclude.has(key)) continue;
    pairs.push([uriEncode(key), uriEncode(decodeQueryComponent(rawValue))]);
  }
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function decodeQueryComponent(s: string): string {
  // '+' is a literal plus in SigV4-signed S3 queries, never a space.
  return decodeURIComponent(s);
}

/** Header value normalisation: trim, collapse inner runs of spaces. */
export function canonicalHeaderValue(values: readonly string[]): string {
  return values.map((v) => v.trim().replace(/ +/g, ' ')).join(',');
}

export interface CanonicalRequestInput {
  method: string;
  /** The request path exactly as sent (S3 does not normalise or re-encode it). */
  path: string;
  rawQuery: string;
  /** Lower-cased header name -> values in the order received. */
  headers: ReadonlyMap<string, readonly string[]>;
  signedHeaders: readonly string[];
  payloadHash: string;
  excludeQuery?: ReadonlySet<string>;
}

export function canonicalRequest(input: CanonicalRequestInput): string {
  const headerLines = input.signedHeaders.map(
    (name) => `${name}:${canonicalHeaderValue(input.headers.get(name) ?? [])}\n`,
  );
  return [
    input.method,
    input.path,
    canonicalQuery(input.rawQuery, input.excludeQuery),
    headerLines.join(''),
    input.signedHeaders.join(';'),
    input.payloadHash,
  ].join('\n');
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function stringToSign(amzDate: string, credential: Credential, canonical: string): string {
  return [ALGORITHM, amzDate, scopeOf(credential), sha256Hex(canonical)].join('\n');
}

export function signingKey(secret: string, c: Credential): Buffer {
  const kDate = createHmac('sha256', `AWS4${secret}`).update(c.date).digest();
  const kRegion = createHmac('sha256', kDate).update(c.region).digest();
  const kService = createHmac('sha256', kRegion).update(c.service).digest();
  return createHmac('sha256', kService).update('aws4_request').digest();
}

export function sign(key: Buffer, toSign: string): string {
  return createHmac('sha256', key).update(toSign).digest('hex');
}

/** Signature of one aws-chunked chunk (STREAMING-AWS4-HMAC-SHA256-PAYLOAD). */
export function chunkStringToSign(
  amzDate: string,
  credential: Credential,
  previousSignature: string,
  chunkSha256Hex: string,
): string {
  return [
    'AWS4-HMAC-SHA256-PAYLOAD',
    amzDate,
    scopeOf(credential),
    previousSignature,
    EMPTY_SHA256,
    chunkSha256Hex,
  ].join('\n');
}

export function signaturesEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** `20260101T000000Z` -> epoch ms, or NaN when malformed. */
export function parseAmzDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return Number.NaN;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
}
