// Human-readable output for terminals: IEC sizes (the contract's humanBytes), aligned tables with a total row, control characters in
// names escaped (names come from dumps and keys, which anyone who can write to the volume chooses), and
// colour for verdicts when the output is a terminal.

import { humanBytes as iec } from '@kube-heapdump/contract';

/** IEC size; `?` for a value that is not a size (from a malformed summary). */
export function humanBytes(n: number): string {
  return Number.isFinite(n) ? iec(n) : '?';
}

export function thousands(n: number): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US') : '?';
}

/** `+1,234` / `-5` / `0`: a change. */
export function signed(n: number, show: (n: number) => string = thousands): string {
  return n > 0 ? `+${show(n)}` : n < 0 ? `-${show(-n)}` : show(0);
}

/**
 * A name as it can be shown safely: C0 and C1 control characters, DEL and the bidirectional overrides
 * become escapes (`\x1b`, `\u202e`), so a class or file name cannot move the cursor, recolour or hide text.
 */
export function printable(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
  });
}

let colourOn = false;

/**
 * Whether to colour: never with --no-color or NO_COLOR (https://no-color.org), always with FORCE_COLOR,
 * else when the output is a terminal.
 */
export function wantsColour(flag: boolean, env: NodeJS.ProcessEnv, isTTY: boolean | undefined): boolean {
  if (!flag || (env.NO_COLOR ?? '') !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return isTTY === true && env.TERM !== 'dumb';
}

export function setColour(on: boolean): void {
  colourOn = on;
}

const SGR = { green: 32, yellow: 33, red: 31, bold: 1, dim: 2 } as const;

export function paint(text: string, style: keyof typeof SGR): string {
  return colourOn ? `\u001b[${SGR[style]}m${text}\u001b[0m` : text;
}

/** A verdict as printed everywhere: complete in green, incomplete in yellow, invalid in red. */
export function verdictText(verdict: string | undefined, text: string = verdict ?? '?'): string {
  if (verdict === 'complete') return paint(text, 'green');
  if (verdict === 'incomplete') return paint(paint(text, 'yellow'), 'bold');
  if (verdict === 'invalid') return paint(paint(text, 'red'), 'bold');
  return paint(text, 'dim');
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the SGR sequences paint() writes
const SGR_SEQUENCE = /\u001b\[[0-9;]*m/g;

function width(s: string): number {
  return s.replace(SGR_SEQUENCE, '').length;
}

/**
 * Columns padded to their widest cell; `rightAligned` says which columns are right-aligned. A `total` row is
 * set off from the rows by a rule, as `jmap -histo` prints its Total.
 */
export function table(
  header: string[],
  rows: string[][],
  rightAligned: ReadonlySet<number> = new Set(),
  total?: string[],
): string {
  const all = total ? [...rows, total] : rows;
  const widths = header.map((h, i) => Math.max(width(h), ...all.map((r) => width(r[i] ?? ''))));
  const pad = (c: string, i: number) => {
    const fill = ' '.repeat(Math.max(0, widths[i]! - width(c)));
    return rightAligned.has(i) ? fill + c : c + fill;
  };
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : pad(c, i)))
      .join('  ')
      .trimEnd();
  const lines = [line(header), ...rows.map(line)];
  if (total)
    lines.push(
      line(header.map((_, i) => (i === header.length - 1 ? '' : '-'.repeat(widths[i]!)))),
      line(total),
    );
  return lines.join('\n');
}
