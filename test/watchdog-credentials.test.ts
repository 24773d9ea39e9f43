// The memory watchdog gives the app container no way to the uploader's credentials. What can be checked
// here: the rendered pod (no shared process namespace, nothing of the uploader's mounted or referenced in the
// app container), and, with the mechanism on through a real threshold dump, every file the app container can
// see in the shared volume (the agent jar, requests, evidence, the uploader's upload state) never holds the
// key. What only a real kubelet shows (separate pid namespaces, so no /proc/<uploader>/environ) is not
// modelled by the simulator: every container here is a process of one user in one pid namespace.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { memoryCgroupUnavailable } from './support/memory-cgroup.ts';
import { installMocks } from './support/pulumi-mocks.ts';
import { DEFAULT_CREDENTIAL } from './support/s3/server.ts';
import { JDKS, runWatchdogCase } from './support/watchdog-pod.ts';

const unavailable = memoryCgroupUnavailable();
if (unavailable && process.env.CI === 'true') {
  throw new Error(`memory cgroups are needed under CI=true: ${unavailable}`);
}
const mocks = await installMocks({});

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) {
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  }
  return out;
}

test("with the watchdog on, the app container sees nothing of the uploader's credentials", {
  skip: unavailable || JDKS.length === 0,
}, async () => {
  const jdk = JDKS[0] as (typeof JDKS)[number];
  const r = await runWatchdogCase(
    {
      jdkHome: jdk.home,
      args: ['direct', '4', '100'],
      memory: '256Mi',
      javaToolOptions: '-Xmx32m -XX:MaxDirectMemorySize=1g',
    },
    mocks.registered,
  );
  const secrets = [DEFAULT_CREDENTIAL.accessKeyId, DEFAULT_CREDENTIAL.secretAccessKey].map((s) =>
    Buffer.from(s),
  );
  const seen = new Set<string>();
  const scan = async () => {
    for (const f of await files(r.volume)) {
      const bytes = await readFile(f).catch(() => undefined);
      if (!bytes) continue;
      seen.add(f.slice(r.volume.length + 1).replace(/\d{8}T\d{6}Z/, '<time>'));
      for (const s of secrets) assert.equal(bytes.includes(s), false, `${f} holds the uploader's key`);
    }
  };
  try {
    // The rendered pod: separate process namespaces, the app container without the uploader's env or mounts.
    const spec = r.spec as typeof r.spec & { shareProcessNamespace?: boolean };
    assert.notEqual(spec.shareProcessNamespace, true);
    const app = spec.containers.find((c) => c.name === 'app');
    assert.ok(app);
    assert.deepEqual(
      (app.env ?? [])
        .filter((e) => e.name.startsWith('AWS_') || e.valueFrom !== undefined)
        .map((e) => e.name),
      [],
    );
    assert.deepEqual(
      app.volumeMounts?.map((m) => m.name),
      ['heapdumps'],
    );

    // The volume, while the agent and the uploader work in it: scanned until the dump is stored.
    const poll = setInterval(() => void scan().catch(() => undefined), 100);
    await r.pod.waitForExits('app', 1, 180_000);
    await r.pod.waitFor(
      () => (r.logs.some((l) => l.msg === 'dump stored') ? true : undefined),
      120_000,
      'the dump stored',
    );
    clearInterval(poll);
    await scan();
    for (const kind of [
      '.kube-heapdump/agent.jar',
      'heapdump-threshold-<time>.hprof',
      'heapdump-threshold-<time>.hprof.evidence.json',
    ]) {
      assert.ok(seen.has(kind), `scanned ${kind}: ${[...seen].join(', ')}`);
    }
  } finally {
    await r.close();
  }
});
