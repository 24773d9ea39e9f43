// The real Pulumi engine (built by scripts/engines) running a project's program against a real API server,
// through Pulumi's Automation API: a local file backend and a passphrase, a private PULUMI_HOME with the
// Kubernetes provider installed from its file, as a user would. The program runs in this process (an inline
// program, served to the CLI by the SDK's own language host: `pulumi-language-nodejs` is not published as a Go
// module version, docs/testing.md), imported from the project's own entry file.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import type {
  ConfigMap,
  DestroyResult,
  PreviewResult,
  Stack,
  UpResult,
} from '@pulumi/pulumi/automation/index.js';
import type { Cluster, Engines } from './cluster.ts';
import { run } from './processes.ts';

const ROOT = join(import.meta.dirname, '../..');

/**
 * Added to every Kubernetes object the test programs register: there is no node, so a Deployment never
 * becomes available and the provider would wait for it (10 minutes) before failing. Comparisons ignore it.
 */
export const SKIP_AWAIT = 'pulumi.com/skipAwait';

export interface Project {
  stack: Stack;
  up(): Promise<UpResult>;
  /** Fails when the engine would change anything (`pulumi preview --expect-no-changes`). */
  previewNoChanges(): Promise<PreviewResult>;
  destroy(): Promise<DestroyResult>;
  /** Removes the state, home and work directories (after destroy). */
  dispose(): Promise<void>;
}

let runs = 0;

/** The @pulumi/kubernetes version the SDK asks the engine for, which the provider is installed as. */
async function kubernetesSdkVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(join(ROOT, 'node_modules/@pulumi/kubernetes/package.json'), 'utf8'));
  return (pkg as { version: string }).version;
}

/**
 * A stack of the project at `projectFile` (its Pulumi.yaml) whose program is `programFile`, with `config`,
 * deploying to `cluster`.
 */
export async function openProject(
  engines: Engines,
  cluster: Cluster,
  projectFile: string,
  programFile: string,
  config: ConfigMap,
): Promise<Project> {
  const dir = await mkdtemp(join(tmpdir(), 'kh-pulumi-'));
  const home = join(dir, 'home');
  const work = join(dir, 'work');
  await mkdir(join(dir, 'state'), { recursive: true });
  await mkdir(work);
  // The project file only (stack config files land beside it, never in the repository), without its `main`:
  // the program is served inline, and the CLI checks that `main` exists in its directory.
  const projectYaml = await readFile(projectFile, 'utf8');
  await writeFile(join(work, 'Pulumi.yaml'), projectYaml.replace(/^main:.*\n/m, ''));
  const envVars = {
    PULUMI_HOME: home,
    PULUMI_BACKEND_URL: `file://${join(dir, 'state')}`,
    PULUMI_CONFIG_PASSPHRASE: 'kube-heapdump-test',
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
    KUBECONFIG: cluster.kubeconfig,
  };
  const pulumiBin = join(engines.pulumi, 'pulumi');
  const version = await kubernetesSdkVersion();
  const installed = await run(
    pulumiBin,
    [
      'plugin',
      'install',
      'resource',
      'kubernetes',
      version,
      '--file',
      join(engines['kubernetes-provider'], 'pulumi-resource-kubernetes'),
    ],
    { ...process.env, ...envVars },
  );
  if (installed.code !== 0) throw new Error(`pulumi plugin install: ${installed.stderr}`);
  const pulumiCommand = await pulumi.automation.PulumiCommand.get({ root: dirname(engines.pulumi) });
  const programUrl = pathToFileURL(programFile).href;
  const program = async () => {
    pulumi.runtime.registerResourceTransform((args) => {
      if (!args.type.startsWith('kubernetes:') || args.type.startsWith('kubernetes:helm')) return undefined;
      const props = args.props as { metadata?: { annotations?: Record<string, string> } };
      const metadata = {
        ...props.metadata,
        annotations: { ...props.metadata?.annotations, [SKIP_AWAIT]: 'true' },
      };
      return { props: { ...args.props, metadata }, opts: args.opts };
    });
    // A query makes each run a new module instance: the program runs again, its imports stay cached.
    return { ...((await import(`${programUrl}?run=${++runs}`)) as Record<string, unknown>) };
  };
  const projectName = /^name:\s*(\S+)/m.exec(projectYaml)?.[1];
  if (!projectName) throw new Error(`${projectFile} names no project`);
  const stack = await pulumi.automation.LocalWorkspace.createOrSelectStack(
    { stackName: 'e2e', projectName, program },
    { workDir: work, pulumiHome: home, envVars, pulumiCommand },
  );
  await stack.setAllConfig(config);
  // The engine's own output goes to the test's log: it is what says why an update failed.
  const onOutput = (out: string) => process.stderr.write(out);
  const common = { onOutput, color: 'never' as const };
  return {
    stack,
    up: () => stack.up(common),
    previewNoChanges: () => stack.preview({ ...common, expectNoChanges: true }),
    destroy: () => stack.destroy(common),
    async dispose() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}
