// Decoder for `Content-Encoding: aws-chunked` bodies, as @aws-sdk/client-s3 sends streams:
//   <hex-size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;chunk-signature=<sig>]\r\n[<trailer>:<value>\r\n]*\r\n
// Signed chunks are verified as they complete; trailers are collected for the caller to check.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { errors, type S3Error } from './errors.ts';
import { type Credential, chunkStringToSign, sign, signaturesEqual } from './sigv4.ts';

export interface ChunkSigning {
  key: Buffer;
  amzDate: string;
  credential: Credential;
  seedSignature: string;
}

const MAX_LINE = 4096;
const CRLF = Buffer.from('\r\n');

type State = 'size' | 'data' | 'data-crlf' | 'trailer' | 'done';

export class AwsChunkedDecoder extends Transform {
  /** Trailer headers (lower-cased names) received after the last chunk. */
  readonly trailers = new Map<string, string>();
  private state: State = 'size';
  private line = Buffer.alloc(0);
  private remaining = 0;
  private chunkSignature = '';
  private chunkHash: Hash | undefined;
  private previousSignature: string;
  private readonly signing: ChunkSigning | undefined;

  constructor(signing?: ChunkSigning) {
    super({ highWaterMark: 1 << 20 });
    this.signing = signing;
    this.previousSignature = signing?.seedSignature ?? '';
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.consume(chunk);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    done(this.state === 'done' ? undefined : errors.incompleteBody());
  }

  private consume(buf: Buffer): void {
    let pos = 0;
    while (pos < buf.length) {
      switch (this.state) {
        case 'data': {
          const n = Math.min(this.remaining, buf.length - pos);
          const slice = buf.subarray(pos, pos + n);
          this.chunkHash?.update(slice);
          this.push(slice);
          this.remaining -= n;
          pos += n;
          if (this.remaining === 0) this.state = 'data-crlf';
          break;
        }
        case 'data-crlf': {
          const need = 2 - this.line.length;
          this.line = Buffer.concat([this.line, buf.subarray(pos, pos + need)]);
          pos += Math.min(need, buf.length - pos);
          if (this.line.length === 2) {
            if (!this.line.equals(CRLF)) throw malformed('chunk data not followed by CRLF');
            this.line = Buffer.alloc(0);
            this.finishChunk();
            this.state = 'size';
          }
          break;
        }
        case 'done':
          throw malformed('bytes after the final chunk');
        default: {
          const end = buf.indexOf(0x0a, pos);
          const upto = end < 0 ? buf.length : end + 1;
          this.line = Buffer.concat([this.line, buf.subarray(pos, upto)]);
          pos = upto;
          if (this.line.length > MAX_LINE) throw malformed('chunk header line too long');
          if (end >= 0) {
            const text = this.line.toString('latin1');
            this.line = Buffer.alloc(0);
            if (!text.endsWith('\r\n')) throw malformed('chunk header line not terminated by CRLF');
            this.onLine(text.slice(0, -2));
          }
        }
      }
    }
  }

  private onLine(text: string): void {
    if (this.state === 'trailer') {
      if (text === '') {
        this.state = 'done';
        return;
      }
      const colon = text.indexOf(':');
      if (colon <= 0) throw malformed(`bad trailer line "${text}"`);
      this.trailers.set(text.slice(0, colon).trim().toLowerCase(), text.slice(colon + 1).trim());
      return;
    }
    const [sizeText = '', ...exts] = text.split(';');
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText)) throw malformed(`bad chunk size "${sizeText}"`);
    const size = Number.parseInt(sizeText, 16);
    const sigExt = exts.find((e) => e.startsWith('chunk-signature='));
    if (this.signing) {
      if (!sigExt) throw malformed('signed payload chunk without chunk-signature');
      this.chunkSignature = sigExt.slice('chunk-signature='.length);
      this.chunkHash = createHash('sha256');
    }
    if (size === 0) {
      this.finishChunk();
      this.state = 'trailer';
    } else {
      this.remaining = size;
      this.state = 'data';
    }
  }

  private finishChunk(): void {
    if (!this.signing || !this.chunkHash) return;
    const s = this.signing;
    const expected = sign(
      s.key,
      chunkStringToSign(s.amzDate, s.credential, this.previousSignature, this.chunkHash.digest('hex')),
    );
    if (!signaturesEqual(expected, this.chunkSignature)) throw errors.signatureDoesNotMatch();
    this.previousSignature = expected;
    this.chunkHash = undefined;
  }
}

function malformed(what: string): S3Error {
  return errors.invalidRequest(`Malformed aws-chunked body: ${what}`);
}
