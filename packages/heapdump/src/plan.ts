// Which resources the component creates, decided from the shape of the arguments alone (which sub-objects
// are present), so it is known at construction time and a preview shows every resource. Pure.
import type { HeapDumpEnabledAppArgs, IdentityKind } from './args.ts';
import { ArgsError } from './pod-spec.ts';

export interface Plan {
  storage: 'provision' | 'existing';
  identity: IdentityKind;
}

const IDENTITY_KINDS: readonly IdentityKind[] = ['accessKey', 'irsa', 'podIdentity', 'existingSecret'];

export function planResources(args: Pick<HeapDumpEnabledAppArgs, 'storage' | 'identity'>): Plan {
  const storage = args.storage ?? {};
  if (storage.provision !== undefined && storage.existing !== undefined) {
    throw new ArgsError('storage', 'give provision or existing, not both');
  }
  const existing = storage.existing;
  const s3Compatible = existing?.endpoint !== undefined;
  const identity = args.identity ?? {};
  const kind = identity.kind ?? (s3Compatible ? 'existingSecret' : 'accessKey');
  if (!IDENTITY_KINDS.includes(kind)) {
    throw new ArgsError('identity.kind', `"${kind}" is not one of ${IDENTITY_KINDS.join(', ')}`);
  }
  for (const sub of ['existingSecret', 'irsa', 'podIdentity'] as const) {
    if (identity[sub] !== undefined && sub !== kind) {
      throw new ArgsError(`identity.${sub}`, `is given but identity.kind is "${kind}"`);
    }
  }
  if (kind !== 'accessKey' && identity[kind] === undefined) {
    throw new ArgsError(`identity.${kind}`, `is required when identity.kind is "${kind}"`);
  }
  if (s3Compatible && kind !== 'existingSecret') {
    throw new ArgsError(
      'identity.kind',
      `"${kind}" creates AWS IAM credentials, which the S3-compatible endpoint in storage.existing.endpoint ` +
        'does not know; put that store\'s keys in a Secret and use identity.kind "existingSecret"',
    );
  }
  return { storage: existing === undefined ? 'provision' : 'existing', identity: kind };
}

/** An endpoint the uploader can use: http(s) URL with a host and nothing after it. */
export function checkEndpoint(endpoint: string): void {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new ArgsError(
      'storage.existing.endpoint',
      `"${endpoint}" is not a URL (like https://obs.cn-north-4.myhuaweicloud.com)`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ArgsError('storage.existing.endpoint', `"${endpoint}" must start with https:// or http://`);
  }
}

/** Key prefix: empty or ending in `/`, never starting with one (the uploader's rule). */
export function normalizePrefix(prefix: string): string {
  if (prefix.startsWith('/')) throw new ArgsError('storage.prefix', `"${prefix}" must not start with "/"`);
  return prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
}
