// The `analyze` verb's flags and help (its work is in analyze.ts, loaded when it runs).
import { type Command, Option } from 'commander';
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
import type { Store, StoreOptions } from './store.ts';

type AnalyzeOptions = StoreOptions &
  FilterFlags & {
    top: number;
    json: boolean;
    html?: string;
    maxMemory?: string;
    compressedOops?: boolean;
    includeIncomplete: boolean;
  };

export function addAnalyzeVerb(program: Command, io: Io): void {
  withIncompleteFlag(
    withFilterFlags(
      withStoreFlags(
        program
          .command('analyze')
          .description(
            'What holds the memory: leak suspects (an object, or a class, retaining 10% of the heap or more, as ' +
              'Eclipse MAT finds them) with the point where the memory accumulates and the shortest path of ' +
              'strong references from a GC root to it; the largest dominators; retained size per package, class loader and class; ' +
              'duplicate strings and their waste (the start of their contents is printed: dumps hold secrets); ' +
              'under-filled collections (HashMap, HashSet, ArrayList, Vector, ArrayDeque: size against capacity); the ' +
              'threads with their stacks, the objects each frame holds and what only a stack keeps alive. Reads a ' +
              'local file (.hprof, .hprof.gz, .hprof.zst) twice, or streams a stored object twice (two downloads, ' +
              'nothing written to disk). Objects no strong reference reaches are counted apart.',
          )
          .argument('<file|key|latest>', 'heap dump file, object key, latest or latest~N')
          .option('--top <n>', 'rows of the dominator and class tables', positiveInteger, 20)
          .option('--json', 'print the analysis as JSON (schema kube-heapdump/heap-analysis/v2)', false)
          .option(
            '--html <file>',
            'also write the analysis as one self-contained HTML page (no network): the dominator tree to expand ' +
              '(the 25 largest children per node, 4000 nodes in all), suspects and tables; mode 0600, replaced if there',
          )
          .option(
            '--max-memory <size>',
            'refuse, after the first pass, a dump whose analysis would need more memory than this (4Gi, 512Mi)',
          )
          .addOption(
            new Option(
              '--compressed-oops',
              'count sizes with compressed oops (12-byte headers, 4-byte references); default: inferred from the dump',
            ),
          )
          .addOption(
            new Option('--no-compressed-oops', 'count sizes without (16-byte headers, 8-byte references)'),
          ),
      ),
      false,
    ),
  ).action(async (target: string, options: AnalyzeOptions) => {
    const { analyze } = await import('./analyze.ts');
    let store: Store | undefined;
    try {
      await analyze(
        target,
        {
          top: options.top,
          json: options.json,
          ...(options.html !== undefined ? { html: options.html } : {}),
          ...(options.maxMemory !== undefined ? { maxMemory: options.maxMemory } : {}),
          ...(options.compressedOops !== undefined ? { compressedOops: options.compressedOops } : {}),
          filters: filtersOf(options),
          includeIncomplete: options.includeIncomplete,
        },
        io.out,
        async () => {
          store = await optionalStore(options);
          return store;
        },
      );
    } finally {
      (store as Store | undefined)?.client.destroy();
    }
  });
}
