// `heapdump url --expires` in-process (share.ts): seconds from 1s to 7 days, the units a presigned URL takes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../src/errors.ts';
import { parseExpiry } from '../src/share.ts';

test('durations in seconds, up to the 7 days SigV4 allows', () => {
  assert.equal(parseExpiry('90s'), 90);
  assert.equal(parseExpiry('30m'), 1800);
  assert.equal(parseExpiry('1h'), 3600);
  assert.equal(parseExpiry('7d'), 604_800);
});

test('weeks are not a unit here, and the range is 1s to 7d', () => {
  const usage = (pattern: RegExp) => (e: unknown) => e instanceof UsageError && pattern.test(e.message);
  assert.throws(() => parseExpiry('1w'), usage(/^--expires "1w" is not a duration like 30m, 1h or 7d$/));
  assert.throws(() => parseExpiry('1h30m'), usage(/is not a duration/));
  assert.throws(() => parseExpiry('0s'), usage(/^--expires "0s" must be from 1s to 7d$/));
  assert.throws(() => parseExpiry('8d'), usage(/must be from 1s to 7d$/));
});
