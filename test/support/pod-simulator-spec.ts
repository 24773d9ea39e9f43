// The pod simulator's reading of a workload: which pod template it runs, which fields it honours, accepts
// without enforcing, or refuses; its volumes as directories; a container's env as the kubelet builds it.
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import type { EnvVarSpec } from './pod-env.ts';

/** A local program standing in for a container image. */
export interface ImageDefinition {
  /** The image's ENTRYPOINT. */
  entrypoint: string[];
  /** The image's CMD (used when the container has no args). */
  cmd?: string[];
  /** The image's ENV (the container's env overrides it). */
  env?: Record<string, string>;
}

const API_TOKEN_SOURCES = new Set(['serviceAccountToken', 'configMap', 'downwardAPI']);

type EnvFrom = { configMapRef?: { name: string }; secretRef?: { name: string }; prefix?: string };
type EnvSource = EnvVarSpec & {
  valueFrom?: EnvVarSpec['valueFrom'] & { resourceFieldRef?: { containerName?: string; resource: string } };
};

export interface ContainerSpec {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvSource[];
  envFrom?: EnvFrom[];
  volumeMounts?: { name: string; mountPath: string }[];
  restartPolicy?: string;
  resources?: { limits?: Record<string, string> };
  [field: string]: unknown;
}

export interface VolumeSpec {
  name: string;
  emptyDir?: { sizeLimit?: string; medium?: string };
  configMap?: { name: string; items?: unknown };
  projected?: { sources?: Record<string, unknown>[] };
  secret?: { secretName: string; items?: unknown };
  [field: string]: unknown;
}

export interface PodSpec {
  containers: ContainerSpec[];
  initContainers?: ContainerSpec[];
  volumes?: VolumeSpec[];
  terminationGracePeriodSeconds?: number;
  restartPolicy?: string;
  [field: string]: unknown;
}

interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec: PodSpec;
}

/** A Deployment, StatefulSet, DaemonSet, Job or CronJob as rendered: the simulator runs one of its pods. */
export interface WorkloadSpec {
  metadata?: { name?: string; namespace?: string };
  spec: {
    replicas?: number;
    template?: PodTemplate;
    jobTemplate?: { spec: { template: PodTemplate } };
    volumeClaimTemplates?: { metadata: { name: string } }[];
    [field: string]: unknown;
  };
}

/** A Deployment's spec (the shape render-app returns). */
export type SimulatedWorkload = WorkloadSpec & { spec: { template: PodTemplate } };

export class SimulationError extends Error {}

/** The pod template the workload runs (a CronJob's through its Job template). */
export function podTemplateOf(workload: WorkloadSpec): PodTemplate {
  const template = workload.spec.template ?? workload.spec.jobTemplate?.spec.template;
  if (!template) throw new SimulationError('the workload has no pod template');
  return template;
}

/** Container fields run as written. Anything else not in NOT_ENFORCED fails the run. */
const CONTAINER_FIELDS = new Set([
  'name',
  'image',
  'command',
  'args',
  'env',
  'envFrom',
  'volumeMounts',
  'restartPolicy',
]);
/**
 * Accepted but not enforced here (no cgroups, no UID switching, no registry, no network probes but a native
 * sidecar's startup probe), and said so.
 */
const NOT_ENFORCED = new Set([
  'imagePullPolicy',
  'resources',
  'securityContext',
  'ports',
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'lifecycle',
]);
const POD_FIELDS = new Set([
  'containers',
  'initContainers',
  'volumes',
  'terminationGracePeriodSeconds',
  'restartPolicy',
]);
/** Scheduling, DNS and identity fields: one simulated node, the host's network. */
const POD_NOT_ENFORCED = new Set([
  'serviceAccountName',
  // No simulated pod gets an API token, so false (all the analysis Jobs ask) holds as written.
  'automountServiceAccountToken',
  'securityContext',
  'imagePullSecrets',
  'affinity',
  'nodeSelector',
  'tolerations',
  'topologySpreadConstraints',
  'priorityClassName',
  'dnsConfig',
  'hostAliases',
]);

export interface PodData {
  configMaps?: Record<string, Record<string, string>>;
  secrets?: Record<string, Record<string, string>>;
}

/**
 * Refuses what it cannot run, before anything starts; returns the fields it accepts without enforcing and
 * where each volume lives (volume name -> mount path, one path per volume).
 */
export function checkPod(
  workload: WorkloadSpec,
  images: Record<string, ImageDefinition>,
  sandbox: string,
  data: PodData,
): { notEnforced: string[]; volumes: Map<string, string> } {
  const spec = podTemplateOf(workload).spec;
  const notEnforced: string[] = [];
  const volumes = new Map<string, string>();
  const replicas = workload.spec.replicas ?? 1;
  if (replicas !== 1) notEnforced.push(`replicas=${replicas} (one pod is simulated)`);
  for (const [field, value] of Object.entries(spec)) {
    if (value === undefined || POD_FIELDS.has(field)) continue;
    if (!POD_NOT_ENFORCED.has(field)) throw new SimulationError(`pod field ${field} cannot be simulated`);
    notEnforced.push(`pod.${field}`);
  }
  const claims = new Set((workload.spec.volumeClaimTemplates ?? []).map((c) => c.metadata.name));
  // A projected ServiceAccount token (the uploader's, for Events) needs an API server, which the simulation
  // has not: the volume is accepted and not made, and said so.
  const apiTokens = new Set<string>();
  for (const v of spec.volumes ?? []) {
    const { name, emptyDir, configMap, secret, projected, ...other } = v;
    if (projected !== undefined && Object.keys(other).length === 0 && !emptyDir && !configMap && !secret) {
      const kinds = (projected.sources ?? []).flatMap((s) => Object.keys(s));
      if (kinds.includes('serviceAccountToken') && kinds.every((k) => API_TOKEN_SOURCES.has(k))) {
        apiTokens.add(name);
        notEnforced.push(`volume ${name} (projected API token: no API server here)`);
        continue;
      }
    }
    const sources = [emptyDir, configMap, secret].filter((s) => s !== undefined);
    if (sources.length !== 1 || Object.keys(other).length > 0) {
      throw new SimulationError(
        `volume ${name}: only emptyDir, configMap and secret volumes can be simulated (${Object.keys(v)})`,
      );
    }
    if (emptyDir?.medium !== undefined && emptyDir.medium !== '') {
      throw new SimulationError(`volume ${name}: emptyDir medium ${emptyDir.medium} cannot be simulated`);
    }
    if (configMap && !data.configMaps?.[configMap.name])
      throw new SimulationError(`volume ${name}: ConfigMap ${configMap.name} is not given`);
    if (secret && !data.secrets?.[secret.secretName])
      throw new SimulationError(`volume ${name}: Secret ${secret.secretName} is not given`);
    if (configMap?.items !== undefined || secret?.items !== undefined)
      throw new SimulationError(`volume ${name}: items cannot be simulated`);
  }
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    if (!images[c.image])
      throw new SimulationError(`container ${c.name}: no local program for image ${c.image}`);
    for (const [field, value] of Object.entries(c)) {
      if (value === undefined || CONTAINER_FIELDS.has(field)) continue;
      if (!NOT_ENFORCED.has(field))
        throw new SimulationError(`container ${c.name}: field ${field} cannot be simulated`);
      notEnforced.push(`${c.name}.${field}`);
    }
    for (const m of c.volumeMounts ?? []) {
      if (apiTokens.has(m.name)) continue;
      if (!claims.has(m.name) && !spec.volumes?.some((v) => v.name === m.name)) {
        throw new SimulationError(`container ${c.name}: mounts unknown volume ${m.name}`);
      }
      const rel = relative(sandbox, m.mountPath);
      if (!isAbsolute(m.mountPath) || rel.startsWith('..') || rel === '') {
        throw new SimulationError(
          `container ${c.name}: mountPath ${m.mountPath} is outside the sandbox ${sandbox}; ` +
            'render the pod with its mount paths inside it',
        );
      }
      const known = volumes.get(m.name);
      if (known !== undefined && known !== m.mountPath.replace(/\/$/, '')) {
        throw new SimulationError(`volume ${m.name} is mounted at two paths (${known}, ${m.mountPath})`);
      }
      volumes.set(m.name, m.mountPath.replace(/\/$/, ''));
    }
  }
  return { notEnforced, volumes };
}

/** Creates each volume's directory; a ConfigMap's or Secret's keys become its files. */
export async function materializeVolumes(
  spec: PodSpec,
  volumes: Map<string, string>,
  data: PodData,
): Promise<void> {
  for (const [name, dir] of volumes) {
    await mkdir(dir, { recursive: true, mode: 0o777 });
    const v = spec.volumes?.find((x) => x.name === name);
    const files = v?.configMap
      ? data.configMaps?.[v.configMap.name]
      : v?.secret
        ? data.secrets?.[v.secret.secretName]
        : undefined;
    for (const [key, value] of Object.entries(files ?? {})) await writeFile(join(dir, key), value);
  }
}

const QUANTITY: Record<string, number> = { '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

export function quantityBytes(text: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|Ti)?$/.exec(text);
  if (!m) throw new SimulationError(`quantity "${text}" is not a size this simulator reads`);
  return Number(m[1]) * (QUANTITY[m[2] ?? ''] ?? 1);
}

export async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await directoryBytes(path);
    else if (entry.isFile()) total += (await stat(path).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

/**
 * The container's env list as the kubelet builds it, in the form resolveEnv reads: envFrom's keys first
 * (prefixed), then env, with resourceFieldRef values (`limits.memory`, in bytes) from the container itself.
 */
export function kubeletEnv(c: ContainerSpec, all: ContainerSpec[], data: PodData): EnvVarSpec[] {
  const out: EnvVarSpec[] = [];
  for (const from of c.envFrom ?? []) {
    const source = from.configMapRef
      ? data.configMaps?.[from.configMapRef.name]
      : from.secretRef
        ? data.secrets?.[from.secretRef.name]
        : undefined;
    if (!source)
      throw new SimulationError(`container ${c.name}: envFrom ${JSON.stringify(from)} is not given`);
    for (const [key, value] of Object.entries(source))
      out.push({ name: `${from.prefix ?? ''}${key}`, value });
  }
  for (const e of c.env ?? []) {
    const ref = e.valueFrom?.resourceFieldRef;
    if (!ref) {
      out.push(e);
      continue;
    }
    const target = all.find((x) => x.name === (ref.containerName ?? c.name));
    const [kind, resource] = ref.resource.split('.');
    const quantity = target?.resources?.[kind as 'limits']?.[resource ?? ''];
    if (quantity === undefined)
      throw new SimulationError(`container ${c.name}: ${e.name} reads ${ref.resource}, not set`);
    out.push({ name: e.name, value: String(resource === 'memory' ? quantityBytes(quantity) : quantity) });
  }
  return out;
}
