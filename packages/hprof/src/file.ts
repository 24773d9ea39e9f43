// Dumps from files and streams: detect compression by magic bytes, decompress on the fly, parse.
import { open } from 'node:fs/promises';
import { PassThrough, Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { Compression, HprofSummary } from '@kube-heapdump/contract';
import { HprofParser } from './parser.ts';
import { summarize } from './summary.ts';
import { createZstdMultiFrameDecompress } from './zstd-frames.ts';

/** Compression of a file from its first bytes (gzip 1f 8b, zstd 28 b5 2f fd); anything else is read raw. */
export function detectCompression(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

/** The stream that turns stored bytes back into the dump: gunzip, every zstd frame, or the bytes as they are. */
export function createDecompressor(compression: Compression): Transform {
  if (compression === 'gzip') return createGunzip();
  if (compression === 'zstd') return createZstdMultiFrameDecompress();
  return new PassThrough();
}

export interface AnalyzeOptions {
  /** How many classes `topClasses` keeps (default 20). */
  top?: number;
  /** Build the class histogram (default true); false only walks records for the verdict. */
  histogram?: boolean;
}

export interface AnalyzedDump extends HprofSummary {
  compression: Compression;
  /** Bytes of the file as stored (compressed size for .gz/.zst). */
  storedBytes: number;
}

/** Parses a dump from a stream of stored bytes (possibly compressed). Never rejects on bad content. */
export async function analyzeStream(
  source: Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  compression: Compression,
  options: AnalyzeOptions = {},
): Promise<AnalyzedDump> {
  const parser = new HprofParser({ histogram: options.histogram ?? true });
  let storedBytes = 0;
  let streamProblem: { verdict: 'incomplete' | 'invalid'; reason: string } | undefined;
  const count = async function* (src: AsyncIterable<Uint8Array>) {
    for await (const chunk of src) {
      storedBytes += chunk.length;
      yield chunk;
    }
  };
  const sink = async (src: AsyncIterable<Uint8Array>) => {
    for await (const chunk of src) parser.push(chunk);
  };
  const input = source instanceof Readable ? source : Readable.from(source);
  try {
    await pipeline(input, count, createDecompressor(compression), sink);
  } catch (err) {
    const message = (err as Error).message;
    streamProblem = /unexpected end|truncated|incomplete/i.test(message)
      ? {
          verdict: 'incomplete',
          reason: `the ${compression} stream is cut after ${storedBytes} stored bytes`,
        }
      : {
          verdict: 'invalid',
          reason: `${compression} data is corrupt after ${storedBytes} stored bytes: ${message}`,
        };
  }
  const summary = summarize(parser, options.top);
  if (streamProblem && summary.verdict !== 'invalid') Object.assign(summary, streamProblem);
  return { ...summary, compression, storedBytes };
}

/** Parses a dump file (`.hprof`, `.hprof.gz` from the JVM or gzip, `.hprof.zst`). */
export async function analyzeFile(path: string, options: AnalyzeOptions = {}): Promise<AnalyzedDump> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    await handle.read(head, 0, 4, 0);
    const stream = handle.createReadStream({ start: 0, highWaterMark: 1 << 20, autoClose: false });
    return await analyzeStream(stream, detectCompression(head), options);
  } finally {
    await handle.close();
  }
}
