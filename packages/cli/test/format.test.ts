// format.ts in-process: names made safe for a terminal, when to colour, and the tables every verb prints.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { stripVTControlCharacters } from 'node:util';
import {
  humanBytes,
  paint,
  printable,
  setColour,
  signed,
  table,
  thousands,
  verdictText,
  wantsColour,
} from '../src/format.ts';

describe('printable', () => {
  it('escapes C0 and C1 controls, DEL and the bidirectional overrides; leaves other text alone', () => {
    assert.equal(printable('\u001b[31mred\u0007'), '\\x1b[31mred\\x07');
    assert.equal(printable('a\nb\tc\u007f\u0085'), 'a\\x0ab\\x09c\\x7f\\x85');
    assert.equal(printable('evil\u202etxt.hprof\u2066'), 'evil\\u202etxt.hprof\\u2066');
    assert.equal(printable('com/example/Ünïcode$Inner[]'), 'com/example/Ünïcode$Inner[]');
  });
});

describe('numbers', () => {
  it('sizes and counts; what is not a number is shown as ?', () => {
    assert.equal(humanBytes(512), '512 B');
    assert.equal(humanBytes(1536), '1.50 KiB');
    assert.equal(humanBytes(Number.NaN), '?');
    assert.equal(thousands(1234567), '1,234,567');
    assert.equal(thousands(Number.POSITIVE_INFINITY), '?');
    assert.deepEqual([signed(1500), signed(-5), signed(0)], ['+1,500', '-5', '0']);
    assert.equal(signed(-2048, humanBytes), '-2.00 KiB');
  });
});

describe('colour', () => {
  afterEach(() => setColour(false));

  it('never with --no-color or NO_COLOR, always with FORCE_COLOR, else on a terminal that is not dumb', () => {
    assert.equal(wantsColour(false, { FORCE_COLOR: '1' }, true), false);
    assert.equal(wantsColour(true, { NO_COLOR: '1', FORCE_COLOR: '1' }, true), false);
    assert.equal(wantsColour(true, { NO_COLOR: '' }, true), true, 'an empty NO_COLOR does not count');
    assert.equal(wantsColour(true, { FORCE_COLOR: '1' }, false), true);
    assert.equal(wantsColour(true, { FORCE_COLOR: '0' }, false), false);
    assert.equal(wantsColour(true, {}, undefined), false);
    assert.equal(wantsColour(true, { TERM: 'dumb' }, true), false);
  });

  it('paints only when colour is on; verdicts by their meaning', () => {
    assert.equal(paint('x', 'red'), 'x');
    assert.equal(verdictText('complete'), 'complete');
    setColour(true);
    assert.equal(paint('x', 'red'), '\u001b[31mx\u001b[0m');
    assert.equal(verdictText('complete'), '\u001b[32mcomplete\u001b[0m');
    assert.equal(verdictText('invalid'), '\u001b[1m\u001b[31minvalid\u001b[0m\u001b[0m');
    assert.equal(verdictText(undefined), '\u001b[2m?\u001b[0m');
  });
});

describe('table', () => {
  afterEach(() => setColour(false));

  it('pads columns to their widest cell (colour not counted), right-aligns those asked, sets off a total', () => {
    setColour(true);
    const text = table(
      ['size', 'verdict', 'key'],
      [
        ['1 KiB', verdictText('complete'), 'a'],
        ['10.0 MiB', 'incomplete', 'bb'],
      ],
      new Set([0]),
      ['10.0 MiB', '', '2 dumps'],
    );
    assert.equal(
      stripVTControlCharacters(text),
      [
        '    size  verdict     key',
        '   1 KiB  complete    a',
        '10.0 MiB  incomplete  bb',
        '--------  ----------',
        '10.0 MiB              2 dumps',
      ].join('\n'),
    );
  });
});
