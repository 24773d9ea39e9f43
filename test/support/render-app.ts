// Renders HeapDumpEnabledApp under Pulumi's mocks and returns what a cluster would receive: the Deployment,
// the Secrets' values, the uploader's IAM policy and the bucket. Call installMocks() first (once per process).

import type { HeapDumpEnabledAppArgs } from '../../packages/heapdump/src/args.ts';
import type { SimulatedWorkload } from './pod-simulator.ts';
import { construct, type Registered, resolved, SECRET_SIGNATURE } from './pulumi-mocks.ts';
import type { PolicyDocument } from './s3/policy.ts';

export interface RenderedApp {
  deployment: SimulatedWorkload;
  secrets: Record<string, Record<string, string>>;
  /** The IAM user's policy (accessKey identity), as the test S3 server enforces it. */
  userPolicy: PolicyDocument | undefined;
  /** The provisioned bucket's name. */
  bucket: string | undefined;
  listCommand: string;
  keyPrefix: string;
}

function unsecret(value: unknown): unknown {
  if (value && typeof value === 'object' && SECRET_SIGNATURE in value)
    return (value as unknown as { value: unknown }).value;
  return value;
}

export async function renderApp(
  name: string,
  args: HeapDumpEnabledAppArgs,
  registered: () => Registered[],
): Promise<RenderedApp> {
  const { HeapDumpEnabledApp } = await import('../../packages/heapdump/src/index.ts');
  const before = registered().length;
  const { component } = await construct((opts) => new HeapDumpEnabledApp(name, args, opts));
  const listCommand = await resolved(component.listCommand);
  const keyPrefix = await resolved(component.keyPrefix);
  const mine = registered().slice(before);
  const of = (type: string) => mine.filter((r) => r.type === type);
  const deployment = of('kubernetes:apps/v1:Deployment')[0];
  if (!deployment) throw new Error('the component rendered no Deployment');
  const secrets: Record<string, Record<string, string>> = {};
  for (const s of of('kubernetes:core/v1:Secret')) {
    const metadata = s.state.metadata as { name: string };
    secrets[metadata.name] = unsecret(s.inputs.stringData) as Record<string, string>;
  }
  const policy = of('aws:iam/userPolicy:UserPolicy')[0]?.inputs.policy as string | undefined;
  return {
    deployment: deployment.inputs as unknown as SimulatedWorkload,
    secrets,
    userPolicy: policy === undefined ? undefined : (JSON.parse(policy) as PolicyDocument),
    bucket: of('aws:s3/bucket:Bucket')[0]?.state.bucket as string | undefined,
    listCommand,
    keyPrefix,
  };
}
