// Pulumi unit-test mocks (preview=false): every resource is "created" with the computed fields the real
// providers fill in, and every registration is recorded. Import the component only after installMocks().
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import * as pulumi from '@pulumi/pulumi';

const require = createRequire(import.meta.url);
// The SDK's own serializers and the mock monitor it installs: the engine's part of transforms is re-enacted
// on them (see runTransforms).
const rpc = require('@pulumi/pulumi/runtime/rpc.js') as {
  serializeProperties(label: string, props: pulumi.Inputs): Promise<Record<string, unknown>>;
  deserializeProperties(struct: unknown): Record<string, unknown>;
};
const settings = require('@pulumi/pulumi/runtime/settings.js') as { getMonitor(): unknown };
const structproto = require('google-protobuf/google/protobuf/struct_pb.js') as {
  Struct: { fromJavaScript(o: Record<string, unknown>): unknown };
};

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

/** Answers to provider functions (`kubernetes:helm:template`, `kubernetes:yaml:decode`): token -> handler. */
export type MockCalls = Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>>;
let calls: MockCalls = {};

/** Sets the answers to provider functions for the next programs (a Helm chart's template call, ...). */
export function setMockCalls(next: MockCalls): void {
  calls = next;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getObject(): unknown;
  setObject(value: unknown): void;
  getTransformsList(): { getToken(): string }[];
}
interface MockMonitorLike {
  transformCallbacks: Map<string, pulumi.ResourceTransform>;
  newUrn(parent: string, type: string, name: string): string;
  registerResource(req: RegisterRequest, callback: (err: unknown, res?: unknown) => void): Promise<void>;
}

const stackTransforms: pulumi.ResourceTransform[] = [];

/**
 * Makes the mock monitor run transforms as the engine does: a resource's own, then its parents' (transforms
 * apply to a resource and all its children), then those registered for the stack; each sees the props the
 * previous one returned. The mock monitor alone only hands them to the mocks.
 */
function runTransforms(monitor: MockMonitorLike): void {
  const chains = new Map<string, pulumi.ResourceTransform[]>();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = async (req, callback) => {
    try {
      const own = req
        .getTransformsList()
        .map((cb) => monitor.transformCallbacks.get(cb.getToken()))
        .filter((t): t is pulumi.ResourceTransform => t !== undefined);
      const parent = req.getParent();
      const chain = [...own, ...(chains.get(parent) ?? [])];
      chains.set(monitor.newUrn(parent, req.getType(), req.getName()), chain);
      let props: pulumi.Inputs = rpc.deserializeProperties(req.getObject());
      let changed = false;
      for (const transform of [...chain, ...stackTransforms]) {
        const result = await transform({
          custom: req.getCustom(),
          type: req.getType(),
          name: req.getName(),
          props,
          opts: {},
        });
        if (result) {
          props = result.props;
          changed = true;
        }
      }
      if (changed)
        req.setObject(structproto.Struct.fromJavaScript(await rpc.serializeProperties('transformed', props)));
    } catch (err) {
      callback(err);
      return;
    }
    return register(req, callback);
  };
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
        const answer = calls[args.token];
        if (!answer) throw new Error(`unexpected provider call ${args.token} in a unit test`);
        return answer(args.inputs as Record<string, unknown>);
      },
      registerTransform(transform) {
        stackTransforms.push(transform);
      },
    },
    'kube-heapdump',
    'test',
    false,
  );
  runTransforms(settings.getMonitor() as MockMonitorLike);
  return {
    registered: () => registered,
    reset: () => {
      registered = [];
      stackTransforms.length = 0;
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
