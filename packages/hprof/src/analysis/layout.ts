// How the JVM lays objects out, for shallow sizes. HPROF stores no headers and stores references at the
// identifier size, so the sizes are rebuilt: 64-bit HotSpot with compressed oops and class pointers (the
// default below 32 GiB heaps) has 12-byte headers and 4-byte references; without, 16 and 8. Arrays add a
// 4-byte length; their data starts at 16 (compressed) or 24 (not). Objects are 8-aligned. Field gaps the
// JVM's layout leaves (a long after a 12-byte header) are not modelled: header + field bytes, rounded up.

export interface Layout {
  idSize: 4 | 8;
  compressedOops: boolean;
  headerBytes: number;
  refBytes: number;
  arrayBaseBytes: number;
  object(fieldBytes: number): number;
  array(elementBytes: number, length: number): number;
  /** One line for the report. */
  convention: string;
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

/** Address span below which a 64-bit JVM uses compressed oops by default (32 GiB). */
export const COMPRESSED_OOPS_LIMIT = 32 * 1024 * 1024 * 1024;

export function layoutFor(idSize: 4 | 8, compressedOops: boolean, inferred: string): Layout {
  const headerBytes = idSize === 4 ? 8 : compressedOops ? 12 : 16;
  const refBytes = idSize === 4 || compressedOops ? 4 : 8;
  const arrayBaseBytes = align8(headerBytes + 4);
  const how =
    idSize === 4
      ? '32-bit JVM: 8-byte headers, 4-byte references'
      : compressedOops
        ? 'compressed oops and class pointers: 12-byte headers, 4-byte references'
        : 'no compressed oops: 16-byte headers, 8-byte references';
  return {
    idSize,
    compressedOops: idSize === 8 && compressedOops,
    headerBytes,
    refBytes,
    arrayBaseBytes,
    object: (fieldBytes) => align8(headerBytes + fieldBytes),
    array: (elementBytes, length) => align8(arrayBaseBytes + elementBytes * length),
    convention:
      `shallow bytes as a 64-bit HotSpot lays objects out with ${how} (${inferred}); arrays: ${arrayBaseBytes}-byte ` +
      'header with the length; objects rounded up to 8; fields at their sizes without alignment gaps; a class ' +
      'object counts its static fields. Retained bytes: the shallow bytes of the objects only reachable through ' +
      'it, strong references only (Reference.referent of weak, soft, phantom and finalizer references excluded).',
  };
}

/** Compressed oops when the objects' addresses span less than 32 GiB (the heap fits in what 32-bit offsets reach). */
export function inferCompressedOops(
  minAddress: number,
  maxAddress: number,
): { compressed: boolean; why: string } {
  const span = maxAddress - minAddress;
  const gib = (span / 1024 ** 3).toFixed(1);
  return span < COMPRESSED_OOPS_LIMIT
    ? { compressed: true, why: `inferred: the objects' addresses span ${gib} GiB, under 32 GiB` }
    : { compressed: false, why: `inferred: the objects' addresses span ${gib} GiB, over 32 GiB` };
}
