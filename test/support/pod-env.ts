// A container's environment as the kubelet resolves it: literal values, downward-API fields, Secret and
// ConfigMap keys, and `$(VAR)` references to variables defined earlier in the list. Anything it cannot
// resolve is an error, never skipped.

export interface EnvVarSpec {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
    [other: string]: unknown;
  };
}

export interface PodFacts {
  /** Downward-API fields: `metadata.name`, `metadata.namespace`, `spec.nodeName`, ... */
  fields: Record<string, string>;
  /** Secret name -> key -> value. */
  secrets?: Record<string, Record<string, string>>;
  /** ConfigMap name -> key -> value. */
  configMaps?: Record<string, Record<string, string>>;
}

function lookup(
  store: Record<string, Record<string, string>> | undefined,
  kind: string,
  ref: { name: string; key: string },
  variable: string,
): string {
  const value = store?.[ref.name]?.[ref.key];
  if (value === undefined) throw new Error(`${variable}: ${kind} ${ref.name} has no key ${ref.key}`);
  return value;
}

export function resolveEnv(env: readonly EnvVarSpec[], facts: PodFacts): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env) {
    if (e.valueFrom !== undefined) {
      const { fieldRef, secretKeyRef, configMapKeyRef, ...other } = e.valueFrom;
      if (Object.keys(other).length > 0)
        throw new Error(`${e.name}: unsupported valueFrom ${Object.keys(other)}`);
      if (fieldRef) {
        const v = facts.fields[fieldRef.fieldPath];
        if (v === undefined) throw new Error(`${e.name}: no pod fact for fieldRef ${fieldRef.fieldPath}`);
        out[e.name] = v;
      } else if (secretKeyRef) {
        out[e.name] = lookup(facts.secrets, 'Secret', secretKeyRef, e.name);
      } else if (configMapKeyRef) {
        out[e.name] = lookup(facts.configMaps, 'ConfigMap', configMapKeyRef, e.name);
      } else {
        throw new Error(`${e.name}: empty valueFrom`);
      }
      continue;
    }
    // The kubelet expands $(VAR) for variables defined before this one and keeps unknown references as is;
    // $$ escapes a dollar.
    out[e.name] = (e.value ?? '').replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match, name?: string) =>
      match === '$$' ? '$' : name !== undefined && name in out ? (out[name] as string) : match,
    );
  }
  return out;
}
