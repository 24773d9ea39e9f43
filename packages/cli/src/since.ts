// `--since`: a duration back from now, or a date.
import { UsageError } from './errors.ts';

/** `7d`, `24h`, `30m`, or an ISO date/time, as the earliest start time. */
export function parseSince(text: string, now = new Date()): Date {
  const m = /^(\d+)([smhdw])$/.exec(text);
  if (m) {
    const seconds = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return new Date(now.getTime() - Number(m[1]) * seconds * 1000);
  }
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) {
    throw new UsageError(`--since "${text}" is not a duration (7d, 24h, 30m) or a date (2026-11-28T07:00Z)`);
  }
  return date;
}
