// The verbs that read the bucket: list, get, url, summary. Each states the verdict of the dump it acts on.
import type { Command } from 'commander';
import {
  type FilterFlags,
  filtersOf,
  type Io,
  positiveInteger,
  type RefFlags,
  resolveRef,
  withFilterFlags,
  withRefFlags,
  withStore,
  withStoreFlags,
} from './cli-flags.ts';
import type { StoreOptions } from './store.ts';

const REF = '<key|latest>';
const REF_HELP =
  'object key, latest (the newest complete dump matching the filters) or latest~N (N before it)';

export function addStoreVerbs(program: Command, io: Io, sizesHelp: string): void {
  const { out, err } = io;
  withFilterFlags(
    withStoreFlags(
      program
        .command('list')
        .description(
          'List the dumps in the bucket, newest first: time, namespace/app/pod, size, compression, verdict, ' +
            'key, and a total row.',
        )
        .option('--top <n>', 'only the newest n dumps', positiveInteger)
        .option('--json', 'print JSON instead of a table', false),
    ),
    true,
  ).action(async (options: StoreOptions & FilterFlags & { json: boolean; top?: number }) => {
    const { list } = await import('./list.ts');
    await withStore(options, (store) =>
      list(
        store,
        filtersOf(options),
        { json: options.json, ...(options.top ? { top: options.top } : {}) },
        out,
      ),
    );
  });

  withRefFlags(
    program
      .command('get')
      .description(
        'Download a dump, decompressed to .hprof (mode 0600: dumps hold secrets), and verify its SHA-256 ' +
          'against the summary. An interrupted download resumes where it stopped (the stored bytes are ' +
          'kept in <file>.download); corrupt stored data leaves nothing behind.',
      )
      .argument(REF, REF_HELP)
      .option('-o, --output <file>', 'where to write the dump (default <pod>-<time>-<file>.hprof)')
      .option('--force', 'overwrite the output file if it exists', false),
  ).action(async (ref: string, options: RefFlags & { output?: string; force: boolean }) => {
    const { verdictOf } = await import('./catalog.ts');
    const { get } = await import('./get.ts');
    const { humanBytes, printable, verdictText } = await import('./format.ts');
    await withStore(options, async (store) => {
      const resolved = await resolveRef(store, ref, options, io);
      const r = await get(store, resolved.key, {
        ...(options.output !== undefined ? { output: options.output } : {}),
        force: options.force,
        progress: Boolean(process.stderr.isTTY),
      });
      const verdict = verdictOf(r.facts);
      if (!resolved.notice && verdict !== 'complete') {
        err(`heapdump: note: ${printable(resolved.key)} is ${verdict}, not a complete dump`);
      }
      out(
        `${printable(r.path)}: ${humanBytes(r.bytes)}, ${verdictText(r.facts.verdict, verdict)}, sha256 ${r.sha256} ` +
          (r.verified ? 'verified' : 'NOT verified (the dump has no summary)') +
          (r.resumedFrom > 0 ? `, resumed after ${humanBytes(r.resumedFrom)} already downloaded` : ''),
      );
    });
  });

  withRefFlags(
    program
      .command('url')
      .description(
        'Print a presigned download link for a dump, for someone without credentials (the object must ' +
          'exist; its verdict goes to stderr).',
      )
      .argument(REF, REF_HELP)
      .option('--expires <duration>', 'how long the link works: 30m, 1h, 7d (at most 7d)', '1h'),
  ).action(async (ref: string, options: RefFlags & { expires: string }) => {
    const { parseExpiry, presignedUrl } = await import('./share.ts');
    const { summaryFacts, verdictOf } = await import('./catalog.ts');
    const { printable } = await import('./format.ts');
    const seconds = parseExpiry(options.expires);
    await withStore(options, async (store) => {
      const resolved = await resolveRef(store, ref, options, io);
      const link = await presignedUrl(store, resolved.key, seconds);
      const facts = resolved.facts ?? (await summaryFacts(store, resolved.key));
      err(`heapdump: ${printable(resolved.key)}: ${verdictOf(facts)}`);
      out(link);
    });
  });

  withRefFlags(
    program
      .command('summary')
      .description(
        'Print the summary the uploader stored beside a dump (verdict, pod, timings, top classes) without ' +
          'downloading the dump.',
      )
      .argument(REF, REF_HELP)
      .option('--top <n>', 'how many classes and arrays to list', positiveInteger, 20)
      .option('--json', 'print the stored summary JSON as is', false)
      .option('--explain', 'add how shallow sizes are counted', false)
      .addHelpText('after', sizesHelp),
  ).action(async (ref: string, options: RefFlags & { top: number; json: boolean; explain: boolean }) => {
    const { fetchSummary, renderFileSummary, renderStoredSummary } = await import('./stored-summary.ts');
    const { malformedNote } = await import('./summary-check.ts');
    await withStore(options, async (store) => {
      const resolved = await resolveRef(store, ref, options, io);
      const { summary, problems, text, where, otherKind } = await fetchSummary(store, resolved.key);
      if (problems.length > 0) io.err(`heapdump: note: ${malformedNote(where, problems)}`);
      // As stored: the text parsed as JSON, so it holds no raw control characters.
      if (options.json) out(text.trim());
      else if (otherKind !== undefined) out(renderFileSummary(summary, otherKind));
      else {
        out(
          renderStoredSummary(summary, options.top) +
            (options.explain ? `\n\nSizes: ${summary.sizeConvention}` : ''),
        );
      }
    });
  });
}
