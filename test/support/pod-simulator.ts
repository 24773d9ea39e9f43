// Runs a rendered workload's pod (Deployment, StatefulSet, DaemonSet, Job, CronJob) as local processes, the
// way the kubelet would run it, so the component's output is proven by running it rather than by reading it:
// - each emptyDir volume and volumeClaimTemplate is a directory, a configMap or secret volume one holding its
//   keys as files (its containers must mount it inside the sandbox, at one path);
// - each container runs its image's entrypoint (from an image table: a local program standing in for the
//   image) with the spec's command, args and env resolved like the kubelet (envFrom, downward API, Secret and
//   ConfigMap keys, resourceFieldRef, $(VAR) references);
// - native sidecars (init containers with restartPolicy Always) start first and stop last; an app container
//   that exits is restarted by the pod's restartPolicy (up to `maxRestarts`), with the same volume; a pod that
//   does not restart (a Job's) completes when its containers have exited, and its sidecars are then stopped;
// - emptyDir.sizeLimit is watched: going over it evicts the pod (the run fails);
// - with `memoryLimits`, each container with resources.limits.memory runs in a memory cgroup of its own with
//   that limit (memory-cgroup.ts), new at each start like the kubelet's: the kernel OOM-kills it (exit 137,
//   `OOMKilled` in its run's reasons);
// - the pod's network: `hosts` resolve to 127.0.0.1 through a private /etc/hosts (a user and mount namespace
//   per container), and AWS S3 traffic may be pointed at a local endpoint (AWS_ENDPOINT_URL_S3).
// Fields it cannot honour fail the run; fields it accepts without enforcing (resources, security contexts,
// pull policy, probes, scheduling) are listed in `notEnforced` (pod-simulator-spec.ts).

import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { MemoryCgroup } from './memory-cgroup.ts';
import { resolveEnv } from './pod-env.ts';
import {
  type ContainerSpec,
  checkPod,
  directoryBytes,
  type ImageDefinition,
  kubeletEnv,
  materializeVolumes,
  type PodSpec,
  podTemplateOf,
  quantityBytes,
  SimulationError,
  type WorkloadSpec,
} from './pod-simulator-spec.ts';

export type {
  ContainerSpec,
  ImageDefinition,
  SimulatedWorkload,
  WorkloadSpec,
} from './pod-simulator-spec.ts';
export { SimulationError } from './pod-simulator-spec.ts';

export interface SimulationOptions {
  /** The rendered workload, of any kind (Deployment, StatefulSet, DaemonSet, Job, CronJob): one of its pods runs. */
  deployment: WorkloadSpec;
  /** Secret name -> key -> value (the rendered Secrets, or the user's). */
  secrets?: Record<string, Record<string, string>>;
  /** ConfigMap name -> key -> value, for configMap volumes and envFrom. */
  configMaps?: Record<string, Record<string, string>>;
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
  /**
   * Enforce resources.limits.memory with a real memory cgroup per container (the caller checks
   * `memoryCgroupUnavailable()` first).
   */
  memoryLimits?: boolean;
}

export interface ContainerRun {
  name: string;
  restarts: number;
  exitCodes: (number | null)[];
  /** Per exit: `OOMKilled` when the kernel's OOM killer ended it (memory limits enforced), else `Error`/`Completed`. */
  reasons: string[];
  /** Per exit: when it was seen. */
  exitedAt: number[];
}

export class SimulatedPod extends EventEmitter {
  readonly name: string;
  readonly namespace: string;
  /** The pod's metadata.uid, as the API server would give it. */
  readonly uid = randomUUID();
  readonly notEnforced: string[] = [];
  /** Volume name -> host directory. */
  readonly volumes = new Map<string, string>();
  readonly runs = new Map<string, ContainerRun>();
  private readonly processes = new Map<string, ChildProcess>();
  private readonly cgroups = new Map<string, MemoryCgroup>();
  private readonly options: SimulationOptions;
  private readonly spec: PodSpec;
  private stopping = false;
  private sizeTimer: NodeJS.Timeout | undefined;
  private hostsFile: string | undefined;
  /** Set when the pod fails (eviction, a container that cannot start): the reason. */
  failure: string | undefined;
  /** Set when a pod that does not restart (a Job's) has run all its containers to the end. */
  phase: 'Succeeded' | 'Failed' | undefined;

  constructor(options: SimulationOptions) {
    super();
    this.options = options;
    this.spec = podTemplateOf(options.deployment).spec;
    this.namespace = options.deployment.metadata?.namespace ?? 'default';
    this.name = options.pod?.name ?? `${options.deployment.metadata?.name ?? 'app'}-5d8c7b9f6-sim01`;
    const checked = checkPod(options.deployment, options.images, options.sandbox, this.data());
    this.notEnforced.push(...checked.notEnforced);
    for (const [name, dir] of checked.volumes) this.volumes.set(name, dir);
    const policy = this.spec.restartPolicy ?? 'Always';
    if (!['Always', 'OnFailure', 'Never'].includes(policy))
      throw new SimulationError(`restartPolicy ${policy}`);
  }

  private data() {
    return {
      ...(this.options.configMaps ? { configMaps: this.options.configMaps } : {}),
      ...(this.options.secrets ? { secrets: this.options.secrets } : {}),
    };
  }

  /** Starts the pod: volumes, then init containers (native sidecars stay up), then containers. */
  async start(): Promise<void> {
    await materializeVolumes(this.spec, this.volumes, this.data());
    if (this.options.hosts?.length) {
      this.hostsFile = join(this.options.sandbox, '.pod-hosts');
      const lines = ['127.0.0.1 localhost', ...this.options.hosts.map((h) => `127.0.0.1 ${h}`)];
      await writeFile(this.hostsFile, `${lines.join('\n')}\n`);
    }
    for (const c of this.spec.initContainers ?? []) {
      if (c.restartPolicy === 'Always') {
        this.startContainer(c);
        // The kubelet starts the next container once a native sidecar's startup probe has passed.
        await this.startedProbe(c);
      } else {
        const code = await this.runToCompletion(c);
        if (code !== 0) throw new SimulationError(`init container ${c.name} exited ${code}`);
      }
    }
    for (const c of this.spec.containers) this.startContainer(c);
    this.watchSizeLimits();
  }

  /** Polls a native sidecar's startupProbe (httpGet on 127.0.0.1) as the kubelet does, failing the pod on timeout. */
  private async startedProbe(c: ContainerSpec): Promise<void> {
    const probe = c.startupProbe as
      | { httpGet?: { path?: string; port: number }; periodSeconds?: number; failureThreshold?: number }
      | undefined;
    if (!probe) return;
    if (!probe.httpGet || typeof probe.httpGet.port !== 'number') {
      throw new SimulationError(
        `container ${c.name}: only httpGet startup probes on a port number are simulated`,
      );
    }
    const url = `http://127.0.0.1:${probe.httpGet.port}${probe.httpGet.path ?? '/'}`;
    const period = (probe.periodSeconds ?? 10) * 1000;
    for (let attempt = 0; attempt < (probe.failureThreshold ?? 3); attempt++) {
      const ok = await fetch(url, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      if (this.failure) throw new SimulationError(this.failure);
      await new Promise((r) => setTimeout(r, period));
    }
    throw new SimulationError(`container ${c.name}: startup probe ${url} never passed`);
  }

  /**
   * Every container runs as the simulation's own user (runAsUser is not enforced), so the JVM's dumps are
   * owned by it: an uploader told to ship only the app UID's files is told that UID instead, and says so.
   */
  private ownerStandIn(env: Record<string, string>): Record<string, string> {
    const uid = String(process.getuid?.() ?? 0);
    if (env.HEAPDUMP_OWNER_UID === undefined || env.HEAPDUMP_OWNER_UID === uid) return {};
    const note = `HEAPDUMP_OWNER_UID ${env.HEAPDUMP_OWNER_UID} -> ${uid} (runAsUser is not enforced)`;
    if (!this.notEnforced.includes(note)) this.notEnforced.push(note);
    return { HEAPDUMP_OWNER_UID: uid };
  }

  private env(c: ContainerSpec): Record<string, string> {
    const image = this.options.images[c.image] as ImageDefinition;
    const all = [...(this.spec.initContainers ?? []), ...this.spec.containers];
    const resolved = resolveEnv(kubeletEnv(c, all, this.data()), {
      fields: {
        'metadata.name': this.name,
        'metadata.namespace': this.namespace,
        'metadata.uid': this.uid,
        'spec.nodeName': this.options.pod?.node ?? 'sim-node-1',
        'status.podIP': '127.0.0.1',
      },
      ...this.data(),
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
      ...this.ownerStandIn(resolved),
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

  /** The container's own memory cgroup for this start, when limits are enforced and it has one. */
  private memoryCgroup(c: ContainerSpec): MemoryCgroup | undefined {
    const limit = c.resources?.limits?.memory;
    if (!this.options.memoryLimits || limit === undefined) return undefined;
    const cgroup = MemoryCgroup.create(c.name, quantityBytes(limit));
    this.cgroups.set(c.name, cgroup);
    const note = `${c.name}.resources.limits.memory ${limit}: enforced by cgroup v${cgroup.version}`;
    if (!this.notEnforced.includes(note)) this.notEnforced.push(note);
    return cgroup;
  }

  private spawn(c: ContainerSpec): ChildProcess {
    const cgroup = this.memoryCgroup(c);
    const [cmd, ...args] = cgroup ? cgroup.wrap(this.argv(c)) : this.argv(c);
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
    const run = this.runs.get(c.name) ?? {
      name: c.name,
      restarts: 0,
      exitCodes: [],
      reasons: [],
      exitedAt: [],
    };
    this.runs.set(c.name, run);
    const child = this.spawn(c);
    this.emit('start', c.name, run.restarts);
    child.once('exit', (code, signal) => {
      // As the container runtime reports it: 128 + the signal's number (137 for SIGKILL).
      const status = code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : null);
      const cgroup = this.cgroups.get(c.name);
      const oomKilled = cgroup !== undefined && cgroup.oomKills() > 0;
      cgroup?.remove();
      run.reasons.push(oomKilled ? 'OOMKilled' : status === 0 ? 'Completed' : 'Error');
      run.exitedAt.push(Date.now());
      run.exitCodes.push(status);
      this.emit('exit', c.name, code, run.restarts);
      if (this.stopping) return;
      // Native sidecars restart whatever the pod's policy; the pod's containers by restartPolicy.
      const policy = c.restartPolicy === 'Always' ? 'Always' : (this.spec.restartPolicy ?? 'Always');
      const restart = policy === 'Always' || (policy === 'OnFailure' && status !== 0);
      if (restart && run.restarts < (this.options.maxRestarts ?? 1)) {
        run.restarts += 1;
        this.startContainer(c);
      } else this.completeIfDone();
    });
  }

  /**
   * A pod whose containers do not restart (a Job's) ends when all of them have exited: the kubelet then stops
   * its native sidecars (SIGTERM, within the grace period), and the pod's phase says how the containers ended.
   */
  private completeIfDone(): void {
    if ((this.spec.restartPolicy ?? 'Always') === 'Always' || this.stopping) return;
    const done = this.spec.containers.every((c) => this.pid(c.name) === undefined && this.runs.has(c.name));
    if (!done) return;
    const last = this.spec.containers.map((c) => this.runs.get(c.name)?.exitCodes.at(-1));
    void this.stop().then(() => {
      this.phase = last.every((code) => code === 0) ? 'Succeeded' : 'Failed';
      this.emit('completed', this.phase);
    });
  }

  /** Resolves with the pod's phase once a non-restarting pod has ended (sidecars stopped). */
  waitForCompletion(timeoutMs = 120_000): Promise<'Succeeded' | 'Failed'> {
    return this.waitFor(() => this.phase, timeoutMs, 'the pod to complete');
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
        this.off('completed', check);
        done();
      };
      const timer = setTimeout(
        () => finish(() => reject(new SimulationError(`timed out waiting for ${what}`))),
        timeoutMs,
      );
      const poll = setInterval(check, 200);
      this.on('line', check);
      this.on('exit', check);
      this.on('completed', check);
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
