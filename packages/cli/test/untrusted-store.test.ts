// What the bucket holds is input: summaries anyone with write access could have put there (huge, not JSON,
// malformed, nested past any stack; forged sizes), dumps without a summary or incomplete, and a cluster that
// does not answer. Each gets one line and the rest goes on.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { developerEnv } from '../../../test/support/developer-env.ts';
import { RUN_SOURCE } from '../../../test/support/node.ts';
import { run } from '../../../test/support/processes.ts';
import { DEFAULT_CREDENTIAL } from '../../../test/support/s3/server.ts';
import { type S3Fixture, startS3Fixture } from '../../../test/support/s3-fixture.ts';
import { FAKE_KUBECTL } from './fake-kubectl.ts';

const cli = join(import.meta.dirname, '../src/main.ts');
const keyOf = (pod: string, second: number) =>
  `heapdumps/shop/orders/${pod}/20261207T1010${String(second).padStart(2, '0')}Z-0a1b2c${String(second).padStart(2, '0')}-java_pid1.hprof`;

describe('heapdump on a store holding what the uploader would not write', () => {
  let fixture: S3Fixture;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const heapdump = (...args: string[]) => run(process.execPath, [...RUN_SOURCE, cli, ...args], env, 60_000);
  /** A 100-byte dump object and, unless `summary` is undefined, its summary with that body and metadata. */
  async function put(key: string, summary?: { body: string; verdict?: string; size?: string }) {
    const c = fixture.client();
    await c.send(new PutObjectCommand({ Bucket: 'dumps', Key: key, Body: Buffer.alloc(100) }));
    if (!summary) return;
    const metadata: Record<string, string> = {};
    if (summary.verdict) metadata.verdict = summary.verdict;
    if (summary.size) metadata['original-size'] = summary.size;
    await c.send(
      new PutObjectCommand({
        Bucket: 'dumps',
        Key: `${key}.summary.json`,
        Body: summary.body,
        Metadata: metadata,
      }),
    );
  }

  before(async () => {
    fixture = await startS3Fixture();
    dir = await mkdtemp(join(tmpdir(), 'kh-untrusted-'));
    env = developerEnv({
      home: dir,
      credential: DEFAULT_CREDENTIAL,
      bucket: 'dumps',
      endpoint: fixture.server.endpoint,
    });
    await put(keyOf('complete', 1), { body: '{}', verdict: 'complete', size: '1000' });
    await put(keyOf('incomplete', 2), { body: '{}', verdict: 'incomplete', size: '500' });
    await put(keyOf('pending', 3));
    await put(keyOf('forged', 4), { body: '{}', verdict: 'complete', size: '99999999999999999999999999' });
    await put(keyOf('huge', 5), { body: `"${'x'.repeat(5 * 2 ** 20)}"`, verdict: 'complete', size: '1' });
    await put(keyOf('fields', 6), {
      body: JSON.stringify({
        verdict: 'complete',
        dump: 5,
        topClasses: [{ name: 'A', instances: 'x', bytes: 8 }],
      }),
    });
    await put(keyOf('text', 7), { body: 'password=hunter2' });
    await put(keyOf('nested', 8), { body: `${'['.repeat(200_000)}${']'.repeat(200_000)}` });
  });
  after(async () => {
    await fixture?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('list: every dump counts in the total row; an impossible size is unknown; one dump is "1 dump"', async () => {
    const r = await heapdump('list', '--app', 'orders');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    const forged = lines.find((l) => l.includes('/forged '));
    assert.match(forged ?? '', /orders\/forged\s+\?\s+100 B\s+complete\s/);
    const total = lines.at(-1) ?? '';
    // Sizes known: 1000 + 500 + 1 bytes; four summaries say none (or an impossible one): a lower bound.
    const m = /^total\s+8 dumps\s+>= 1\.47 KiB\s+800 B\s+(.+)$/.exec(total);
    assert.ok(m, total);
    assert.deepEqual(m[1]?.split(', ').sort(), ['1 incomplete', '1 no summary', '3 ?', '3 complete']);
    const one = await heapdump('list', '--pod', 'complete');
    assert.match(
      one.stdout.trim().split('\n').at(-1) ?? '',
      /^total\s+1 dump\s+1000 B\s+100 B\s+1 complete$/,
    );
  });

  it('summary: a huge one is not read, one that is not JSON is refused, one line each, exit 1', async () => {
    const huge = await heapdump('summary', keyOf('huge', 5));
    assert.equal(huge.code, 1);
    assert.match(
      huge.stderr,
      /^heapdump: s3:\/\/dumps\/\S+ is larger than a summary can be \(4\.00 MiB\): not read\n$/,
    );
    const text = await heapdump('summary', keyOf('text', 7));
    assert.equal(text.code, 1);
    assert.match(
      text.stderr,
      /^heapdump: s3:\/\/dumps\/\S+\.summary\.json is malformed: not JSON \([^\n]+\)\n$/,
    );
  });

  it('summary: malformed fields are named on stderr and the rest is shown, --json included', async () => {
    const fields = await heapdump('summary', keyOf('fields', 6));
    assert.equal(fields.code, 0, fields.stderr);
    assert.match(
      fields.stderr,
      /^heapdump: note: s3:\/\/dumps\/\S+ is malformed: dump is not an object, timings is not an object, totals is not an object and 3 more; shown without them\n$/,
    );
    assert.match(fields.stdout, /^Verdict\s+complete/m);
    assert.match(fields.stdout, /\bA$/m);
    for (const flags of [[], ['--json']]) {
      const nested = await heapdump('summary', keyOf('nested', 8), ...flags);
      assert.equal(nested.code, 0, nested.stderr);
      assert.match(nested.stderr, /^heapdump: note: \S+ is malformed: the summary is not an object, /);
      assert.doesNotMatch(nested.stderr, /RangeError|TypeError|\n.+\n/);
    }
  });

  it("doctor and trigger without a cluster: one line with kubectl's reason", async () => {
    const log = join(dir, 'kubectl.log');
    await writeFile(join(dir, 'pods.json'), '{}');
    const fake = {
      KUBECTL: FAKE_KUBECTL,
      FAKE_KUBECTL_UNREACHABLE: '127.0.0.1:1',
      FAKE_KUBECTL_LOG: log,
      FAKE_KUBECTL_PODS: join(dir, 'pods.json'),
    };
    // And kubectl itself, when this machine has it: a kubeconfig naming a port nothing listens on.
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\n' +
        'contexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\nusers: [{name: u, user: {token: x}}]\n',
    );
    const real = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
    const withKubectl: NodeJS.ProcessEnv[] = [fake, ...(real ? [{ KUBECONFIG: kubeconfig }] : [])];
    for (const extra of withKubectl) {
      for (const verb of ['doctor', 'trigger']) {
        const r = await run(process.execPath, [...RUN_SOURCE, cli, verb, 'orders-1', '-n', 'shop'], {
          ...env,
          ...extra,
        });
        assert.equal(r.code, 1, `${verb}: ${r.stderr}`);
        assert.match(
          r.stderr,
          /^heapdump: kubectl get pod orders-1: The connection to the server 127\.0\.0\.1:1 was refused - did you specify the right host or port\?\n$/,
          `${verb} (${extra.KUBECONFIG ? 'kubectl' : 'stand-in'})`,
        );
      }
    }
  });
});
