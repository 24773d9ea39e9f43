// The shorthand arguments (image, env, probes, ...) as a plain core/v1 pod: the app container and the pod
// fields they describe. Only what was given is rendered; heap dumps are added afterwards by addHeapDumps.
import type * as pulumi from '@pulumi/pulumi';
import type { EnvVarArgs, HeapDumpEnabledAppArgs, ProbeArgs, ResourcesArgs } from './args.ts';
import { FieldError } from './errors.ts';
import { withJavaToolOptions } from './jvm.ts';
import type { Container, EnvVar, PodSpec, Probe, ResourceRequirements } from './k8s-types.ts';
import { UPLOADER_CONTAINER } from './names.ts';

/** The plain shorthand arguments the pod is built from (storage and identity are resolved separately). */
export type AppSettings = pulumi.Unwrap<
  Omit<HeapDumpEnabledAppArgs, 'storage' | 'identity' | 'heapDumps' | 'uploader'>
>;

function envVar(e: pulumi.Unwrap<EnvVarArgs>, field: string): EnvVar {
  const sources = [e.value, e.secretKeyRef, e.configMapKeyRef, e.fieldPath].filter((v) => v !== undefined);
  if (sources.length > 1) {
    throw new FieldError(
      field,
      `${e.name} has more than one of value, secretKeyRef, configMapKeyRef, fieldPath`,
    );
  }
  if (e.secretKeyRef) return { name: e.name, valueFrom: { secretKeyRef: { ...e.secretKeyRef } } };
  if (e.configMapKeyRef) return { name: e.name, valueFrom: { configMapKeyRef: { ...e.configMapKeyRef } } };
  if (e.fieldPath) return { name: e.name, valueFrom: { fieldRef: { fieldPath: e.fieldPath } } };
  return { name: e.name, value: e.value ?? '' };
}

/** The shorthand env as core/v1 EnvVars. */
export function shorthandEnv(env: readonly pulumi.Unwrap<EnvVarArgs>[]): EnvVar[] {
  return env.map((e, i) => envVar(e, `env[${i}]`));
}

/**
 * The shorthand env with JAVA_TOOL_OPTIONS appended to (see withJavaToolOptions): what the app container's
 * env becomes.
 */
export function appEnv(env: readonly pulumi.Unwrap<EnvVarArgs>[], flags: readonly string[]): EnvVar[] {
  return withJavaToolOptions(shorthandEnv(env), flags, 'env');
}

function probe(p: pulumi.Unwrap<ProbeArgs> | undefined, field: string): Probe | undefined {
  if (p === undefined) return undefined;
  const handlers = [p.httpGetPath !== undefined, p.exec !== undefined].filter(Boolean).length;
  if (handlers > 1) throw new FieldError(field, 'give httpGetPath or exec, not both');
  if (handlers === 0 && p.port === undefined)
    throw new FieldError(field, 'give httpGetPath and port, port, or exec');
  if (p.httpGetPath !== undefined && p.port === undefined)
    throw new FieldError(field, 'httpGetPath needs a port');
  const out: Probe = {};
  if (p.httpGetPath !== undefined) out.httpGet = { path: p.httpGetPath, port: p.port as number };
  else if (p.exec !== undefined) out.exec = { command: p.exec };
  else out.tcpSocket = { port: p.port as number };
  for (const k of [
    'initialDelaySeconds',
    'periodSeconds',
    'timeoutSeconds',
    'failureThreshold',
    'successThreshold',
  ] as const) {
    if (p[k] !== undefined) out[k] = p[k];
  }
  return out;
}

function resources(r: pulumi.Unwrap<ResourcesArgs> | undefined): ResourceRequirements | undefined {
  if (r === undefined) return undefined;
  const out: ResourceRequirements = {};
  if (r.requests) out.requests = { ...r.requests };
  if (r.limits) out.limits = { ...r.limits };
  return out;
}

/** The app container the shorthand describes. */
export function appContainer(app: AppSettings): Container {
  if (!app.image) throw new FieldError('image', 'is required: the Java app image');
  const name = app.containerName ?? 'app';
  if (name === UPLOADER_CONTAINER)
    throw new FieldError('containerName', `"${UPLOADER_CONTAINER}" is the uploader's name`);
  const container: Container = { name, image: app.image };
  if (app.command) container.command = [...app.command];
  if (app.args) container.args = [...app.args];
  if (app.env) container.env = shorthandEnv(app.env);
  if (app.ports) {
    container.ports = app.ports.map((p) => ({
      containerPort: p.containerPort,
      ...(p.name !== undefined ? { name: p.name } : {}),
      ...(p.protocol !== undefined ? { protocol: p.protocol } : {}),
    }));
  }
  const appResources = resources(app.resources);
  if (appResources) container.resources = appResources;
  for (const k of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
    const p = probe(app[k], k);
    if (p) container[k] = p;
  }
  if (app.securityContext) {
    const { dropCapabilities, ...rest } = app.securityContext;
    container.securityContext = {
      ...rest,
      ...(dropCapabilities ? { capabilities: { drop: [...dropCapabilities] } } : {}),
    };
  }
  return container;
}

/** The pod the shorthand describes, before heap dumps. */
export function shorthandPodSpec(app: AppSettings): PodSpec {
  const spec: PodSpec = { containers: [appContainer(app)] };
  if (app.terminationGracePeriodSeconds !== undefined)
    spec.terminationGracePeriodSeconds = app.terminationGracePeriodSeconds;
  if (app.podSecurityContext) spec.securityContext = { ...app.podSecurityContext };
  if (app.imagePullSecrets) spec.imagePullSecrets = app.imagePullSecrets.map((name) => ({ name }));
  return spec;
}
