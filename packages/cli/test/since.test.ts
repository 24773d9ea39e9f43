// `--since` in-process (since.ts): a duration back from now in any unit, or a date; anything else one usage error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../src/errors.ts';
import { parseSince } from '../src/since.ts';

const now = new Date('2026-12-01T12:00:00Z');

test('durations count back from now, weeks included', () => {
  assert.equal(parseSince('90s', now).toISOString(), '2026-12-01T11:58:30.000Z');
  assert.equal(parseSince('30m', now).toISOString(), '2026-12-01T11:30:00.000Z');
  assert.equal(parseSince('24h', now).toISOString(), '2026-11-30T12:00:00.000Z');
  assert.equal(parseSince('7d', now).toISOString(), '2026-11-24T12:00:00.000Z');
  assert.equal(parseSince('2w', now).toISOString(), '2026-11-17T12:00:00.000Z');
});

test('a date is taken as it is', () => {
  assert.equal(parseSince('2026-11-28T07:00Z', now).toISOString(), '2026-11-28T07:00:00.000Z');
});

test('anything else is one usage error naming the flag', () => {
  for (const bad of ['7y', 'yesterday', '1.5x', 'soon']) {
    assert.throws(
      () => parseSince(bad, now),
      (e: unknown) => e instanceof UsageError && e.message.startsWith(`--since "${bad}" is not a duration`),
      bad,
    );
  }
});
