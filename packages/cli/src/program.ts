// The `heapdump` command line: verbs, flags and help.
import { Command, InvalidArgumentError } from 'commander';
import { inspect } from './inspect.ts';

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError(`"${value}" is not a positive integer.`);
  return n;
}

/** Builds the program; actions set `process.exitCode` through `setExit`. */
export function buildProgram(out: (s: string) => void, setExit: (code: number) => void): Command {
  const program = new Command('heapdump')
    .description('Java heap dumps from Kubernetes, for the developers who need them.')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('inspect')
    .description(
      'Print the verdict (complete, incomplete, invalid), header facts, totals and the classes with the most ' +
        'shallow bytes of a heap dump file (.hprof, .hprof.gz, .hprof.zst). Exit status 0 when complete, 1 when not.',
    )
    .argument('<file>', 'heap dump file')
    .option('--top <n>', 'how many classes to list', positiveInteger, 20)
    .option('--json', 'print the summary as JSON (the schema the uploader stores beside each dump)', false)
    .action(async (file: string, options: { top: number; json: boolean }) => {
      setExit(await inspect(file, options, out));
    });

  return program;
}
