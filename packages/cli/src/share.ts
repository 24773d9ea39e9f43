// `heapdump url`: a presigned GET link, for someone without credentials to download a dump.
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { headDump } from './catalog.ts';
import { durationSeconds } from './duration.ts';
import { UsageError } from './errors.ts';
import type { Store } from './store.ts';

/** SigV4 presigned URLs live at most 7 days. */
const MAX_SECONDS = 7 * 24 * 3600;

/** `90s`, `30m`, `1h`, `7d` in seconds. */
export function parseExpiry(text: string): number {
  const seconds = durationSeconds(text, ['s', 'm', 'h', 'd']);
  if (seconds === undefined) throw new UsageError(`--expires "${text}" is not a duration like 30m, 1h or 7d`);
  if (seconds < 1 || seconds > MAX_SECONDS) throw new UsageError(`--expires "${text}" must be from 1s to 7d`);
  return seconds;
}

/** A link to an object that exists (HEAD first: a link that answers 404 helps nobody). */
export async function presignedUrl(store: Store, key: string, expiresIn: number): Promise<string> {
  await headDump(store, key);
  return getSignedUrl(store.client, new GetObjectCommand({ Bucket: store.bucket, Key: key }), { expiresIn });
}
