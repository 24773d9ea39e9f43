// What the part-production tests share: every plan of a generator with the bytes its body sends.
import { createHash } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import type { PartPlan } from '../src/parts.ts';

export const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('base64');

export async function collect(gen: AsyncGenerator<PartPlan>): Promise<{ plan: PartPlan; bytes: Buffer }[]> {
  const out = [];
  for await (const plan of gen) out.push({ plan, bytes: await buffer(plan.body()) });
  return out;
}
