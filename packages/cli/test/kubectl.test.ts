// kubectl.ts in-process, through the stand-in kubectl (test/fixtures/kubectl): the argument lists the CLI's
// verbs send, and the one-line reason a failed call gives.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { StoreError, UsageError } from '../src/errors.ts';
import { getPod, kubectlExec, kubectlReason } from '../src/kubectl.ts';
import { FAKE_KUBECTL, kubectlCalls } from './fake-kubectl.ts';

const VARS = ['KUBECTL', 'FAKE_KUBECTL_PODS', 'FAKE_KUBECTL_LOG', 'FAKE_KUBECTL_UNREACHABLE'] as const;

describe('kubectl', () => {
  let dir: string;
  const saved = Object.fromEntries(VARS.map((v) => [v, process.env[v]]));
  const pod = {
    metadata: { name: 'shop-1', namespace: 'shop' },
    spec: { containers: [{ name: 'app' }, { name: 'heapdump-uploader' }] },
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cli-kubectl-'));
    await writeFile(join(dir, 'pods.json'), JSON.stringify({ 'shop/shop-1': pod }));
    process.env.KUBECTL = FAKE_KUBECTL;
    process.env.FAKE_KUBECTL_PODS = join(dir, 'pods.json');
    process.env.FAKE_KUBECTL_LOG = join(dir, 'kubectl.log');
  });
  beforeEach(async () => {
    delete process.env.FAKE_KUBECTL_UNREACHABLE;
    await writeFile(join(dir, 'kubectl.log'), '');
  });
  after(async () => {
    for (const v of VARS) {
      if (saved[v] === undefined) delete process.env[v];
      else process.env[v] = saved[v];
    }
    await rm(dir, { recursive: true, force: true });
  });

  const calls = () => kubectlCalls(dir);

  it('kubectlExec runs the command in the named container of the pod', async () => {
    const r = await kubectlExec('shop', 'shop-1', 'app', [
      process.execPath,
      '-e',
      'process.stdout.write("hi")',
    ]);
    assert.deepEqual(r, { code: 0, stdout: 'hi', stderr: '' });
    assert.deepEqual(await calls(), [
      [
        'exec',
        '-n',
        'shop',
        'shop-1',
        '-c',
        'app',
        '--',
        process.execPath,
        '-e',
        'process.stdout.write("hi")',
      ],
    ]);
  });

  it('kubectlExec in a container the pod does not have fails with kubectl’s line', async () => {
    const r = await kubectlExec('shop', 'shop-1', 'nope', ['true']);
    assert.equal(r.code, 1);
    assert.equal(kubectlReason(r), 'error: unable to exec in shop/shop-1 container nope');
  });

  it('getPod parses the pod; a missing one is a StoreError naming it', async () => {
    assert.deepEqual(await getPod('shop-1', 'shop'), pod);
    await assert.rejects(getPod('gone', 'shop'), (e) => {
      assert.ok(e instanceof StoreError);
      assert.equal(e.message, 'kubectl get pod gone: Error from server (NotFound): pods "gone" not found');
      return true;
    });
    assert.deepEqual((await calls()).at(-1), ['get', 'pod', 'gone', '-n', 'shop', '-o', 'json']);
  });

  it('kubectlReason gives kubectl’s own last line, not client-go’s log lines before it', async () => {
    process.env.FAKE_KUBECTL_UNREACHABLE = '127.0.0.1:6443';
    const r = await kubectlExec('shop', 'shop-1', 'app', ['true']);
    assert.equal(r.code, 1);
    assert.equal(
      kubectlReason(r),
      'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?',
    );
  });

  it('kubectlReason falls back to the last log line’s error, then to the exit code', () => {
    const klog =
      'E1207 11:47:22.286370    7370 memcache.go:265] "Unhandled Error" err="couldn\'t get current server API group list"';
    assert.equal(
      kubectlReason({ code: 1, stdout: '', stderr: `${klog}\n${klog}\n` }),
      '"couldn\'t get current server API group list"',
    );
    assert.equal(kubectlReason({ code: 7, stdout: '', stderr: '' }), 'exit 7');
  });

  it('a kubectl that cannot run is a UsageError saying how to fix it', async () => {
    process.env.KUBECTL = join(dir, 'none');
    try {
      await assert.rejects(kubectlExec('shop', 'shop-1', 'app', ['true']), (e) => {
        assert.ok(e instanceof UsageError);
        assert.equal(e.message, 'cannot run kubectl (ENOENT): install it or set KUBECTL');
        return true;
      });
    } finally {
      process.env.KUBECTL = FAKE_KUBECTL;
    }
  });
});
