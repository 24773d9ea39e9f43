// What heap dumps add to a pod, taken out again: what is left must equal the user's pod exactly. The
// tests' measure of "every field passes through unchanged, only the heap-dump additions differ".
import assert from 'node:assert/strict';
import type { PodSpec, PodTemplateSpec } from '../src/index.ts';

const OURS = {
  volumes: ['heapdumps', 'heapdumps-aws-token', 'heapdumps-kube-api'],
  container: 'heapdump-uploader',
  mount: 'heapdumps',
};

interface Env {
  name: string;
  value?: string;
  valueFrom?: unknown;
}

/** The default heap size the component adds after its flags when the container gives none. */
const DEFAULT_HEAP = / -XX:MaxRAMPercentage=\d+(\.\d+)?$/;

function withoutOurEnv(env: Env[], flags: string): Env[] {
  const userMoved = env.find((e) => e.name === 'HEAPDUMP_APP_JAVA_TOOL_OPTIONS');
  const out: Env[] = [];
  for (const original of env) {
    const e =
      original.name === 'JAVA_TOOL_OPTIONS'
        ? { ...original, value: original.value?.replace(DEFAULT_HEAP, '') }
        : original;
    if (e.name === 'HEAPDUMP_APP_JAVA_TOOL_OPTIONS') out.push({ ...e, name: 'JAVA_TOOL_OPTIONS' });
    else if (e.name !== 'JAVA_TOOL_OPTIONS') out.push(e);
    else if (userMoved) assert.equal(e.value, `$(HEAPDUMP_APP_JAVA_TOOL_OPTIONS) ${flags}`);
    else if (e.value === flags) continue;
    else {
      assert.ok(e.value?.endsWith(` ${flags}`), `JAVA_TOOL_OPTIONS "${e.value}" ends with our flags`);
      out.push({ ...e, value: (e.value ?? '').slice(0, -flags.length - 1) });
    }
  }
  return out;
}

/** The pod spec with our volume, mounts, env, uploader and grace period taken out; asserts they are there. */
export function removeAdditions(out: PodSpec, input: PodSpec, targets: string[], flags: string): PodSpec {
  const spec = structuredClone(out) as PodSpec & Record<string, unknown>;
  const uploader = [...(spec.initContainers ?? []), ...spec.containers].filter(
    (c) => c.name === OURS.container,
  );
  assert.equal(uploader.length, 1, 'one uploader');
  spec.containers = spec.containers
    .filter((c) => c.name !== OURS.container)
    .map((c) => {
      if (!targets.includes(c.name)) return c;
      const mounts = (c.volumeMounts ?? []).filter((m) => m.name !== OURS.mount);
      assert.equal(mounts.length, (c.volumeMounts ?? []).length - 1, `${c.name} mounts the dump volume`);
      const original = input.containers.find((i) => i.name === c.name);
      const next = { ...c, volumeMounts: mounts, env: withoutOurEnv(c.env as Env[], flags) } as typeof c;
      if (original?.volumeMounts === undefined) delete next.volumeMounts;
      if (original?.env === undefined && next.env?.length === 0) delete next.env;
      return next;
    });
  const inits = (spec.initContainers ?? []).filter((c) => c.name !== OURS.container);
  if (input.initContainers === undefined && inits.length === 0) delete spec.initContainers;
  else spec.initContainers = inits;
  const volumes = (spec.volumes ?? []).filter((v) => !OURS.volumes.includes(v.name));
  assert.ok(
    (spec.volumes ?? []).some((v) => v.name === 'heapdumps'),
    'the dump volume',
  );
  if (input.volumes === undefined && volumes.length === 0) delete spec.volumes;
  else spec.volumes = volumes;
  assert.ok((spec.terminationGracePeriodSeconds ?? 0) >= (input.terminationGracePeriodSeconds ?? 0));
  if (input.terminationGracePeriodSeconds === undefined) delete spec.terminationGracePeriodSeconds;
  else spec.terminationGracePeriodSeconds = input.terminationGracePeriodSeconds;
  return spec;
}

/** The same for a pod template: our identity annotation out too. */
export function removeTemplateAdditions(
  out: PodTemplateSpec,
  input: PodTemplateSpec,
  targets: string[],
  flags: string,
): PodTemplateSpec {
  const template = structuredClone(out);
  const annotations = { ...(template.metadata?.annotations ?? {}) };
  delete annotations['eks.amazonaws.com/skip-containers'];
  if (template.metadata) {
    if (input.metadata?.annotations === undefined && Object.keys(annotations).length === 0) {
      delete template.metadata.annotations;
    } else template.metadata.annotations = annotations;
  }
  assert.ok(template.spec && input.spec);
  template.spec = removeAdditions(template.spec, input.spec, targets, flags);
  return template;
}
