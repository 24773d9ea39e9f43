// (f) `heapdump trigger` of a JVM with no JDK tools on its PATH (a distroless JRE): the request goes through
// the memory watchdog's agent, written into the dump volume by `node` in the uploader container; nothing is
// exec'd in the app container. Everything real but the cluster hop (the stand-in kubectl of trigger.test.ts).
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zstdDecompressSync } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { analyzeStream } from '@kube-heapdump/hprof';
import { FIXTURE_CLASS, fixtureClasspath } from '../../../test/support/java.ts';
import { RUN_SOURCE } from '../../../test/support/node.ts';
import type { SimulatedPod } from '../../../test/support/pod-simulator.ts';
import { run } from '../../../test/support/processes.ts';
import { type S3Fixture, startS3Fixture } from '../../../test/support/s3-fixture.ts';
import { UPLOADER_MAIN } from '../../../test/support/uploader.ts';
import { JDKS } from '../../../test/support/watchdog-pod.ts';
import { uploaderImage } from '../../heapdump/src/image.ts';
import { kubectlCalls } from './fake-kubectl.ts';
import { startTriggerPod } from './trigger-pod.ts';

const cli = join(import.meta.dirname, '../src/main.ts');
const JRE_IMAGE = 'registry.example.com/sim/distroless-jre:1.0';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

for (const jdk of JDKS) {
  describe(`heapdump trigger without jcmd, through the agent (${jdk.name})`, () => {
    let fixture: S3Fixture;
    let dir: string;
    let pod: SimulatedPod;
    let env: NodeJS.ProcessEnv;
    const alphas = 43_210;

    before(async () => {
      fixture = await startS3Fixture({ buckets: ['team-dumps'] });
      dir = await mkdtemp(join(tmpdir(), 'kh-trigger-agent-'));
      ({ pod, env } = await startTriggerPod({
        dir,
        endpoint: fixture.server.endpoint,
        image: JRE_IMAGE,
        images: {
          // A JRE alone: java by its path, nothing else on PATH (no jcmd, no jattach, no shell tools).
          [JRE_IMAGE]: {
            entrypoint: [join(jdk.home, 'bin/java')],
            env: { CLASSPATH: await fixtureClasspath(), PATH: '/nonexistent' },
          },
          [uploaderImage()]: { entrypoint: [process.execPath, ...RUN_SOURCE, UPLOADER_MAIN] },
        },
        alphas,
        metricsPort: await freePort(),
      }));
    });
    after(async () => {
      await pod?.stop();
      await fixture?.close();
      await rm(dir, { recursive: true, force: true });
    });

    async function execs(): Promise<string[][]> {
      return (await kubectlCalls(dir)).filter((a) => a[0] === 'exec');
    }

    it('heap dump: through the agent, shipped with its evidence, the JVM still running', async () => {
      const r = await run(
        process.execPath,
        [...RUN_SOURCE, cli, 'trigger', pod.name, '-n', 'shop', '--wait', '--timeout', '60'],
        env,
        90_000,
      );
      assert.equal(r.code, 0, r.stderr);
      const [written, , stored] = r.stdout.trim().split('\n');
      assert.match(written ?? '', /: \S+\/dumps\/heapdump-ondemand-\d{8}T\d{6}Z\.hprof$/);
      const key = /^stored: s3:\/\/team-dumps\/(\S+) \(.+, complete\)$/.exec(stored ?? '')?.[1];
      assert.ok(key, r.stdout);
      for (const args of await execs()) assert.equal(args[args.indexOf('-c') + 1], 'heapdump-uploader');
      const get = (k: string) =>
        fixture.client().send(new GetObjectCommand({ Bucket: 'team-dumps', Key: k }));
      const bytes = zstdDecompressSync(Buffer.from(await (await get(key)).Body!.transformToByteArray()));
      const analyzed = await analyzeStream([bytes], 'none', { top: 100 });
      assert.equal(analyzed.verdict, 'complete');
      assert.equal(analyzed.topClasses.find((c) => c.name === FIXTURE_CLASS.alpha)?.instances, alphas);
      const summary = JSON.parse(await (await get(`${key}.summary.json`)).Body!.transformToString());
      assert.equal(summary.evidence.trigger, 'on-demand');
      // Its own cgroup's figures (this pod runs without memory limits: -1).
      assert.equal(typeof summary.evidence.container.workingSetBytes, 'number');
      assert.ok(pod.pid('app'), 'the JVM still runs');
    });

    it('--thread-dump: printed, the file gone from the volume', async () => {
      const r = await run(
        process.execPath,
        [...RUN_SOURCE, cli, 'trigger', pod.name, '-n', 'shop', '--thread-dump'],
        env,
        60_000,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^"main" #\d+ prio=5$/m);
      assert.match(r.stdout, /\tat (app\/\/)?HeapFixture\.main\(/);
      assert.match(r.stdout, /"kube-heapdump-watchdog"/);
      const left = (await readdir(join(dir, 'dumps'))).filter((f) => f.startsWith('threaddump-'));
      assert.deepEqual(left, []);
      for (const args of await execs()) assert.equal(args[args.indexOf('-c') + 1], 'heapdump-uploader');
    });
  });
}
