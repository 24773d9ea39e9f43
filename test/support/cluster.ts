// A real Kubernetes API server (scripts/cluster: etcd, kube-apiserver, kube-controller-manager on 127.0.0.1)
// and the real Pulumi engine, both built from Go modules by scripts/engines. A suite uses the cluster
// HEAPDUMP_TEST_CLUSTER names (the JSON line `scripts/cluster start` printed: .ci/run starts one for the run),
// else starts its own when the engines are built. Without built engines the suite is one skipped test naming
// the build command, except under CI=true, where it fails: CI must not pass without it.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { run } from './processes.ts';

const SCRIPTS = join(import.meta.dirname, '../../scripts');

/** The variable naming a running cluster's JSON file (`scripts/cluster start DIR > FILE`). */
export const CLUSTER_ENV = 'HEAPDUMP_TEST_CLUSTER';
const BUILD = 'scripts/engines build';

/** Each engine's bin directory (scripts/engines paths). */
export interface Engines {
  pulumi: string;
  'kubernetes-provider': string;
  etcd: string;
  kubernetes: string;
}

export interface Cluster {
  /** https://127.0.0.1:PORT */
  server: string;
  /** An admin (system:masters) kubeconfig. */
  kubeconfig: string;
  /** The cluster's CA, which signed the API server's certificate. */
  caFile: string;
  /** The kubectl built with the API server. */
  kubectl: string;
  /** kube-apiserver --version, like v1.34.4. */
  version: string;
  pids: number[];
  dir: string;
  /** With a node (`scripts/cluster start --with-node`): its name, its address (the API server's too), its pods' range. */
  nodeName?: string;
  nodeIp?: string;
  podCidr?: string;
  /** Stops the processes; idempotent. */
  stop(): Promise<void>;
}

/** The built engines, or undefined with what `scripts/engines paths` said is missing. */
export function builtEngines(): { engines?: Engines; missing?: string } {
  const paths = spawnSync(join(SCRIPTS, 'engines'), ['paths'], { encoding: 'utf8' });
  if (paths.status === 0) return { engines: JSON.parse(paths.stdout) as Engines };
  return {
    missing:
      paths.stderr.trim().split('\n').join('; ') || `scripts/engines paths exited with ${paths.status}`,
  };
}

const inCi = () => !['', '0', 'false', undefined].includes(process.env.CI?.toLowerCase());

/**
 * `describe(name, body)` for tests that need the engines and a cluster; where they cannot run (off CI, engines
 * not built), one skipped test of that name saying how to build them.
 */
export function describeWithCluster(name: string, body: () => void): void {
  const { missing } = builtEngines();
  if (missing && !inCi()) {
    it(name, {
      skip: `the real engines are not built (${missing}): run \`${BUILD}\` (.ci/run does)`,
    }, () => {});
  } else describe(name, body);
}

/** The engines, or an error saying how to build them (CI, or a suite that was not skipped). */
export function requireEngines(): Engines {
  const { engines, missing } = builtEngines();
  if (!engines) {
    throw new Error(
      `the real-engine suites run in CI (CI=${process.env.CI}) but the engines are not built (${missing}): run \`${BUILD}\`, as .ci/run does`,
    );
  }
  return engines;
}

/** The variable that turns the node suites on (test/kubelet): they need root, containerd, runc and CNI plugins. */
export const NODE_ENV = 'HEAPDUMP_TEST_NODE';

/**
 * `describe(name, body)` for tests that need a node (`scripts/cluster start --with-node`): run only when
 * HEAPDUMP_TEST_NODE=1 (.ci/run sets it for these suites after `npm test`), else one skipped test saying so.
 */
export function describeWithNode(name: string, body: () => void): void {
  if (process.env[NODE_ENV] !== '1') {
    it(name, {
      skip: `needs a node (root, containerd, runc, containernetworking-plugins, scripts/engines build): set ${NODE_ENV}=1`,
    }, () => {});
  } else describe(name, body);
}

/**
 * The cluster for one test file: the one HEAPDUMP_TEST_CLUSTER names (left running: whoever started it stops
 * it; with `node`, only if it has one), else a new one in a temporary directory (stop() stops it and removes
 * the directory); `node` starts it with a node.
 */
export async function clusterForSuite(options: { node?: boolean } = {}): Promise<Cluster> {
  const file = process.env[CLUSTER_ENV];
  const shared = file ? await clusterFromFile(file) : undefined;
  if (shared && (!options.node || shared.nodeName)) return shared;
  requireEngines();
  const dir = await mkdtemp(join(tmpdir(), 'kh-cluster-'));
  const script = join(SCRIPTS, 'cluster');
  const args = options.node ? ['start', '--with-node', dir] : ['start', dir];
  const started = await run(script, args, process.env, 300_000);
  if (started.code !== 0) {
    await run(script, ['stop', dir]);
    await rm(dir, { recursive: true, force: true });
    throw new Error(`scripts/cluster ${args.join(' ')} exited with ${started.code}:\n${started.stderr}`);
  }
  return {
    ...(JSON.parse(started.stdout) as Omit<Cluster, 'stop'>),
    async stop() {
      const stopped = await run(script, ['stop', dir]);
      if (stopped.code !== 0) throw new Error(`scripts/cluster stop ${dir}: ${stopped.stderr}`);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The cluster HEAPDUMP_TEST_CLUSTER names, left running: whoever started it stops it. */
async function clusterFromFile(file: string): Promise<Cluster> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(
      `${CLUSTER_ENV}=${file}: ${(err as Error).message} (it must name what \`scripts/cluster start DIR\` printed)`,
    );
  }
  return { ...(JSON.parse(text) as Omit<Cluster, 'stop'>), stop: async () => {} };
}

/** kubectl against the cluster as its admin. */
export async function kubectl(cluster: Cluster, args: string[]) {
  return run(cluster.kubectl, ['--kubeconfig', cluster.kubeconfig, ...args]);
}

/** kubectl as its admin that must succeed: its stdout. */
export async function kubectlOk(cluster: Cluster, args: string[]): Promise<string> {
  const result = await kubectl(cluster, args);
  if (result.code !== 0)
    throw new Error(`kubectl ${args.join(' ')} exited with ${result.code}: ${result.stderr}`);
  return result.stdout;
}
