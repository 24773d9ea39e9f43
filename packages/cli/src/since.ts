// `--since`: a duration back from now, or a date.
import { durationSeconds } from './duration.ts';
import { UsageError } from './errors.ts';

/** `7d`, `24h`, `30m`, or an ISO date/time, as the earliest start time. */
export function parseSince(text: string, now = new Date()): Date {
  const seconds = durationSeconds(text, ['s', 'm', 'h', 'd', 'w']);
  if (seconds !== undefined) return new Date(now.getTime() - seconds * 1000);
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) {
    throw new UsageError(`--since "${text}" is not a duration (7d, 24h, 30m) or a date (2026-11-28T07:00Z)`);
  }
  return date;
}
