// Pulumi unit-test mocks (preview=false): every resource is "created" with the computed fields the real
// providers fill in, and every registration is recorded. Import the component only after installMocks().
import { createHash, randomBytes } from 'node:crypto';
import * as pulumi from '@pulumi/pulumi';

export interface Registered {
  type: string;
  name: string;
  id: string;
  /** Inputs as the engine received them (Outputs resolved, secrets unwrapped). */
  inputs: Record<string, unknown>;
  /** Outputs the mock returned, computed fields included. */
  state: Record<string, unknown>;
}

export const MOCK_REGION = 'eu-west-3';
/** How the engine receives a secret value: `{ [SECRET_SIGNATURE]: SECRET_SIGNATURE_VALUE, value }`. */
export const SECRET_SIGNATURE = '4dabf18193072939515e22adb298388d';
export const SECRET_SIGNATURE_VALUE = '1b47061264138c4ac30d75fd1eb44270';
export const MOCK_ACCOUNT = '123456789012';

/** Auto-name suffixes: random, like the providers, or from the name when runs must compare equal. */
let suffix = (_name: string) => randomBytes(4).toString('hex');

type Inputs = Record<string, unknown> & { metadata?: Record<string, unknown> };

/** The computed fields of each resource type, as the providers fill them. */
function computed(type: string, name: string, inputs: Inputs): Record<string, unknown> {
  switch (type) {
    case 'aws:s3/bucket:Bucket': {
      const bucket = (inputs.bucket as string | undefined) ?? `${name}-${suffix(name)}`;
      return { bucket, arn: `arn:aws:s3:::${bucket}`, region: MOCK_REGION };
    }
    case 'aws:iam/user:User': {
      const userName = (inputs.name as string | undefined) ?? `${name}-${suffix(name)}`;
      return { name: userName, arn: `arn:aws:iam::${MOCK_ACCOUNT}:user${inputs.path ?? '/'}${userName}` };
    }
    case 'aws:iam/role:Role': {
      const roleName = (inputs.name as string | undefined) ?? `${name}-${suffix(name)}`;
      return { name: roleName, arn: `arn:aws:iam::${MOCK_ACCOUNT}:role/${roleName}` };
    }
    case 'aws:iam/accessKey:AccessKey':
      return { secret: accessKey?.secretAccessKey ?? `mock-secret-${suffix(name)}` };
    default:
      if (type.startsWith('kubernetes:')) {
        // The Kubernetes provider auto-names objects that have no metadata.name.
        const metadata = { ...(inputs.metadata ?? {}) };
        metadata.name ??= `${name}-${suffix(name)}`;
        return { metadata };
      }
      return {};
  }
}

let registered: Registered[] = [];
let accessKey: MockAccessKey | undefined;

/** The key every aws.iam.AccessKey gets (a credential a test S3 server accepts); random when not given. */
export interface MockAccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Installs the mocks once per process; `reset()` clears the record between tests. */
export async function installMocks(
  options: { accessKey?: MockAccessKey; deterministic?: boolean } = {},
): Promise<{ registered: () => Registered[]; reset: () => void }> {
  accessKey = options.accessKey;
  if (options.deterministic) suffix = (name) => createHash('sha256').update(name).digest('hex').slice(0, 8);
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const inputs = args.inputs as Inputs;
        const id =
          args.type === 'aws:iam/accessKey:AccessKey'
            ? (accessKey?.accessKeyId ?? `AKIA${suffix(args.name).toUpperCase()}MOCK`)
            : `${args.name}-id`;
        const state = { ...inputs, ...computed(args.type, args.name, inputs) };
        registered.push({ type: args.type, name: args.name, id, inputs, state });
        return { id, state };
      },
      call(args) {
        throw new Error(`unexpected provider call ${args.token} in a unit test`);
      },
    },
    'kube-heapdump',
    'test',
    false,
  );
  return {
    registered: () => registered,
    reset: () => {
      registered = [];
    },
  };
}

/** The value of an Output (mocks resolve everything, preview=false). */
export function resolved<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

export interface Child {
  type: string;
  name: string;
  parent: pulumi.Resource | undefined;
  /** The arguments as the component passed them (Outputs and secrets intact). */
  props: pulumi.Inputs;
  resource: pulumi.Resource;
}

/**
 * Constructs a component, records every resource it creates (through a transformation, which sees parent
 * and unresolved props) and waits until all of them are registered.
 */
export async function construct<T extends pulumi.ComponentResource>(
  make: (opts: pulumi.ComponentResourceOptions) => T,
): Promise<{ component: T; children: Child[] }> {
  const children: Child[] = [];
  const component = make({
    transformations: [
      (args) => {
        children.push({
          type: args.type,
          name: args.name,
          parent: args.opts.parent,
          props: args.props,
          resource: args.resource,
        });
        return undefined;
      },
    ],
  });
  await resolved(pulumi.all(children.map((c) => c.resource.urn)));
  const custom = children
    .map((c) => c.resource)
    .filter((r): r is pulumi.CustomResource => r instanceof pulumi.CustomResource);
  await resolved(pulumi.all(custom.map((r) => r.id)));
  return { component, children: children.filter((c) => c.resource !== component) };
}
