// Which resources the component creates, decided from the shape of the arguments alone (which sub-objects
// are present), so it is known at construction time and a preview shows every resource. Pure.
import {
  checkEndpoint as contractCheckEndpoint,
  normalizePrefix as contractNormalizePrefix,
  InvalidValue,
} from '@kube-heapdump/contract';
import { type HeapDumpEnabledAppArgs, IdentityKind } from './args.ts';
import { FieldError } from './errors.ts';

export interface Plan {
  storage: 'provision' | 'existing';
  identity: IdentityKind;
}

/** The identity kinds: the enum's values, the one list. */
const IDENTITY_KINDS: readonly IdentityKind[] = Object.values(IdentityKind);
/** The kinds with settings of their own (`identity.<kind>`): all but accessKey. */
const WITH_SETTINGS = IDENTITY_KINDS.filter(
  (k): k is Exclude<IdentityKind, 'accessKey'> => k !== 'accessKey',
);

export function planResources(args: Pick<HeapDumpEnabledAppArgs, 'storage' | 'identity'>): Plan {
  const storage = args.storage ?? {};
  if (storage.provision !== undefined && storage.existing !== undefined) {
    throw new FieldError('storage', 'give provision or existing, not both');
  }
  const existing = storage.existing;
  const s3Compatible = existing?.endpoint !== undefined;
  const identity = args.identity ?? {};
  const kind = identity.kind ?? (s3Compatible ? 'existingSecret' : 'accessKey');
  if (!IDENTITY_KINDS.includes(kind)) {
    throw new FieldError('identity.kind', `"${kind}" is not one of ${IDENTITY_KINDS.join(', ')}`);
  }
  for (const sub of WITH_SETTINGS) {
    if (identity[sub] !== undefined && sub !== kind) {
      throw new FieldError(`identity.${sub}`, `is given but identity.kind is "${kind}"`);
    }
  }
  if (kind !== 'accessKey' && identity[kind] === undefined) {
    throw new FieldError(`identity.${kind}`, `is required when identity.kind is "${kind}"`);
  }
  if (s3Compatible && kind !== 'existingSecret') {
    throw new FieldError(
      'identity.kind',
      `"${kind}" creates AWS IAM credentials, which the S3-compatible endpoint in storage.existing.endpoint ` +
        'does not know; put that store\'s keys in a Secret and use identity.kind "existingSecret"',
    );
  }
  return { storage: existing === undefined ? 'provision' : 'existing', identity: kind };
}

/** The endpoint of storage.existing, by the contract's rule. */
export function checkEndpoint(endpoint: string): string {
  return contractField('storage.existing.endpoint', () => contractCheckEndpoint(endpoint));
}

/** storage.prefix, by the contract's rule (empty or ending in `/`, never starting with one). */
export function normalizePrefix(prefix: string): string {
  return contractField('storage.prefix', () => contractNormalizePrefix(prefix));
}

/** Runs a contract check, naming the component's field when it fails. */
export function contractField<T>(field: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof InvalidValue) throw new FieldError(field, err.message);
    throw err;
  }
}
