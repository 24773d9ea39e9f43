// The `heapdump` command line: verbs, flags and help. Each verb's module (and the AWS SDK behind it) is
// loaded when the verb runs, so `--help` and `--version` start fast.
import { Command, InvalidArgumentError, Option } from 'commander';
import pkg from '../package.json' with { type: 'json' };
import type { DumpFilters } from './catalog.ts';
import { describeStoreError, StoreError, UsageError } from './errors.ts';
import { parseSince } from './since.ts';
import { STORE_FLAGS, type Store, type StoreOptions } from './store.ts';

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError(`"${value}" is not a positive integer.`);
  return n;
}

interface FilterFlags {
  namespace?: string;
  app?: string;
  pod?: string;
  since?: string;
}

function withStoreFlags(command: Command): Command {
  for (const [flags, description] of STORE_FLAGS) command.addOption(new Option(flags, description));
  return command;
}

function withFilterFlags(command: Command, since: boolean): Command {
  command
    .option('-n, --namespace <namespace>', 'only dumps of this namespace')
    .option('--app <app>', 'only dumps of this app')
    .option('--pod <pod>', 'only dumps of this pod');
  if (since) command.option('--since <when>', 'only dumps started since: 7d, 24h, 30m, or a date');
  return command;
}

function filtersOf(f: FilterFlags): DumpFilters {
  return {
    ...(f.namespace !== undefined ? { namespace: f.namespace } : {}),
    ...(f.app !== undefined ? { app: f.app } : {}),
    ...(f.pod !== undefined ? { pod: f.pod } : {}),
    ...(f.since !== undefined ? { since: parseSince(f.since) } : {}),
  };
}

/** Runs `work` against the store, turning whatever the SDK throws into one line. */
async function withStore<T>(options: StoreOptions, work: (store: Store) => Promise<T>): Promise<T> {
  const { openStore } = await import('./store.ts');
  const store = await openStore(options);
  try {
    return await work(store);
  } catch (err) {
    if (err instanceof StoreError || err instanceof UsageError) throw err;
    throw describeStoreError(err, `s3://${store.bucket}/${store.prefix}`, store.endpoint);
  } finally {
    store.client.destroy();
  }
}

/** Builds the program; actions set `process.exitCode` through `setExit`. */
export function buildProgram(out: (s: string) => void, setExit: (code: number) => void): Command {
  const program = new Command('heapdump')
    .description(
      'Java heap dumps from Kubernetes, for the developers who need them. Verbs that read the bucket take ' +
        "the uploader's settings from flags or the same environment variables, and credentials from the AWS " +
        'SDK chain (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO, IRSA); read access is enough.',
    )
    .version(pkg.version, '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  withStoreFlags(
    program
      .command('inspect')
      .description(
        'Print the verdict (complete, incomplete, invalid), header facts, totals and the classes with the most ' +
          'shallow bytes of a heap dump: a local file (.hprof, .hprof.gz, .hprof.zst) or, when no such file ' +
          'exists, the object with that key (streamed, not saved). Exit status 0 when complete, 1 when not.',
      )
      .argument('<file|key>', 'heap dump file, or object key')
      .option('--top <n>', 'how many classes to list', positiveInteger, 20)
      .option('--json', 'print the summary as JSON (the schema the uploader stores beside each dump)', false),
  ).action(async (target: string, options: StoreOptions & { top: number; json: boolean }) => {
    const { inspect } = await import('./inspect.ts');
    const { openStore } = await import('./store.ts');
    let store: Store | undefined;
    try {
      setExit(
        await inspect(target, options, out, async () => {
          // Without a bucket the argument can only be a file.
          if (options.bucket === undefined && !process.env.HEAPDUMP_BUCKET) return undefined;
          store = await openStore(options);
          return store;
        }),
      );
    } finally {
      (store as Store | undefined)?.client.destroy();
    }
  });

  withFilterFlags(
    withStoreFlags(
      program
        .command('list')
        .description(
          'List the dumps in the bucket, newest first: time, namespace/app/pod, size, compression, verdict, key.',
        )
        .option('--json', 'print JSON instead of a table', false),
    ),
    true,
  ).action(async (options: StoreOptions & FilterFlags & { json: boolean }) => {
    const { list } = await import('./list.ts');
    await withStore(options, (store) => list(store, filtersOf(options), options.json, out));
  });

  withFilterFlags(
    withStoreFlags(
      program
        .command('get')
        .description(
          'Download a dump, decompressed to .hprof, and verify its SHA-256 against the summary. An interrupted ' +
            'download resumes where it stopped (the stored bytes are kept in <file>.download).',
        )
        .argument('<key|latest>', 'object key, or latest (the newest dump matching the filters)')
        .option('-o, --output <file>', 'where to write the dump (default <pod>-<time>-<file>.hprof)')
        .option('--force', 'overwrite the output file if it exists', false),
    ),
    false,
  ).action(
    async (
      keyOrLatest: string,
      options: StoreOptions & FilterFlags & { output?: string; force: boolean },
    ) => {
      const { resolveKey } = await import('./catalog.ts');
      const { get } = await import('./get.ts');
      await withStore(options, async (store) => {
        const key = await resolveKey(store, keyOrLatest, filtersOf(options));
        const r = await get(store, key, {
          ...(options.output !== undefined ? { output: options.output } : {}),
          force: options.force,
          progress: Boolean(process.stderr.isTTY),
        });
        out(
          `${r.path}: ${r.bytes} bytes, sha256 ${r.sha256} ${r.verified ? 'verified' : 'NOT verified (the dump has no summary)'}` +
            (r.resumedFrom > 0 ? `, resumed at ${r.resumedFrom} stored bytes` : ''),
        );
      });
    },
  );

  withFilterFlags(
    withStoreFlags(
      program
        .command('url')
        .description('Print a presigned download link for a dump, for someone without credentials.')
        .argument('<key|latest>', 'object key, or latest')
        .option('--expires <duration>', 'how long the link works: 30m, 1h, 7d (at most 7d)', '1h'),
    ),
    false,
  ).action(async (keyOrLatest: string, options: StoreOptions & FilterFlags & { expires: string }) => {
    const { parseExpiry, presignedUrl } = await import('./share.ts');
    const { resolveKey } = await import('./catalog.ts');
    const seconds = parseExpiry(options.expires);
    await withStore(options, async (store) => {
      const key = await resolveKey(store, keyOrLatest, filtersOf(options));
      out(await presignedUrl(store, key, seconds));
    });
  });

  withFilterFlags(
    withStoreFlags(
      program
        .command('summary')
        .description(
          'Print the summary the uploader stored beside a dump (verdict, pod, timings, top classes) without downloading the dump.',
        )
        .argument('<key|latest>', 'object key, or latest')
        .option('--top <n>', 'how many classes to list', positiveInteger, 20)
        .option('--json', 'print the stored summary JSON as is', false),
    ),
    false,
  ).action(
    async (keyOrLatest: string, options: StoreOptions & FilterFlags & { top: number; json: boolean }) => {
      const { resolveKey } = await import('./catalog.ts');
      const { fetchSummary, renderStoredSummary } = await import('./stored-summary.ts');
      await withStore(options, async (store) => {
        const key = await resolveKey(store, keyOrLatest, filtersOf(options));
        const summary = await fetchSummary(store, key);
        out(options.json ? JSON.stringify(summary, null, 2) : renderStoredSummary(summary, options.top));
      });
    },
  );

  program
    .command('redact')
    .description(
      'Write a redacted copy of a heap dump (.hprof, .hprof.gz, .hprof.zst; written uncompressed, mode 0600), ' +
        'exactly as the uploader redacts with HEAPDUMP_REDACT: same size and layout, same verdict and class ' +
        'histogram. strings: every byte[] and char[] becomes *, String coder and hash kept consistent; ' +
        'primitives: every primitive array element and field value zeroed. Exit status 1 when the input is not ' +
        'a whole HPROF file (what follows the point it stops being one is zeroed).',
    )
    .argument('<in>', 'heap dump file')
    .argument('<out>', 'file to write')
    .addOption(
      new Option('--mode <mode>', 'what to redact').choices(['strings', 'primitives']).default('strings'),
    )
    .option('--force', 'overwrite <out> if it exists', false)
    .action(
      async (input: string, output: string, options: { mode: 'strings' | 'primitives'; force: boolean }) => {
        const { redactFile } = await import('./redact.ts');
        const r = await redactFile(input, output, options);
        out(`${output}: ${r.bytes} bytes, redacted (${options.mode}), sha256 ${r.sha256}`);
        if (r.failure !== undefined) {
          process.stderr.write(
            `heapdump: ${input} stops being HPROF (${r.failure}); everything after that point is zeroed\n`,
          );
          setExit(1);
        }
      },
    );

  program
    .command('trigger')
    .description(
      'Dump the heap of a running JVM without restarting it: kubectl exec into the app container, jcmd ' +
        '<pid> GC.heap_dump into the dump volume (jattach when the image has no JDK); the uploader sidecar ' +
        'ships it like any OOM dump. Prints the key to expect; --wait polls until it is stored.',
    )
    .argument('<pod>', 'pod name')
    .option('-n, --namespace <namespace>', "namespace of the pod (default: kubectl's current)")
    .option('-c, --container <name>', 'the JVM container (default: the one that mounts the dump volume)')
    .option('--pid <pid>', 'the JVM pid inside the container, when it runs several JVMs', positiveInteger)
    .option('--wait', 'wait until the dump is stored in the bucket', false)
    .option('--timeout <seconds>', 'how long --wait waits', positiveInteger, 600)
    .action(
      async (
        pod: string,
        options: { namespace?: string; container?: string; pid?: number; wait: boolean; timeout: number },
      ) => {
        const { trigger } = await import('./trigger.ts');
        await trigger(pod, options, out);
      },
    );

  return program;
}
