// The `heapdump` command line: verbs, flags and help. Each verb's module (and the AWS SDK behind it) is
// loaded when the verb runs, so `--help` and `--version` start fast.
import { SIZE_CONVENTION } from '@kube-heapdump/hprof';
import { Command, Option } from 'commander';
import pkg from '../package.json' with { type: 'json' };
import { addAnalyzeVerb } from './analyze-verb.ts';
import {
  type FilterFlags,
  filtersOf,
  type Io,
  optionalStore,
  positiveInteger,
  withFilterFlags,
  withIncompleteFlag,
  withStoreFlags,
} from './cli-flags.ts';
import { setColour, wantsColour } from './format.ts';
import { addReportVerb } from './report-verb.ts';
import type { Store, StoreOptions } from './store.ts';
import { addStoreVerbs } from './store-verbs.ts';

export { positiveInteger } from './cli-flags.ts';

/** Text wrapped at `width` columns. */
function wrap(text: string, width = 100): string {
  const lines: string[] = [];
  for (const word of text.split(/\s+/)) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + word.length < width) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines.join('\n');
}

/** How shallow sizes are counted: under the verbs' --help, and after their output with --explain. */
const SIZES_HELP = `\n${wrap(`Sizes: ${SIZE_CONVENTION} All sizes are IEC units (1 MiB = 1024 KiB).`)}`;

const EXIT_CODES = `
Exit status: 0 done (inspect: the dump is complete; doctor: no problem found); 1 the store or kubectl failed,
the data is corrupt, inspect found the dump not complete, or doctor found a problem; 2 bad usage (unknown flag,
bad value, missing file or directory).
Colour on a terminal; NO_COLOR or --no-color turns it off, FORCE_COLOR on.`;

/** Builds the program; actions print through `io` and set the exit status through `io.setExit`. */
export function buildProgram(io: Io): Command {
  const { out } = io;
  const program = new Command('heapdump')
    .description(
      'Java heap dumps from Kubernetes, for the developers who need them. Verbs that read the bucket take ' +
        "the uploader's settings from flags or the same environment variables, and credentials from the AWS " +
        'SDK chain (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO, IRSA); read access is enough.',
    )
    .version(pkg.version, '-V, --version', 'print the version')
    .option('--no-color', 'no colour, even on a terminal (as NO_COLOR does)')
    .addHelpText('after', EXIT_CODES)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .hook('preAction', (cmd) => {
      setColour(wantsColour(cmd.opts<{ color: boolean }>().color, process.env, process.stdout.isTTY));
    });

  withStoreFlags(
    program
      .command('inspect')
      .description(
        'Print the verdict (complete, incomplete, invalid), header facts, totals and the classes with the most ' +
          'shallow bytes of a heap dump: a local file (.hprof, .hprof.gz, .hprof.zst) or, when no such file ' +
          'exists, the object with that key (streamed, not saved). Exit status 0 when complete, 1 when not.',
      )
      .argument('<file|key>', 'heap dump file, or object key')
      .option('--top <n>', 'how many classes and arrays to list', positiveInteger, 20)
      .option('--json', 'print the summary as JSON (the schema the uploader stores beside each dump)', false)
      .option('--explain', 'add how shallow sizes are counted', false)
      .addHelpText('after', SIZES_HELP),
  ).action(
    async (target: string, options: StoreOptions & { top: number; json: boolean; explain: boolean }) => {
      const { inspect } = await import('./inspect.ts');
      let store: Store | undefined;
      try {
        io.setExit(
          await inspect(target, options, out, async () => {
            store = await optionalStore(options);
            return store;
          }),
        );
      } finally {
        (store as Store | undefined)?.client.destroy();
      }
    },
  );

  addStoreVerbs(program, io, SIZES_HELP);
  addAnalyzeVerb(program, io);
  addReportVerb(program, io);

  withIncompleteFlag(
    withFilterFlags(
      withStoreFlags(
        program
          .command('diff')
          .description(
            'Which classes grew between two dumps: per class, instances and shallow bytes before -> after and ' +
              'the change, sorted by growth. Stored dumps are compared from their summaries (no download; ' +
              'only the classes a summary lists are known), local files are parsed in full. Retained bytes per ' +
              'class too when both sides were analysed: two stored dumps with the analysis reports stored beside ' +
              'them (<key>.report.json: their top classes only), or any two with --analyze.',
          )
          .argument('<old>', 'the earlier dump: a file, an object key, latest or latest~N')
          .argument('<new>', 'the later dump: likewise')
          .option('--top <n>', 'how many classes to list', positiveInteger, 20)
          .option('--json', 'print the comparison as JSON', false)
          .option(
            '--analyze',
            'analyse both dumps now (as heapdump analyze: a file read twice, a key streamed twice; stored reports ' +
              'unused) to compare retained bytes of every class, sorted by their growth',
            false,
          ),
      ),
      false,
    ),
  ).action(
    async (
      before: string,
      after: string,
      options: StoreOptions &
        FilterFlags & { top: number; json: boolean; includeIncomplete: boolean; analyze: boolean },
    ) => {
      const { diffCommand } = await import('./diff-command.ts');
      await diffCommand(before, after, { ...options, filters: filtersOf(options) }, io);
    },
  );

  program
    .command('redact')
    .description(
      'Write a redacted copy of a heap dump (.hprof, .hprof.gz, .hprof.zst; written uncompressed, mode 0600), ' +
        'as the uploader redacts with HEAPDUMP_REDACT: same size and layout, same verdict and class ' +
        'histogram. strings: every byte[] and char[] becomes *, String coder and hash kept consistent; ' +
        'primitives: every primitive array element and field value zeroed. Both: every symbol the dump does not ' +
        "use as a name (the code's string literals) becomes *. Exit status 1 when the input is not " +
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
          io.err(
            `heapdump: ${input} stops being HPROF (${r.failure}); everything after that point is zeroed`,
          );
          io.setExit(1);
        }
      },
    );

  program
    .command('trigger')
    .description(
      'Dump the heap of a running JVM without restarting it: through the memory watchdog agent in the JVM ' +
        '(a request in the dump volume, written by kubectl exec into the uploader container: no JDK tools needed) ' +
        'or, without the agent, kubectl exec into the app container, jcmd <pid> GC.heap_dump (jattach when the ' +
        'image has no JDK); the uploader sidecar ships it like any OOM dump. Prints the key to expect; --wait ' +
        'polls until it is stored.',
    )
    .argument('<pod>', 'pod name')
    .option('-n, --namespace <namespace>', "namespace of the pod (default: kubectl's current)")
    .option('-c, --container <name>', 'the JVM container (default: the one that mounts the dump volume)')
    .option('--pid <pid>', 'the JVM pid inside the container, when it runs several JVMs', positiveInteger)
    .option('--wait', 'wait until the dump is stored in the bucket', false)
    .option('--timeout <seconds>', 'how long --wait waits', positiveInteger, 600)
    .option(
      '--thread-dump',
      "print a thread dump instead (through the memory watchdog's agent; no JDK tools needed)",
      false,
    )
    .action(
      async (
        pod: string,
        options: {
          namespace?: string;
          container?: string;
          pid?: number;
          wait: boolean;
          timeout: number;
          threadDump: boolean;
        },
      ) => {
        const { trigger } = await import('./trigger.ts');
        await trigger(pod, options, out);
      },
    );

  program
    .command('doctor')
    .description(
      "Why a pod has, or has no, heap dump: the app container's last termination (exit 3 after " +
        'ExitOnOutOfMemoryError: a dump is expected; OOMKilled/137: the kernel killed the JVM first, so none ' +
        "can exist), the uploader's state and last errors, the dump volume's use against its size limit, and " +
        'dumps not yet shipped. Reads the pod through kubectl (KUBECTL, else kubectl on PATH).',
    )
    .argument('<pod>', 'pod name')
    .option('-n, --namespace <namespace>', "namespace of the pod (default: kubectl's current)")
    .option('--json', 'print the findings as JSON', false)
    .action(async (pod: string, options: { namespace?: string; json: boolean }) => {
      const { doctor } = await import('./doctor.ts');
      io.setExit(await doctor(pod, options, out));
    });

  return program;
}
