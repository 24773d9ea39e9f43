// The JVM options a container's HotSpot JVM applies, read from its spec: how the kubelet expands `$(VAR)`
// and in which order the JVM reads its sources. The component (which flags to add, which to refuse, how big
// the heap is) and `heapdump doctor` (the heap against the memory limit) both read through this. Pure.
//
// The order, the last value of a flag winning (HotSpot's Arguments::parse_vm_init_args and the launcher's
// main.c; checked on JDK 17 and 25: `JAVA_TOOL_OPTIONS=-Xmx100m JDK_JAVA_OPTIONS=-Xmx400m
// _JAVA_OPTIONS=-Xmx300m java -Xmx200m -XX:+PrintFlagsFinal -version` gives 300m, 200m without
// _JAVA_OPTIONS, 400m with the two variables alone):
// 1. JAVA_TOOL_OPTIONS, parsed first ("Picked up JAVA_TOOL_OPTIONS");
// 2. the launcher's arguments, in which the `java` launcher puts JDK_JAVA_OPTIONS first (argv[0], then
//    JLI_AddArgsFromEnvVar, then argv[1..]), so it comes before the command line's own words;
// 3. _JAVA_OPTIONS, parsed after the command line ("mimics classic VM"): it wins over everything.
// `$(VAR)` (the core/v1 EnvVar.value contract, the kubelet's forked expansion.Expand): a variable's value is
// expanded against the variables defined before it in `env` (and the service variables, unknown here),
// command and args against the whole env; a reference that cannot be resolved stays as written.

import { splitOptions } from './sizes.ts';

/** The part of a core/v1 EnvVar read here; one with `valueFrom` (a Secret, ConfigMap, field) is unknown. */
export interface OptionsEnvVar {
  readonly name: string;
  readonly value?: string | undefined;
  readonly valueFrom?: unknown;
}

/** The part of a core/v1 Container read here. */
export interface OptionsContainer {
  readonly command?: readonly string[] | undefined;
  readonly args?: readonly string[] | undefined;
  readonly env?: readonly OptionsEnvVar[] | undefined;
}

/** Where a JVM option word comes from. */
export type JvmOptionSource = 'JAVA_TOOL_OPTIONS' | 'JDK_JAVA_OPTIONS' | 'command' | 'args' | '_JAVA_OPTIONS';

export interface JvmOption {
  word: string;
  source: JvmOptionSource;
  /** The index of the env entry (for the variables) or of the word in `command` / `args`. */
  index: number;
}

/**
 * `text` with `$(NAME)` replaced as the kubelet does (its forked `expansion.Expand`): `lookup`'s value when
 * it has one, else the reference left as written; `$$` is one `$` (so `$$(NAME)` stays `$(NAME)`).
 */
export function expandReferences(text: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const next = text[i + 1];
    if (text[i] !== '$' || next === undefined) {
      out += text[i];
      i += 1;
    } else if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '(' && text.includes(')', i + 2)) {
      const close = text.indexOf(')', i + 2);
      const name = text.slice(i + 2, close);
      out += lookup(name) ?? `$(${name})`;
      i = close + 1;
    } else {
      // A `$` that starts no reference, or `$(` never closed: copied, as the kubelet does.
      out += `$${next}`;
      i += 2;
    }
  }
  return out;
}

/**
 * The container's variables as the kubelet sets them, as far as the spec tells: a literal value expanded
 * against the variables defined before it (Kubernetes' dependent variables), undefined for one from
 * `valueFrom`. A later entry of the same name replaces an earlier one, as in the kubelet.
 */
export function containerEnvValues(
  env: readonly OptionsEnvVar[],
): Map<string, { value: string | undefined; index: number }> {
  const values = new Map<string, { value: string | undefined; index: number }>();
  for (const [index, e] of env.entries()) {
    const value =
      e.valueFrom !== undefined
        ? undefined
        : expandReferences(e.value ?? '', (name) => values.get(name)?.value);
    values.set(e.name, { value, index });
  }
  return values;
}

/**
 * The option words the JVM in `container` reads, in the order it applies them (see the top of this file):
 * JAVA_TOOL_OPTIONS, JDK_JAVA_OPTIONS, command, args, _JAVA_OPTIONS. `$(VAR)` is expanded as the kubelet
 * does (command and args against the whole env); a variable from a Secret or ConfigMap is not known here and
 * gives no words. Words after the main class are the application's; they are returned too (they are rarely
 * JVM flags) since the main class cannot be told from a wrapper script's arguments.
 */
export function jvmOptions(container: OptionsContainer): JvmOption[] {
  const env = containerEnvValues(container.env ?? []);
  const lookup = (name: string) => env.get(name)?.value;
  const fromEnv = (source: JvmOptionSource): JvmOption[] => {
    const v = env.get(source);
    if (v?.value === undefined) return [];
    return splitOptions(v.value).map((word) => ({ word, source, index: v.index }));
  };
  const fromSpec = (source: 'command' | 'args'): JvmOption[] =>
    (container[source] ?? []).map((w, index) => ({ word: expandReferences(w, lookup), source, index }));
  return [
    ...fromEnv('JAVA_TOOL_OPTIONS'),
    ...fromEnv('JDK_JAVA_OPTIONS'),
    ...fromSpec('command'),
    ...fromSpec('args'),
    ...fromEnv('_JAVA_OPTIONS'),
  ];
}

/** The words of jvmOptions, in the JVM's order: what readHeapFlags reads. */
export function jvmOptionWords(container: OptionsContainer): string[] {
  return jvmOptions(container).map((o) => o.word);
}
