// Durations on the command line (`--since`, `--expires`): a whole number and one unit letter.
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 } as const;
export type DurationUnit = keyof typeof UNIT_SECONDS;

/** `90s`, `30m`, `24h`, `7d`, `2w` in seconds, for the units a flag takes; undefined when the text is none. */
export function durationSeconds(text: string, units: readonly DurationUnit[]): number | undefined {
  const m = /^(\d+)([a-z])$/.exec(text);
  if (!m || !(units as readonly string[]).includes(m[2] as string)) return undefined;
  return Number(m[1]) * UNIT_SECONDS[m[2] as DurationUnit];
}
