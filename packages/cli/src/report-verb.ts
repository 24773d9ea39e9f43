// `heapdump report <key|latest>`: the analysis the cluster stored beside a dump (README, "Analysis in the
// cluster"), without downloading the dump.
import type { Command } from 'commander';
import { type Io, positiveInteger, type RefFlags, resolveRef, withRefFlags, withStore } from './cli-flags.ts';

export function addReportVerb(program: Command, io: Io): void {
  withRefFlags(
    program
      .command('report')
      .description(
        'The analysis stored beside a dump by the analysis in the cluster (<key>.report.json): leak ' +
          'suspects, dominators, retained by class, as analyze prints them; or why there is none ' +
          '(too-large, failed).',
      )
      .argument('<key|latest>', 'object key, latest or latest~N')
      .option('--top <n>', 'rows of the dominator and class tables', positiveInteger, 20)
      .option('--json', 'print the stored report as it is (schema kube-heapdump/analysis-report/v1)', false),
  ).action(async (ref: string, options: RefFlags & { top: number; json: boolean }) => {
    const { fetchReport, renderReport } = await import('./report.ts');
    const { UsageError } = await import('./errors.ts');
    const { printable } = await import('./format.ts');
    await withStore(options, async (store) => {
      const resolved = await resolveRef(store, ref, options, io);
      const report = await fetchReport(store, resolved.key);
      if (!report)
        throw new UsageError(
          `no report for ${printable(resolved.key)} (yet): is analysis enabled, and has its Job finished? ` +
            '`heapdump analyze` reads the dump from here instead',
        );
      io.out(
        options.json ? JSON.stringify(report, null, 2) : renderReport(resolved.key, report, options.top),
      );
    });
  });
}
