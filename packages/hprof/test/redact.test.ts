// Redaction on real JDK dumps of a JVM holding known secrets: same size and layout, same summary, no secret
// left, whatever the chunking; and on input that stops being HPROF.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURE_LITERALS, findText, fixtureSecrets, HeldJvm } from '../../../test/support/java.ts';
import { HprofParser } from '../src/parser.ts';
import { type ActiveRedactMode, HprofRedactor } from '../src/redact.ts';
import { summarize } from '../src/summary.ts';
import { SymbolUses } from '../src/symbol-uses.ts';
import { HprofWriter, sampleDump } from './synthetic.ts';

const SEED = '7f3a9c21';
const secrets = fixtureSecrets(SEED);

/** `bytes` redacted in chunks, keeping the symbols `keepSymbols` (by default: those `bytes` uses as names). */
function redacted(
  bytes: Buffer,
  mode: ActiveRedactMode,
  chunk = 1 << 20,
  keepSymbols = usedSymbols(bytes),
): Buffer {
  const out = Buffer.from(bytes);
  const r = new HprofRedactor(mode, { keepSymbols });
  for (let at = 0; at < out.length; at += chunk) r.push(out.subarray(at, Math.min(out.length, at + chunk)));
  assert.equal(r.failure, undefined);
  return out;
}

function summaryOf(bytes: Buffer) {
  const p = new HprofParser();
  p.push(bytes);
  const { bytes: _b, ...rest } = summarize(p, 1000);
  return rest;
}

function usedSymbols(bytes: Buffer, chunk = 1 << 20): Set<number> {
  const uses = new SymbolUses();
  for (let at = 0; at < bytes.length; at += chunk) uses.push(bytes.subarray(at, at + chunk));
  assert.equal(uses.failure, undefined);
  return uses.ids;
}

/** The String objects' values as MAT reads them: each String's byte[] with its coder. */
function leaks(bytes: Buffer): string[] {
  const found = secrets.texts.flatMap((t) => {
    const how = findText(bytes, t);
    return how ? [`${t} (${how})`] : [];
  });
  if (bytes.includes(secrets.pin)) found.push('the long');
  return found;
}

describe('redaction of a real dump', () => {
  let dir: string;
  let dump: Buffer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kh-redact-'));
    const jvm = await HeldJvm.start({ alphas: 2000, betas: 300, gammas: 100, alphaArrays: 3 }, [
      `-Dsecrets=${SEED}`,
    ]);
    try {
      await jvm.dump(join(dir, 'secrets.hprof'));
    } finally {
      await jvm.close();
    }
    dump = await readFile(join(dir, 'secrets.hprof'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('the unredacted dump holds every secret (so the checks below can fail)', () => {
    assert.equal(leaks(dump).length, secrets.texts.length + 1, leaks(dump).join(', '));
  });

  it('strings: no byte[] or char[] content left, String shows stars; size, records and histogram unchanged', () => {
    const out = redacted(dump, 'strings');
    assert.equal(out.length, dump.length);
    assert.deepEqual(leaks(out), ['the long'], 'strings leaves primitive fields');
    assert.deepEqual(summaryOf(out), summaryOf(dump));
    assert.equal(summaryOf(out).verdict, 'complete');
    assert.ok(out.includes(Buffer.from('*'.repeat(`dbpw-${SEED}`.length))));
  });

  it('primitives: field values gone too; references, ids, lengths and names kept', () => {
    const out = redacted(dump, 'primitives');
    assert.equal(out.length, dump.length);
    assert.deepEqual(leaks(out), []);
    assert.deepEqual(summaryOf(out), summaryOf(dump));
    // Class and field names live in UTF8 records, kept as they are.
    assert.ok(out.includes(Buffer.from('HeapFixture$Vault')));
    assert.ok(out.includes(Buffer.from('credentials')));
  });

  it('gives the same bytes however the input is chunked', () => {
    const keepSymbols = usedSymbols(dump, 4096 + 3);
    assert.deepEqual(usedSymbols(dump, 7), keepSymbols);
    for (const mode of ['strings', 'primitives'] as const) {
      const whole = redacted(dump, mode, dump.length, keepSymbols);
      for (const chunk of [1, 7, 4096 + 3]) {
        // One byte at a time over a few hundred KiB is enough to cross every kind of header (and symbols).
        const part = dump.subarray(0, chunk === 1 ? 300_000 : dump.length);
        const how = `${mode} by ${chunk}`;
        assert.ok(redacted(part, mode, chunk, keepSymbols).equals(whole.subarray(0, part.length)), how);
      }
    }
  });

  it('the walk for names stops at the first heap sub-record that is not a class dump, with every use known', () => {
    const early = new SymbolUses();
    const whole = new SymbolUses({ whole: true });
    for (let at = 0; at < dump.length; at += 4096) {
      early.push(dump.subarray(at, at + 4096));
      whole.push(dump.subarray(at, at + 4096));
    }
    assert.ok(early.namesKnown && whole.namesKnown);
    // HotSpot's order: a few MB of symbols, classes, frames and class dumps, then the heap.
    assert.ok(early.namesKnownAt > 0 && early.namesKnownAt < 8 << 20, `${early.namesKnownAt}`);
    assert.equal(whole.lateUses, 0);
    assert.deepEqual(early.ids, whole.ids);
    assert.ok(early.ids.size > 1000);
  });

  it('both modes blank the literals of the code (symbols), keeping every name the dump uses', () => {
    for (const literal of FIXTURE_LITERALS) assert.ok(findText(dump, literal), literal);
    const keepSymbols = usedSymbols(dump);
    for (const mode of ['strings', 'primitives'] as const) {
      // Every symbol no record uses is blanked whole, name-like or not.
      const out = redacted(dump, mode, 1 << 20, keepSymbols);
      for (const literal of [...FIXTURE_LITERALS, 'hunter2', 'SUPERSECRET', 'postgresql'])
        assert.equal(findText(out, literal), undefined, `${mode}: ${literal}`);
      assert.equal(out.length, dump.length);
      assert.deepEqual(summaryOf(out), summaryOf(dump));
      for (const name of ['HeapFixture$Vault', 'credentials', 'HeapFixture.java', '([Ljava/lang/String;)V'])
        assert.ok(out.includes(Buffer.from(name)), `${mode}: ${name} kept`);
    }
  });
});

describe('names used after the heap began (not the order HotSpot writes)', () => {
  // A writer that puts a LOAD_CLASS after an instance: its name is not known where the walk stops.
  const w = new HprofWriter(8);
  w.utf8(1, 'early/Name').utf8(2, 'late/Name').utf8(3, 'password=hunter2');
  w.loadClass(1, 100, 1);
  const dump = w
    .segment(w.classDump(100, 0, [], 0), w.instance(1000, 100, 0))
    .loadClass(2, 101, 2)
    .end()
    .toBuffer();

  it('the late name is counted, and blanked like a literal (never a literal kept)', () => {
    const early = new SymbolUses();
    const whole = new SymbolUses({ whole: true });
    early.push(dump);
    whole.push(dump);
    assert.ok(early.ids.has(1) && !early.ids.has(2) && whole.ids.has(2));
    assert.equal(whole.lateUses, 1);
    for (const mode of ['strings', 'primitives'] as const) {
      const out = redacted(dump, mode, 7, early.ids);
      assert.ok(out.includes(Buffer.from('early/Name')), mode);
      assert.ok(!out.includes(Buffer.from('late/Name')) && out.includes(Buffer.from('*********')), mode);
      assert.ok(!out.includes(Buffer.from('hunter2')), mode);
    }
  });
});

describe('redaction of hand-made records', () => {
  // 8-byte ids. String: value (ref), hash (int), coder (byte), hashIsZero (boolean): 14 field bytes.
  // Sub extends Base: Sub's flag (boolean), then Base's count (int) and ref: 13 field bytes, class first.
  const w = new HprofWriter(8);
  const names = ['java/lang/String', 'value', 'hash', 'coder', 'hashIsZero', 'flag', 'count', 'ref'];
  for (const [i, n] of names.entries()) w.utf8(i + 1, n);
  w.loadClass(1, 200, 1);
  const stringClass = w.classDump(
    200,
    0,
    [
      { nameId: 2, type: 2 },
      { nameId: 3, type: 10 },
      { nameId: 4, type: 8 },
      { nameId: 5, type: 4 },
    ],
    14,
  );
  const base = w.classDump(
    300,
    0,
    [
      { nameId: 7, type: 10 },
      { nameId: 8, type: 2 },
    ],
    12,
  );
  const sub = w.classDump(301, 300, [{ nameId: 6, type: 4 }], 13);
  const text = w.primitiveArray(900, 8, 5, 1);
  const chars = w.primitiveArray(901, 5, 3, 2);
  const ints = w.primitiveArray(902, 10, 2, 4);
  const str = w.instance(1000, 200, 14);
  const obj = w.instance(1001, 301, 13);
  const dump = w.segment(stringClass, base, sub, text, chars, ints, str, obj).end().toBuffer();
  const at = (b: Buffer) => dump.indexOf(b);
  const AB = 0xab;
  const staticValue = 1 + 8 + 4 + 8 + 5 * 8 + 4 + 2 + 2 + 8 + 1; // the class dump's one static int

  it('strings: byte[] and char[] become stars, String coder/hash/hashIsZero zeroed, the rest unchanged', () => {
    const out = redacted(dump, 'strings', 5);
    const content = (b: Buffer, n: number) => out.subarray(at(b) + b.length - n, at(b) + b.length);
    assert.deepEqual([...content(text, 5)], [0x2a, 0x2a, 0x2a, 0x2a, 0x2a]);
    assert.deepEqual([...content(chars, 6)], [0, 0x2a, 0, 0x2a, 0, 0x2a]);
    assert.deepEqual([...content(ints, 8)], [1, 1, 1, 1, 1, 1, 1, 1]);
    assert.deepEqual([...content(str, 14)], [...Array(8).fill(AB), 0, 0, 0, 0, 0, 0]);
    assert.deepEqual([...content(obj, 13)], Array(13).fill(AB));
    assert.equal(out.readUInt32BE(at(base) + staticValue), 7);
  });

  it('primitives: every primitive value zeroed, references kept, superclass fields after the class', () => {
    const out = redacted(dump, 'primitives', 3);
    const content = (b: Buffer, n: number) => out.subarray(at(b) + b.length - n, at(b) + b.length);
    for (const [b, n] of [
      [text, 5],
      [chars, 6],
      [ints, 8],
    ] as const)
      assert.ok(content(b, n).every((x) => x === 0));
    assert.deepEqual([...content(str, 14)], [...Array(8).fill(AB), ...Array(6).fill(0)]);
    assert.deepEqual([...content(obj, 13)], [0, 0, 0, 0, 0, ...Array(8).fill(AB)]);
    for (const cd of [stringClass, base, sub]) assert.equal(out.readUInt32BE(at(cd) + staticValue), 0);
    // Outside the values, nothing changed.
    const diff = [...out].flatMap((b, i) => (b !== dump[i] ? [i] : []));
    assert.equal(diff.length, 5 + 6 + 8 + 6 + 5 + 3 /* each static 7 -> 0: one byte */);
  });
});

describe('redaction of input that is not HPROF', () => {
  it('zeroes everything from where the input stops being a dump', () => {
    const good = sampleDump(8);
    const bad = Buffer.concat([
      good.subarray(0, good.length - 9),
      Buffer.from([0x77, 1, 2, 3, 4, 0, 0, 0, 2, 9, 9]),
    ]);
    const keepSymbols = new Set<number>();
    const r = new HprofRedactor('strings', { keepSymbols });
    const out = Buffer.from(bad);
    r.push(out);
    assert.match(r.failure ?? '', /unknown record tag 0x77 at offset \d+/);
    assert.ok(out.subarray(good.length - 9).every((b) => b === 0));
    const foreign = Buffer.from('root:$6$salt$hash:19000:0:99999:7:::\n');
    const f = new HprofRedactor('primitives', { keepSymbols });
    f.push(foreign);
    assert.ok(foreign.every((b) => b === 0));
    // Shorter than a header, and in pieces: not held back as a header still to come.
    const short = new HprofRedactor('strings', { keepSymbols });
    const pieces = [Buffer.from('JAVA'), Buffer.from(' pw=hunter2')];
    for (const piece of pieces) short.push(piece);
    assert.equal(pieces[0]!.toString(), 'JAVA');
    assert.ok(pieces[1]!.every((b) => b === 0));
  });
});
