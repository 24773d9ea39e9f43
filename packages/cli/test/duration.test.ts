// The one duration parser behind `--since` and `--expires` (duration.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { durationSeconds } from '../src/duration.ts';

test('a whole number and one of the units the flag takes', () => {
  assert.equal(durationSeconds('45s', ['s']), 45);
  assert.equal(durationSeconds('2m', ['m']), 120);
  assert.equal(durationSeconds('3h', ['h']), 10_800);
  assert.equal(durationSeconds('1d', ['d']), 86_400);
  assert.equal(durationSeconds('2w', ['w']), 1_209_600);
});

test('a unit the flag does not take, or no duration at all, is undefined', () => {
  assert.equal(durationSeconds('2w', ['s', 'm', 'h', 'd']), undefined);
  for (const text of ['', '5', 'd', '1.5h', '-1h', '1H', '1h ', '10x']) {
    assert.equal(durationSeconds(text, ['s', 'm', 'h', 'd', 'w']), undefined, text);
  }
});
