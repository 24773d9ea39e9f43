// The image's analysis commands, dispatched from main.ts by their first argument.
import { ANALYSIS_COMMANDS, EnvError, resolveStore, type UploaderVariable } from '@kube-heapdump/contract';
import { createLogger } from '../log.ts';
import { runController } from './run-controller.ts';
import { parseJobEnv, runJob } from './run-job.ts';
import { AnalysisEnvError, parseControllerEnv } from './settings.ts';

function fail(message: string): never {
  process.stderr.write(`heapdump-uploader: ${message}\n`);
  process.exit(2);
}

export async function runAnalysisCommand(command: string, env: NodeJS.ProcessEnv): Promise<void> {
  const log = createLogger('info').child({ command });
  if (command === ANALYSIS_COMMANDS.job) {
    let cfg: ReturnType<typeof parseJobEnv>;
    try {
      cfg = parseJobEnv(
        env,
        resolveStore((name: UploaderVariable) => env[name]),
      );
    } catch (err) {
      if (err instanceof AnalysisEnvError || err instanceof EnvError) fail(err.message);
      throw err;
    }
    try {
      await runJob(cfg, log);
    } catch (err) {
      log.error({ key: cfg.key, error: (err as Error).message }, 'analysis failed');
      process.exit(1);
    }
    return;
  }
  let cfg: ReturnType<typeof parseControllerEnv>;
  try {
    cfg = parseControllerEnv(env);
  } catch (err) {
    if (err instanceof AnalysisEnvError) fail(err.message);
    throw err;
  }
  const stopping = new AbortController();
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.once(signal, () => {
      log.info({ signal }, 'stopping');
      stopping.abort();
    });
  await runController(cfg, env, log, { pollMs: cfg.pollSeconds * 1000, signal: stopping.signal }).catch(
    (err: Error) => fail(err.message),
  );
}
