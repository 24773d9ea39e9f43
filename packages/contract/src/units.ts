// The one unit system of everything people read (the CLI's output, the uploader's notifications): IEC.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Bytes in IEC units (1 KiB = 1024 B): `512 B`, `4.57 MiB`, `113.4 MiB`. */
export function humanBytes(n: number): string {
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const sign = n < 0 ? '-' : '';
  return u === 0 ? `${n} B` : `${sign}${v.toFixed(v < 10 ? 2 : 1)} ${UNITS[u]}`;
}
