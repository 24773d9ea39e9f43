// `heapdump analyze <file|key|latest>`: what holds the memory. A local file is read twice (once per pass); a
// stored object is streamed twice (two GETs, decompressed on the fly), never written to disk.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { type HeapAnalysis, parseQuantity } from '@kube-heapdump/contract';
import { analyzeHeap, decompressed, fileSource, HeapWalkError } from '@kube-heapdump/hprof';
import { HTML_TREE, renderAnalysisHtml } from './analyze-html.ts';
import { renderAnalysis } from './analyze-report.ts';
import { type DumpFilters, resolveKey, storedCompression } from './catalog.ts';
import { describeStoreError, StoreError, UsageError } from './errors.ts';
import { humanBytes, printable } from './format.ts';
import type { Store } from './store.ts';

export interface AnalyzeFlags {
  top: number;
  json: boolean;
  /** Also write the page here. */
  html?: string;
  maxMemory?: string;
  compressedOops?: boolean;
  filters: DumpFilters;
  includeIncomplete: boolean;
}

/** `--max-memory 4Gi` (a Kubernetes quantity) in bytes. */
export function maxMemoryBytes(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const bytes = parseQuantity(text);
  if (bytes === undefined || bytes <= 0)
    throw new UsageError(`--max-memory ${printable(text)} is not a size like 4Gi or 512Mi`);
  return bytes;
}

/** A pass source over a stored object: one GET per pass. */
export function objectSource(store: Store, key: string): () => AsyncIterable<Uint8Array> {
  return () =>
    (async function* () {
      const { GetObjectCommand } = await import('@aws-sdk/client-s3');
      let res: GetObjectCommandOutput;
      try {
        res = await store.client.send(new GetObjectCommand({ Bucket: store.bucket, Key: key }));
      } catch (err) {
        throw describeStoreError(err, `s3://${store.bucket}/${printable(key)}`, store.endpoint);
      }
      yield* decompressed(res.Body as Readable, storedCompression(store, key, res.Metadata));
    })();
}

/** Progress on stderr, one line rewritten in place: only when stderr is a terminal. */
function progressLine(err: NodeJS.WriteStream): ((phase: string, bytes: number) => void) | undefined {
  if (!err.isTTY) return undefined;
  const started = Date.now();
  return (phase, bytes) => {
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    err.write(`\r\u001b[Kanalyze: ${phase}${bytes > 0 ? `, ${humanBytes(bytes)} read` : ''} (${seconds} s)`);
  };
}

export async function analyze(
  target: string,
  flags: AnalyzeFlags,
  out: (s: string) => void,
  store: () => Promise<Store | undefined>,
): Promise<void> {
  const maxMemory = maxMemoryBytes(flags.maxMemory);
  if (flags.html !== undefined && resolve(flags.html) === resolve(target))
    throw new UsageError(`--html ${printable(flags.html)} is the dump itself`);
  let open: () => AsyncIterable<Uint8Array>;
  let name = target;
  if (existsSync(target)) {
    try {
      open = await fileSource(target);
    } catch (err) {
      throw new UsageError(`cannot read ${printable(target)}: ${(err as Error).message}`);
    }
  } else {
    const s = await store();
    if (!s) throw new UsageError(`cannot read ${printable(target)}: no such file`);
    const resolved = await resolveKey(s, target, flags.filters, flags.includeIncomplete);
    if (resolved.notice) process.stderr.write(`heapdump: note: ${resolved.notice}\n`);
    name = resolved.key;
    open = objectSource(s, resolved.key);
  }
  const progress = progressLine(process.stderr);
  let analysis: HeapAnalysis;
  try {
    analysis = await analyzeHeap(open, {
      top: flags.top,
      ...(maxMemory !== undefined ? { maxMemoryBytes: maxMemory } : {}),
      ...(flags.compressedOops !== undefined ? { compressedOops: flags.compressedOops } : {}),
      ...(progress ? { progress } : {}),
      ...(flags.html !== undefined ? { dominatorTree: HTML_TREE } : {}),
    });
  } catch (err) {
    if (err instanceof HeapWalkError) throw new StoreError(`${printable(name)}: ${err.message}`);
    throw err;
  } finally {
    if (progress) process.stderr.write('\r\u001b[K');
  }
  if (flags.html !== undefined) {
    try {
      // Mode 0600: the page holds strings of the dump, and dumps hold secrets.
      await writeFile(flags.html, renderAnalysisHtml(name, analysis), { mode: 0o600 });
    } catch (err) {
      throw new UsageError(`cannot write ${printable(flags.html)}: ${(err as Error).message}`);
    }
  }
  // The tree is the page's; the JSON stays what --json always printed.
  const { dominatorTree: _tree, ...printed } = analysis;
  out(flags.json ? JSON.stringify(printed, null, 2) : renderAnalysis(name, analysis, flags.top));
}
