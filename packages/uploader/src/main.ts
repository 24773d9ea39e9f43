#!/usr/bin/env node
// heapdump-uploader: the sidecar. Configuration comes from the environment (the contract's UPLOADER_ENV);
// flags: --once, --version, --help.
import { access, constants, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import {
  ANALYSIS_COMMANDS,
  EnvError,
  type NotifySettings,
  parseNotifyEnv,
  parseUploaderEnv,
  redactUrl,
  UPLOADER_DEFAULTS,
  UPLOADER_ENV,
  type UploaderConfig,
} from '@kube-heapdump/contract';
import pkg from '../package.json' with { type: 'json' };
import { installAgent } from './agent-install.ts';
import { Limiter } from './limiter.ts';
import { createLogger } from './log.ts';
import { Metrics, serveMetrics } from './metrics.ts';
import { Notifier } from './notify.ts';
import { createS3Client, DAEMON_RETRY, ONCE_RETRY } from './s3.ts';
import { Shipper } from './shipper.ts';
import { StateStore } from './state.ts';
import { Uploader } from './uploader.ts';

/** Every variable of the contract with its default, so --help can never drift from what is parsed. */
function configurationHelp(): string {
  const D: Record<string, unknown> = {
    ...UPLOADER_DEFAULTS,
    bucket: 'required',
    region: `required without ${UPLOADER_ENV.endpoint}, ${UPLOADER_DEFAULTS.endpointRegion} with it`,
    podNamespace: UPLOADER_DEFAULTS.namespace,
    nodeName: UPLOADER_DEFAULTS.node,
    podName: 'the hostname',
    app: `${UPLOADER_ENV.podName}`,
  };
  const words = Object.entries(UPLOADER_ENV).map(([k, name]) =>
    k in D ? `${name} (${String(D[k])})` : name,
  );
  const lines: string[] = [];
  for (const w of words) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + w.length < 100) lines[lines.length - 1] = `${last}, ${w}`;
    else lines.push(`  ${w}`);
  }
  return lines.join(',\n');
}

const HELP = `heapdump-uploader ${pkg.version}: streams JVM heap dumps to S3-compatible storage while they are written.

Usage: heapdump-uploader [--once]
       heapdump-uploader analysis-controller | analysis-job   (README, "Analysis in the cluster")

  --once      ship the dumps in the directory (waiting for ones being written), then exit: 0 if all were
              stored, 1 if any failed
  --version   print the version
  --help      this text

Configuration (environment; README, "The uploader's configuration", says what each does):
${configurationHelp()}
and the AWS SDK's credential chain (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ROLE_ARN,
AWS_WEB_IDENTITY_TOKEN_FILE, ...).`;

/** How long --once waits for notifications still being sent (retried) before it exits. */
const NOTIFY_DRAIN_MS = 10_000;

function fail(message: string): never {
  process.stderr.write(`heapdump-uploader: ${message}\n`);
  process.exit(2);
}

async function checkDirectory(dir: string): Promise<void> {
  try {
    if (!(await stat(dir)).isDirectory()) fail(`HEAPDUMP_DIR ${dir} is not a directory`);
    await access(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    fail(
      `HEAPDUMP_DIR ${dir} ${code === 'ENOENT' ? 'does not exist' : `is not usable (${code}): the uploader must read and delete dumps there`}`,
    );
  }
}

async function main(): Promise<void> {
  // The image's other commands: the analysis controller and its Jobs (README, "Analysis in the cluster").
  const command = process.argv[2];
  if (command === ANALYSIS_COMMANDS.controller || command === ANALYSIS_COMMANDS.job) {
    const { runAnalysisCommand } = await import('./analysis-controller/command.ts');
    return runAnalysisCommand(command, process.env);
  }
  let once = false;
  try {
    const { values } = parseArgs({
      options: {
        once: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
      },
    });
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return;
    }
    if (values.version) {
      process.stdout.write(`${pkg.version}\n`);
      return;
    }
    once = values.once ?? false;
  } catch (err) {
    fail(`${(err as Error).message} (see --help)`);
  }
  let cfg: UploaderConfig;
  let notifySettings: NotifySettings;
  try {
    cfg = parseUploaderEnv(process.env, hostname());
    notifySettings = parseNotifyEnv(process.env);
  } catch (err) {
    if (err instanceof EnvError) fail(err.message);
    throw err;
  }
  await checkDirectory(cfg.dir);

  const log = createLogger(cfg.logLevel);
  const metrics = new Metrics();
  const state = new StateStore(cfg.dir);
  const stopping = new AbortController();
  const s3 = createS3Client(
    {
      region: cfg.region,
      endpoint: cfg.endpoint,
      forcePathStyle: cfg.forcePathStyle,
      maxSockets: cfg.concurrency + 2, // the parts, plus a summary and a HEAD of another dump
      idleTimeoutMs: cfg.timeoutSeconds * 1000,
    },
    log,
  );
  const notify = new Notifier(notifySettings, cfg.pod, log);
  const shipper = new Shipper({
    cfg,
    s3,
    log,
    metrics,
    state,
    retry: once ? ONCE_RETRY : DAEMON_RETRY,
    limiter: new Limiter({ slots: cfg.concurrency, bytes: cfg.bufferMiB * 2 ** 20 }),
    version: pkg.version,
    pollMs: 100,
    stopping: stopping.signal,
    notify,
  });
  const uploader = new Uploader({ cfg, shipper, resume: shipper.resume, log, metrics });
  const { pod, endpoint, bucket, prefix, compression, checksum, concurrency, bufferMiB } = cfg;
  log.info(
    {
      version: pkg.version,
      dir: cfg.dir,
      bucket,
      prefix,
      endpoint: endpoint && redactUrl(endpoint),
      compression,
      checksum,
      concurrency,
      bufferMiB,
      redact: cfg.redact ?? UPLOADER_DEFAULTS.redact,
      ownerUid: cfg.ownerUid,
      maxDumpBytes: cfg.maxDumpBytes,
      pod,
      once,
      // Where notifications go (the webhook's host only: its URL is a secret).
      notify: {
        events: notifySettings.events && notifySettings.apiServer !== undefined,
        webhook:
          notifySettings.webhookUrl === undefined ? undefined : new URL(notifySettings.webhookUrl).host,
      },
    },
    'uploader starting',
  );

  if (once) {
    const failed = await uploader.once();
    await notify.drain(NOTIFY_DRAIN_MS);
    log.info({ failed }, 'done');
    process.exit(failed > 0 ? 1 : 0);
  }

  // Before the startup probe passes: the kubelet starts the JVM, whose -javaagent names this jar, after it.
  await installAgent(cfg.dir).then(
    (path) => log.info({ path }, 'memory watchdog agent installed'),
    (err: Error) => log.error({ error: err.message }, 'cannot install the memory watchdog agent'),
  );
  const server =
    cfg.metricsPort > 0
      ? await serveMetrics(metrics, cfg.metricsPort).catch((err: Error) =>
          fail(`HEAPDUMP_METRICS_PORT ${cfg.metricsPort}: ${err.message}`),
        )
      : undefined;
  const shutdown = (signal: string) => {
    log.info(
      { signal, inProgress: metrics.inProgress, withinSeconds: cfg.shutdownSeconds },
      'stopping: finishing uploads under way',
    );
    stopping.abort();
    // Within the pod's grace period, always: uploads not done by then keep their state for the next start.
    const deadline = setTimeout(() => {
      log.warn(
        { inProgress: metrics.inProgress },
        'stopping now: uploads not finished resume at the next start',
      );
      process.exit(0);
    }, cfg.shutdownSeconds * 1000);
    void uploader.stop().then(() => {
      clearTimeout(deadline);
      server?.close();
      log.info('stopped');
      process.exit(0);
    });
  };
  process.once('SIGTERM', shutdown).once('SIGINT', shutdown);
  await uploader.start();
}

await main();
