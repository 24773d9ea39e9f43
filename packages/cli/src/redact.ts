// `heapdump redact <in> <out>`: what the uploader does with HEAPDUMP_REDACT, offline, with the same code
// (HprofRedactor): the output has the input's size and layout (decompressed, when the input is .gz/.zst),
// written 0600 like every dump. A first pass finds the symbols the dump uses as names (SymbolUses, which stops
// where HotSpot has written every name use) and every other one is blanked: the uploader reads the same way
// ahead of what it sends (uploader/src/symbol-scan.ts), so both give the same bytes.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, open, rm } from 'node:fs/promises';
import { type Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type ActiveRedactMode,
  createDecompressor,
  detectCompression,
  HprofRedactor,
  SymbolUses,
} from '@kube-heapdump/hprof';
import { UsageError } from './errors.ts';

export interface RedactResult {
  bytes: number;
  sha256: string;
  /** Where the input stopped being HPROF (everything after it was zeroed). */
  failure?: string;
}

export async function redactFile(
  input: string,
  output: string,
  options: { mode: ActiveRedactMode; force: boolean },
): Promise<RedactResult> {
  const head = Buffer.alloc(4);
  try {
    const fh = await open(input, 'r');
    try {
      await fh.read(head, 0, 4, 0);
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new UsageError(`cannot read ${input}: ${(err as Error).message}`);
  }
  const compression = detectCompression(head);
  const read = (): [Readable, ...Transform[]] => {
    const source = createReadStream(input, { highWaterMark: 1 << 20 });
    return [source, createDecompressor(compression)];
  };
  let sink: ReturnType<typeof createWriteStream>;
  try {
    sink = createWriteStream(output, { flags: options.force ? 'w' : 'wx', mode: 0o600 });
    await new Promise<void>((resolve, reject) => sink.once('open', () => resolve()).once('error', reject));
    await chmod(output, 0o600); // an overwritten file keeps its mode otherwise
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'EEXIST'
        ? `${output} exists (use --force to overwrite it)`
        : `cannot write ${output}: ${code}`,
    );
  }
  const uses = new SymbolUses();
  const sha = createHash('sha256');
  let bytes = 0;
  let redactor: HprofRedactor | undefined;
  try {
    const collect = new Writable({
      write(chunk: Buffer, _enc, done) {
        uses.push(chunk);
        done();
      },
    });
    await pipeline([...read(), collect]);
    redactor = new HprofRedactor(options.mode, { keepSymbols: uses.ids });
    const redacting = new Transform({
      transform(chunk: Buffer, _enc, done) {
        redactor!.push(chunk);
        sha.update(chunk);
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    await pipeline([...read(), redacting, sink]);
  } catch (err) {
    sink.destroy();
    await rm(output, { force: true });
    throw new UsageError(`cannot redact ${input}: ${(err as Error).message}`);
  }
  return {
    bytes,
    sha256: sha.digest('hex'),
    ...(redactor.failure !== undefined ? { failure: redactor.failure } : {}),
  };
}
