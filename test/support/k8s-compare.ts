// What a program rendered next to what the API server holds: every field the program sent must be in the
// live object with the same value; the server may add fields (defaults, status, metadata it owns).
import { SECRET_SIGNATURE, SECRET_SIGNATURE_VALUE } from './pulumi-mocks.ts';

// A Kubernetes quantity (512Mi, 250m, 1.5, 2G) in its base unit, or undefined for another string.
const QUANTITY = /^(\d+(?:\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;
const FACTOR: Record<string, number> = {
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};
function quantity(value: string): number | undefined {
  const m = QUANTITY.exec(value);
  return m ? Number(m[1]) * (m[2] ? FACTOR[m[2]]! : 1) : undefined;
}

/** Paths (like `spec.template.spec.containers[1].env[0].value`) where `live` lacks or changes `rendered`. */
export function differences(rendered: unknown, live: unknown, path = ''): string[] {
  if (rendered === undefined || rendered === null) return [];
  if (Array.isArray(rendered)) {
    if (!Array.isArray(live) || live.length !== rendered.length) {
      return [`${path}: rendered ${JSON.stringify(rendered)}, live ${JSON.stringify(live)}`];
    }
    return rendered.flatMap((item, i) => differences(item, live[i], `${path}[${i}]`));
  }
  if (typeof rendered === 'object') {
    if (typeof live !== 'object' || live === null)
      return [`${path}: rendered an object, live ${JSON.stringify(live)}`];
    return Object.entries(rendered).flatMap(([key, value]) =>
      differences(value, (live as Record<string, unknown>)[key], path ? `${path}.${key}` : key),
    );
  }
  if (rendered === live) return [];
  // A reference to an auto-named object (a RoleBinding's roleRef.name): Pulumi adds a random suffix, another
  // in each run, so the mock render's and the real run's differ in it alone.
  if (path.endsWith('name') && typeof rendered === 'string' && typeof live === 'string') {
    const base = (name: string) => /^(.+)-[0-9a-f]{8}$/.exec(name)?.[1];
    if (base(rendered) !== undefined && base(rendered) === base(live)) return [];
  }
  // The server writes quantities canonically (0.5 -> 500m) and may answer a numeric string as a number.
  if (typeof rendered === 'string' && typeof live === 'string' && quantity(rendered) !== undefined) {
    if (quantity(rendered) === quantity(live)) return [];
  }
  return [`${path}: rendered ${JSON.stringify(rendered)}, live ${JSON.stringify(live)}`];
}

/** A rendered value with Pulumi's secret wrappers (`{<signature>: ..., value}`) replaced by their values. */
function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  if (record[SECRET_SIGNATURE] === SECRET_SIGNATURE_VALUE) return unwrapSecrets(record.value);
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrapSecrets(v)]));
}

/**
 * The object as sent, comparable to what the server holds: secrets unwrapped, and a Secret's stringData is
 * stored base64 in data.
 */
export function asStored(inputs: Record<string, unknown>): Record<string, unknown> {
  const { stringData, ...rest } = unwrapSecrets(inputs) as { stringData?: Record<string, string> };
  const out: Record<string, unknown> = { ...rest };
  if (stringData) {
    out.data = {
      ...(rest as { data?: Record<string, string> }).data,
      ...Object.fromEntries(
        Object.entries(stringData).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      ),
    };
  }
  return out;
}
