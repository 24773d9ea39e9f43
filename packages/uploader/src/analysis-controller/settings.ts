// The controller's settings from its environment (the component renders it): one line naming the variable
// for a bad value.
import {
  ANALYSIS_DEFAULTS,
  ANALYSIS_ENV,
  EnvError,
  parseQuantity,
  resolveStore,
  type UploaderVariable,
} from '@kube-heapdump/contract';
import type { ControllerSettings } from './controller.ts';
import type { Toleration } from './job-spec.ts';

export class AnalysisEnvError extends Error {}

export interface ControllerConfig extends ControllerSettings {
  /** Namespaces whose HeapDumpStored Events are acted on. */
  namespaces: Set<string>;
  pollSeconds: number;
}

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string, what: string): string {
  const v = env[name]?.trim();
  if (!v) throw new AnalysisEnvError(`${name} is required: ${what}`);
  return v;
}

function quantity(env: Env, name: string, fallback: string): number {
  const text = env[name]?.trim() || fallback;
  const bytes = parseQuantity(text);
  if (bytes === undefined || bytes <= 0)
    throw new AnalysisEnvError(`${name} "${text}" is not a size like 512Mi`);
  return bytes;
}

function integer(env: Env, name: string, fallback: number, min: number): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min)
    throw new AnalysisEnvError(`${name} "${text}" must be an integer >= ${min}`);
  return n;
}

function json<T>(env: Env, name: string, fallback: T, valid: (v: unknown) => boolean): T {
  const text = env[name]?.trim();
  if (!text) return fallback;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new AnalysisEnvError(`${name} is not JSON`);
  }
  if (!valid(v)) throw new AnalysisEnvError(`${name} has the wrong shape`);
  return v as T;
}

const isStringMap = (v: unknown) =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  Object.values(v).every((x) => typeof x === 'string');
const isObjectList = (v: unknown) =>
  Array.isArray(v) && v.every((x) => typeof x === 'object' && x !== null && !Array.isArray(x));

export function parseControllerEnv(env: Env): ControllerConfig {
  let store: ControllerSettings['jobs']['store'];
  try {
    store = resolveStore((name: UploaderVariable) => env[name]);
  } catch (err) {
    if (err instanceof EnvError) throw new AnalysisEnvError(err.message);
    throw err;
  }
  const namespaces = new Set(
    required(env, ANALYSIS_ENV.namespaces, 'the namespaces whose dumps are analysed')
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean),
  );
  return {
    namespaces,
    pollSeconds: integer(env, ANALYSIS_ENV.pollSeconds, ANALYSIS_DEFAULTS.pollSeconds, 1),
    sizing: {
      memoryPerGiB: quantity(env, ANALYSIS_ENV.memoryPerGiB, ANALYSIS_DEFAULTS.memoryPerGiB),
      maxMemory: quantity(env, ANALYSIS_ENV.maxMemory, ANALYSIS_DEFAULTS.maxMemory),
    },
    jobs: {
      namespace: required(env, ANALYSIS_ENV.namespace, 'the namespace the Jobs run in (downward API)'),
      image: required(env, ANALYSIS_ENV.image, 'the image the Jobs run'),
      serviceAccount: required(env, ANALYSIS_ENV.serviceAccount, "the Jobs' ServiceAccount"),
      store,
      ttlSecondsAfterFinished: integer(
        env,
        ANALYSIS_ENV.ttlSecondsAfterFinished,
        ANALYSIS_DEFAULTS.ttlSecondsAfterFinished,
        0,
      ),
      backoffLimit: integer(env, ANALYSIS_ENV.backoffLimit, ANALYSIS_DEFAULTS.backoffLimit, 0),
      nodeSelector: json<Record<string, string>>(env, ANALYSIS_ENV.nodeSelector, {}, isStringMap),
      tolerations: json<Toleration[]>(env, ANALYSIS_ENV.tolerations, [], isObjectList),
      credentialsSecret: env[ANALYSIS_ENV.credentialsSecret]?.trim() || undefined,
    },
  };
}
