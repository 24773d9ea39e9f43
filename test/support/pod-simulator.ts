// Runs a rendered Deployment's pod as local processes, the way the kubelet would run it, so the component's
// output is proven by running it rather than by reading it:
// - each emptyDir volume is a directory (its containers must mount it inside the sandbox, at one path);
// - each container runs its image's entrypoint (from an image table: a local program standing in for the
//   image) with the spec's command, args and env resolved like the kubelet (downward API, Secret keys,
//   $(VAR) references);
// - native sidecars (init containers with restartPolicy Always) start first and stop last; an app container
//   that exits is restarted (up to `maxRestarts`), with the same volume;
// - emptyDir.sizeLimit is watched: going over it evicts the pod (the run fails);
// - the pod's network: `hosts` resolve to 127.0.0.1 through a private /etc/hosts (a user and mount namespace
//   per container), and AWS S3 traffic may be pointed at a local endpoint (AWS_ENDPOINT_URL_S3).
// Fields it cannot honour fail the run; fields it accepts without enforcing (resources, security contexts,
// pull policy) are listed in `notEnforced`.
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { type EnvVarSpec, resolveEnv } from './pod-env.ts';

/** A local program standing in for a container image. */
export interface ImageDefinition {
  /** The image's ENTRYPOINT. */
  entrypoint: string[];
  /** The image's CMD (used when the container has no args). */
  cmd?: string[];
  /** The image's ENV (the container's env overrides it). */
  env?: Record<string, string>;
}

export interface ContainerSpec {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVarSpec[];
  volumeMounts?: { name: string; mountPath: string }[];
  restartPolicy?: string;
  [field: string]: unknown;
}

interface PodSpec {
  containers: ContainerSpec[];
  initContainers?: ContainerSpec[];
  volumes?: { name: string; emptyDir?: { sizeLimit?: string; medium?: string }; [field: string]: unknown }[];
  terminationGracePeriodSeconds?: number;
  [field: string]: unknown;
}

export interface DeploymentSpec {
  metadata?: { name?: string; namespace?: string };
  spec: { replicas?: number; template: { metadata?: { labels?: Record<string, string> }; spec: PodSpec } };
}

export interface SimulationOptions {
  deployment: DeploymentSpec;
  /** Secret name -> key -> value (the rendered Secrets, or the user's). */
  secrets?: Record<string, Record<string, string>>;
  images: Record<string, ImageDefinition>;
  /** Directory that holds the pod's volumes; mount paths must be inside it. */
  sandbox: string;
  /** Names that resolve to 127.0.0.1 inside the pod. */
  hosts?: string[];
  /** Where the pod's AWS S3 traffic goes (sets AWS_ENDPOINT_URL_S3, the SDKs' standard override). */
  awsS3Endpoint?: string;
  /** Restarts allowed per container, default 1 (the kubelet restarts forever; a simulation is bounded). */
  maxRestarts?: number;
  /** Pod facts for the downward API. */
  pod?: { name?: string; node?: string };
  /** Every output line of every container. */
  onLine?: (container: string, line: string) => void;
}

export interface ContainerRun {
  name: string;
  restarts: number;
  exitCodes: (number | null)[];
}

/** Container fields run as written. Anything else not in NOT_ENFORCED fails the run. */
const CONTAINER_FIELDS = new Set([
  'name',
  'image',
  'command',
  'args',
  'env',
  'volumeMounts',
  'restartPolicy',
]);
/** Accepted but not enforced here (no cgroups, no UID switching, no registry), and said so. */
const NOT_ENFORCED = new Set([
  'imagePullPolicy',
  'resources',
  'securityContext',
  'ports',
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
]);
const POD_FIELDS = new Set(['containers', 'initContainers', 'volumes', 'terminationGracePeriodSeconds']);
const POD_NOT_ENFORCED = new Set(['serviceAccountName', 'securityContext', 'imagePullSecrets']);

export class SimulationError extends Error {}

function quantityBytes(text: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|Ti)?$/.exec(text);
  if (!m) throw new SimulationError(`emptyDir sizeLimit "${text}" is not a size this simulator reads`);
  return Number(m[1]) * 2 ** ({ Ki: 10, Mi: 20, Gi: 30, Ti: 40 }[m[2] ?? ''] ?? 0);
}

async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await directoryBytes(path);
    else if (entry.isFile()) total += (await stat(path).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

export class SimulatedPod extends EventEmitter {
  readonly name: string;
  readonly namespace: string;
  readonly notEnforced: string[] = [];
  /** Volume name -> host directory. */
  readonly volumes = new Map<string, string>();
  readonly runs = new Map<string, ContainerRun>();
  private readonly processes = new Map<string, ChildProcess>();
  private readonly options: SimulationOptions;
  private readonly spec: PodSpec;
  private stopping = false;
  private sizeTimer: NodeJS.Timeout | undefined;
  private hostsFile: string | undefined;
  /** Set when the pod fails (eviction, a container that cannot start): the reason. */
  failure: string | undefined;

  constructor(options: SimulationOptions) {
    super();
    this.options = options;
    this.spec = options.deployment.spec.template.spec;
    this.namespace = options.deployment.metadata?.namespace ?? 'default';
    this.name = options.pod?.name ?? `${options.deployment.metadata?.name ?? 'app'}-5d8c7b9f6-sim01`;
    this.check();
  }

  /** Refuses what it cannot run, before anything starts. */
  private check(): void {
    const replicas = this.options.deployment.spec.replicas ?? 1;
    if (replicas !== 1) this.notEnforced.push(`replicas=${replicas} (one pod is simulated)`);
    for (const [field, value] of Object.entries(this.spec)) {
      if (value === undefined || POD_FIELDS.has(field)) continue;
      if (!POD_NOT_ENFORCED.has(field)) throw new SimulationError(`pod field ${field} cannot be simulated`);
      this.notEnforced.push(`pod.${field}`);
    }
    for (const v of this.spec.volumes ?? []) {
      const { name, emptyDir, ...other } = v;
      if (!emptyDir || Object.keys(other).length > 0) {
        throw new SimulationError(
          `volume ${name}: only emptyDir volumes can be simulated (${Object.keys(v)})`,
        );
      }
      if (emptyDir.medium !== undefined && emptyDir.medium !== '') {
        throw new SimulationError(`volume ${name}: emptyDir medium ${emptyDir.medium} cannot be simulated`);
      }
    }
    for (const c of [...(this.spec.initContainers ?? []), ...this.spec.containers]) {
      if (!this.options.images[c.image])
        throw new SimulationError(`container ${c.name}: no local program for image ${c.image}`);
      for (const [field, value] of Object.entries(c)) {
        if (value === undefined || CONTAINER_FIELDS.has(field)) continue;
        if (!NOT_ENFORCED.has(field))
          throw new SimulationError(`container ${c.name}: field ${field} cannot be simulated`);
        this.notEnforced.push(`${c.name}.${field}`);
      }
      for (const m of c.volumeMounts ?? []) {
        const volume = this.spec.volumes?.find((v) => v.name === m.name);
        if (!volume) throw new SimulationError(`container ${c.name}: mounts unknown volume ${m.name}`);
        const rel = relative(this.options.sandbox, m.mountPath);
        if (!isAbsolute(m.mountPath) || rel.startsWith('..') || rel === '') {
          throw new SimulationError(
            `container ${c.name}: mountPath ${m.mountPath} is outside the sandbox ${this.options.sandbox}; ` +
              'render the pod with its mount paths inside it',
          );
        }
        const known = this.volumes.get(m.name);
        if (known !== undefined && known !== m.mountPath) {
          throw new SimulationError(`volume ${m.name} is mounted at two paths (${known}, ${m.mountPath})`);
        }
        this.volumes.set(m.name, m.mountPath);
      }
    }
  }

  /** Starts the pod: volumes, then init containers (native sidecars stay up), then containers. */
  async start(): Promise<void> {
    for (const dir of this.volumes.values()) await mkdir(dir, { recursive: true, mode: 0o777 });
    if (this.options.hosts?.length) {
      this.hostsFile = join(this.options.sandbox, '.pod-hosts');
      const lines = ['127.0.0.1 localhost', ...this.options.hosts.map((h) => `127.0.0.1 ${h}`)];
      await writeFile(this.hostsFile, `${lines.join('\n')}\n`);
    }
    for (const c of this.spec.initContainers ?? []) {
      if (c.restartPolicy === 'Always') this.startContainer(c);
      else {
        const code = await this.runToCompletion(c);
        if (code !== 0) throw new SimulationError(`init container ${c.name} exited ${code}`);
      }
    }
    for (const c of this.spec.containers) this.startContainer(c);
    this.watchSizeLimits();
  }

  private env(c: ContainerSpec): Record<string, string> {
    const image = this.options.images[c.image] as ImageDefinition;
    const resolved = resolveEnv(c.env ?? [], {
      fields: {
        'metadata.name': this.name,
        'metadata.namespace': this.namespace,
        'spec.nodeName': this.options.pod?.node ?? 'sim-node-1',
      },
      ...(this.options.secrets ? { secrets: this.options.secrets } : {}),
    });
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOSTNAME: this.name,
      // No host credentials or config leak into the pod.
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      AWS_EC2_METADATA_DISABLED: 'true',
      ...(this.options.awsS3Endpoint ? { AWS_ENDPOINT_URL_S3: this.options.awsS3Endpoint } : {}),
      ...(image.env ?? {}),
      ...resolved,
    };
  }

  private argv(c: ContainerSpec): string[] {
    const image = this.options.images[c.image] as ImageDefinition;
    // Kubernetes: command replaces ENTRYPOINT (and drops CMD); args replace CMD.
    const argv = [...(c.command ?? image.entrypoint), ...(c.args ?? (c.command ? [] : (image.cmd ?? [])))];
    if (!this.hostsFile) return argv;
    // A private /etc/hosts: its own user and mount namespace, then exec the container's program.
    return [
      'unshare',
      '--user',
      '--map-root-user',
      '--mount',
      'sh',
      '-c',
      'mount --bind "$0" /etc/hosts && exec "$@"',
      this.hostsFile,
      ...argv,
    ];
  }

  private spawn(c: ContainerSpec): ChildProcess {
    const [cmd, ...args] = this.argv(c);
    if (!cmd) throw new SimulationError(`container ${c.name}: nothing to run`);
    // stdin stays open, as for a container without a TTY whose runtime keeps the pipe (apps may wait on it).
    const child = spawn(cmd, args, { env: this.env(c), stdio: ['pipe', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        this.options.onLine?.(c.name, line);
        this.emit('line', c.name, line);
      });
    }
    child.on('error', (e) => this.fail(`container ${c.name} could not start: ${e.message}`));
    this.processes.set(c.name, child);
    return child;
  }

  private async runToCompletion(c: ContainerSpec): Promise<number | null> {
    const child = this.spawn(c);
    return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  private startContainer(c: ContainerSpec): void {
    const run = this.runs.get(c.name) ?? { name: c.name, restarts: 0, exitCodes: [] };
    this.runs.set(c.name, run);
    const child = this.spawn(c);
    this.emit('start', c.name, run.restarts);
    child.once('exit', (code, signal) => {
      run.exitCodes.push(code ?? (signal ? 128 : null));
      this.emit('exit', c.name, code, run.restarts);
      if (this.stopping) return;
      if (run.restarts < (this.options.maxRestarts ?? 1)) {
        run.restarts += 1;
        this.startContainer(c);
      }
    });
  }

  private watchSizeLimits(): void {
    const limits = (this.spec.volumes ?? [])
      .filter((v) => v.emptyDir?.sizeLimit)
      .map((v) => ({
        name: v.name,
        dir: this.volumes.get(v.name),
        bytes: quantityBytes(v.emptyDir?.sizeLimit ?? ''),
      }));
    this.sizeTimer = setInterval(async () => {
      for (const l of limits) {
        if (!l.dir) continue;
        const used = await directoryBytes(l.dir).catch(() => 0);
        if (used > l.bytes)
          this.fail(`evicted: volume ${l.name} uses ${used} bytes, over its sizeLimit ${l.bytes}`);
      }
    }, 250);
  }

  private fail(reason: string): void {
    if (this.failure) return;
    this.failure = reason;
    this.emit('failed', reason);
    void this.stop();
  }

  /** The host pid of a running container's process (without namespaces, the program's own pid). */
  pid(container: string): number | undefined {
    const child = this.processes.get(container);
    return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
  }

  /** Resolves when `container` has exited `times` times in total. */
  waitForExits(container: string, times: number, timeoutMs = 120_000): Promise<(number | null)[]> {
    return this.waitFor(
      () => {
        const run = this.runs.get(container);
        return run && run.exitCodes.length >= times ? run.exitCodes : undefined;
      },
      timeoutMs,
      `${times} exit(s) of ${container}`,
    );
  }

  /** Resolves with the first value `probe` returns (re-checked on every container line and exit). */
  waitFor<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.failure) return finish(() => reject(new SimulationError(this.failure)));
        const value = probe();
        if (value !== undefined) finish(() => resolve(value));
      };
      const finish = (done: () => void) => {
        clearTimeout(timer);
        clearInterval(poll);
        this.off('line', check);
        this.off('exit', check);
        done();
      };
      const timer = setTimeout(
        () => finish(() => reject(new SimulationError(`timed out waiting for ${what}`))),
        timeoutMs,
      );
      const poll = setInterval(check, 200);
      this.on('line', check);
      this.on('exit', check);
      check();
    });
  }

  /**
   * Stops like the kubelet: SIGTERM to the containers, then to the native sidecars once the containers are
   * gone, SIGKILL to whatever is left when terminationGracePeriodSeconds runs out.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.sizeTimer);
    const deadline = Date.now() + (this.spec.terminationGracePeriodSeconds ?? 30) * 1000;
    const phase = async (names: string[]) => {
      const waits = names.map((name) => {
        const child = this.processes.get(name);
        if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
        child.kill('SIGTERM');
        return new Promise<void>((resolve) => {
          const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(0, deadline - Date.now()));
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      });
      await Promise.all(waits);
    };
    await phase(this.spec.containers.map((c) => c.name));
    await phase((this.spec.initContainers ?? []).map((c) => c.name));
  }
}
