import { readFile } from 'node:fs/promises';
import { HprofRedactor, SymbolUses } from '@kube-heapdump/hprof';
import { HprofRedactor as Old } from './old-redact-tmp.ts';
const d = await readFile(process.argv[2]!);
const CH = 1 << 20;
const uses = new SymbolUses();
for (let i = 0; i < d.length; i += CH) uses.push(d.subarray(i, i + CH));
const b = Buffer.alloc(d.length);
const variants = {
  old: (m: 'strings' | 'primitives') => new Old(m),
  streaming: (m: 'strings' | 'primitives') => new HprofRedactor(m),
  keepSymbols: (m: 'strings' | 'primitives') => new HprofRedactor(m, { keepSymbols: uses.ids }),
};
for (const mode of ['strings', 'primitives'] as const) {
  const t: Record<string, number[]> = { old: [], streaming: [], keepSymbols: [] };
  for (let k = 0; k < 7; k++)
    for (const [name, make] of Object.entries(variants)) {
      d.copy(b);
      const s = performance.now();
      const r = make(mode);
      for (let i = 0; i < b.length; i += CH) r.push(b.subarray(i, i + CH));
      t[name]!.push(performance.now() - s);
    }
  for (const [name, xs] of Object.entries(t)) {
    xs.sort((x, y) => x - y);
    console.log(mode, name, `${(d.length / 1e6 / (xs[3]! / 1000)).toFixed(0)} MB/s median of 7 (min ${(d.length / 1e6 / (xs[0]! / 1000)).toFixed(0)})`);
  }
}
