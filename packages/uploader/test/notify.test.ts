// Notifications from the real uploader: a core/v1 Event on the pod, posted to the stand-in API server
// (test/support/fake-api-server.ts: loopback HTTPS, its certificate as the ServiceAccount's ca.crt, the bearer
// token's Role checked, the body checked against the Kubernetes schema); and a Slack-compatible webhook to a
// local receiver. A failing API server and webhook never fail or hold up the upload.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Event } from 'kubernetes-models/v1/Event';
import { type ApiRequest, FakeApiServer } from '../../../test/support/fake-api-server.ts';
import { HeldJvm } from '../../../test/support/java.ts';
import { type S3Fixture, startS3Fixture } from '../../../test/support/s3-fixture.ts';
import { localUploaderEnv, UploaderProcess } from '../../../test/support/uploader.ts';

const UID = '6b1f3c5e-2a4d-4f7e-9c1b-0123456789ab';

type Received = ApiRequest;

const bodyOf = async (req: IncomingMessage) => {
  let text = '';
  for await (const chunk of req) text += chunk;
  return JSON.parse(text) as Record<string, unknown>;
};

const listen = async (server: Server) => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
};

describe('notifications when a dump is stored', () => {
  let fixture: S3Fixture;
  let dir: string;
  let sa: string;
  let dump: Buffer;
  let api: FakeApiServer;
  let token: string;
  /** The requests the API server got (its own record). */
  let events: Received[];
  const hooks: Received[] = [];
  let hookStatus = 200;
  let hookPort: number;
  let hook: Server;

  before(async () => {
    fixture = await startS3Fixture();
    dir = await mkdtemp(join(tmpdir(), 'kh-notify-'));
    api = await FakeApiServer.start(dir);
    events = api.requests;
    // The uploader's Role (the component renders the same): create Events in its namespace.
    sa = await api.serviceAccount('uploader', [
      { namespace: 'prod', rules: [{ apiGroups: [''], resources: ['events'], verbs: ['create'] }] },
    ]);
    token = (await readFile(join(sa, 'token'), 'utf8')).trim();
    await writeFile(join(sa, 'namespace'), 'prod');
    hook = createHttpServer(async (req, res) => {
      hooks.push({ path: `${req.method} ${req.url}`, authorization: undefined, body: await bodyOf(req) });
      res.writeHead(hookStatus);
      res.end(hookStatus === 200 ? 'ok' : 'no');
    });
    hookPort = await listen(hook);
    const jvm = await HeldJvm.start({ alphas: 20_000, betas: 10, gammas: 10, alphaArrays: 2 });
    try {
      await jvm.dump(join(dir, 'source.hprof'));
    } finally {
      await jvm.close();
    }
    dump = await readFile(join(dir, 'source.hprof'));
  });
  after(async () => {
    await api?.close();
    hook?.close();
    await fixture?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function ship(name: string, bytes: Buffer) {
    const podDir = join(dir, name);
    await mkdir(podDir);
    await writeFile(join(podDir, 'java_pid1.hprof'), bytes);
    const uploader = new UploaderProcess(
      localUploaderEnv(fixture, podDir, {
        POD_UID: UID,
        HEAPDUMP_QUIET_SECONDS: '1',
        ...api.env(),
        HEAPDUMP_SERVICE_ACCOUNT_DIR: sa,
        HEAPDUMP_WEBHOOK_URL: `http://127.0.0.1:${hookPort}/services/T000/B000/secret-part`,
      }),
      ['--once'],
    );
    const started = Date.now();
    const code = await uploader.exited;
    return { uploader, code, seconds: (Date.now() - started) / 1000 };
  }

  it('a stored dump: HeapDumpStored on the pod (schema-valid, bearer token, its namespace) and the webhook', async () => {
    const { uploader, code } = await ship('complete', dump);
    assert.equal(code, 0, uploader.stderr);
    const stored = await uploader.waitForLog((l) => l.msg === 'dump stored');
    assert.equal(events.length, 1);
    const e = events[0]!;
    assert.equal(e.path, 'POST /api/v1/namespaces/prod/events');
    assert.equal(e.authorization, `Bearer ${token}`);
    new Event(e.body as ConstructorParameters<typeof Event>[0]).validate();
    assert.equal(e.body.reason, 'HeapDumpStored');
    assert.equal(e.body.type, 'Normal');
    assert.deepEqual(e.body.involvedObject, {
      apiVersion: 'v1',
      kind: 'Pod',
      name: 'shop-7d9f-abcde',
      namespace: 'prod',
      uid: UID,
    });
    const message = String(e.body.message);
    assert.ok(message.includes(String(stored.key)), message);
    assert.match(message, /verdict complete; top class \S+ [\d.]+ [KM]iB\./);
    assert.match(message, / [\d.]+ MiB \([\d.]+ [KM]iB zstd\), /);

    assert.equal(hooks.length, 1);
    assert.equal(hooks[0]?.path, 'POST /services/T000/B000/secret-part');
    assert.deepEqual(Object.keys(hooks[0]!.body), ['text']);
    assert.equal(hooks[0]?.body.text, message);
    assert.equal(
      uploader.count((l) => l.msg === 'notification sent'),
      2,
    );
    // The webhook's URL is a secret: never in the log.
    assert.ok(!uploader.logs.some((l) => JSON.stringify(l).includes('secret-part')));
  });

  it('an incomplete dump: HeapDumpIncomplete, a Warning', async () => {
    events.length = 0;
    hooks.length = 0;
    const { uploader, code } = await ship('incomplete', dump.subarray(0, Math.floor(dump.length / 2)));
    assert.equal(code, 0, uploader.stderr);
    assert.equal(events[0]?.body.reason, 'HeapDumpIncomplete');
    assert.equal(events[0]?.body.type, 'Warning');
    new Event(events[0]!.body as ConstructorParameters<typeof Event>[0]).validate();
    assert.match(String(hooks[0]?.body.text), /^Heap dump shipped INCOMPLETE: /);
  });

  it('an API server that refuses and a webhook that fails: the upload is stored anyway; the webhook is retried', async () => {
    events.length = 0;
    hooks.length = 0;
    api.failWith = 403;
    hookStatus = 500;
    try {
      const { uploader, code, seconds } = await ship('failing', dump);
      assert.equal(code, 0, uploader.stderr);
      await uploader.waitForLog((l) => l.msg === 'dump stored');
      assert.equal(events.length, 1, 'a 403 is not retried');
      assert.ok(uploader.logs.some((l) => l.msg.startsWith('notification refused') && l.channel === 'event'));
      assert.equal(hooks.length, 4, 'the webhook is tried 4 times');
      assert.equal(
        uploader.count((l) => l.msg === 'notification failed' && l.channel === 'webhook'),
        4,
      );
      assert.ok(seconds < 30, `--once waits a bounded time for notifications (${seconds} s)`);
    } finally {
      api.failWith = undefined;
      hookStatus = 200;
    }
  });
});
