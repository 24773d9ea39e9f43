// Feeds a dump's stored bytes to the HPROF parser, through gunzip when the JVM gzipped the file
// (-XX:HeapDumpGzipLevel): shared by the follower's walk and the analysis.
import { createGunzip, type Gunzip } from 'node:zlib';
import { HprofParser, type Verdict } from '@kube-heapdump/hprof';

export class ParserFeed {
  readonly parser: HprofParser;
  private readonly gunzip: Gunzip | undefined;
  private gzipProblem: string | undefined;

  /** `inflated` sees what gunzip makes of a gzip file, in order. */
  constructor(options: { histogram: boolean; gzip: boolean; inflated?: (chunk: Buffer) => void }) {
    const parser = new HprofParser({ histogram: options.histogram });
    this.parser = parser;
    this.gunzip = options.gzip ? createGunzip() : undefined;
    const inflated = options.inflated;
    this.gunzip
      ?.on('data', (c: Buffer) => {
        inflated?.(c);
        parser.push(c);
      })
      .on('error', (err) => {
        this.gzipProblem = err.message;
      });
  }

  /** Takes the next stored bytes; the caller may reuse `chunk` once this resolves. */
  async push(chunk: Buffer): Promise<void> {
    // The parser copies what it keeps; gunzip keeps what it is given.
    if (!this.gunzip) this.parser.push(chunk);
    else if (!this.gunzip.write(Buffer.from(chunk))) await new Promise((r) => this.gunzip!.once('drain', r));
  }

  /** Stored bytes coming next that the parser would skip unseen (never inside gzip: those must be inflated). */
  get skippable(): number {
    return this.gunzip ? 0 : this.parser.skippable;
  }

  /** Passes over `n` (at most `skippable`) stored bytes without reading them. */
  skipUnread(n: number): void {
    this.parser.skipUnread(n);
  }

  /** Ends the input: the verdict on everything fed, a gzip stream cut short counting as incomplete. */
  async end(): Promise<{ verdict: Verdict; reason?: string }> {
    const gunzip = this.gunzip;
    if (gunzip) {
      await new Promise<void>((resolve) => {
        gunzip.once('end', resolve).once('error', () => resolve());
        gunzip.end();
      });
    }
    const v = this.parser.verdict();
    if (this.gzipProblem !== undefined && v.verdict === 'complete')
      return { verdict: 'incomplete', reason: `the gzip stream is not whole: ${this.gzipProblem}` };
    return v;
  }
}
