// Uncompressed bytes of a dump for each analysis pass: a file opened once per pass, or any stream of stored
// bytes (gzip and zstd decompressed on the fly, as `inspect` reads them).
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Compression } from '@kube-heapdump/contract';
import { detectCompression } from '../file.ts';
import { createZstdMultiFrameDecompress } from '../zstd-frames.ts';

/** The uncompressed bytes of `stored`, compressed as `compression` says. */
export function decompressed(stored: Readable, compression: Compression): AsyncIterable<Uint8Array> {
  if (compression === 'none') return stored;
  const d = compression === 'gzip' ? createGunzip() : createZstdMultiFrameDecompress();
  stored.on('error', (err) => d.destroy(err));
  stored.pipe(d);
  return d;
}

/** A pass source over a local dump file, its compression told by its first bytes. */
export async function fileSource(path: string): Promise<() => AsyncIterable<Uint8Array>> {
  const handle = await open(path, 'r');
  const head = Buffer.alloc(4);
  try {
    await handle.read(head, 0, 4, 0);
  } finally {
    await handle.close();
  }
  const compression = detectCompression(head);
  if (compression !== 'none')
    return () => decompressed(createReadStream(path, { highWaterMark: 1 << 20 }), compression);
  return () => reread(path);
}

/** A raw file in one reused 1 MiB buffer: the walker copies what it keeps, so no chunk is allocated per read. */
async function* reread(path: string): AsyncGenerator<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) return;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}
