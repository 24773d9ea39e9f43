// cli-flags.ts in-process: the flags the verbs share, what they parse to, and resolving <key|latest> for a
// verb on one stored dump (store-verbs.test.ts runs the verbs themselves).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command, InvalidArgumentError } from 'commander';
import {
  filtersOf,
  type Io,
  positiveInteger,
  type RefFlags,
  resolveRef,
  withFilterFlags,
  withRefFlags,
} from '../src/cli-flags.ts';
import type { Store } from '../src/store.ts';

/** Parses `argv` with `command`'s options and returns what the action is given. */
function parse(command: Command, argv: string[]): Record<string, unknown> {
  let got: Record<string, unknown> = {};
  command.exitOverride().action((...args: unknown[]) => {
    got = args.at(-2) as Record<string, unknown>;
  });
  command.parse(argv, { from: 'user' });
  return got;
}

describe('positiveInteger', () => {
  it('takes whole numbers from 1; anything else is commander’s invalid argument, naming the value', () => {
    assert.equal(positiveInteger('1'), 1);
    assert.equal(positiveInteger('250'), 250);
    for (const bad of ['0', '-3', '1.5', '1e3', 'ten', ''])
      assert.throws(
        () => positiveInteger(bad),
        (e: unknown) => {
          assert.ok(e instanceof InvalidArgumentError);
          assert.equal(e.message, `"${bad}" is not a positive integer.`);
          return true;
        },
      );
  });
});

describe('filter flags', () => {
  it('give only the filters set; --since is a time that many seconds ago', () => {
    assert.deepEqual(filtersOf({}), {});
    assert.deepEqual(filtersOf({ namespace: 'shop', pod: 'p-1' }), { namespace: 'shop', pod: 'p-1' });
    const before = Date.now();
    const since = filtersOf({ app: 'orders', since: '2h' });
    assert.equal(since.app, 'orders');
    const at = since.since?.getTime() ?? Number.NaN;
    assert.ok(at <= before - 7_200_000 + 1000 && at >= before - 7_200_000 - 1000, String(since.since));
  });

  it('--since is declared only where asked for', () => {
    const withSince = parse(withFilterFlags(new Command('list'), true), ['-n', 'shop', '--since', '1d']);
    assert.deepEqual(withSince, { namespace: 'shop', since: '1d' });
    assert.throws(
      () => parse(withFilterFlags(new Command('get'), false), ['--since', '1d']),
      /unknown option/,
    );
  });
});

describe('a verb on one stored dump', () => {
  it('withRefFlags: the store flags, the filters but --since, and --include-incomplete (off by default)', () => {
    const command = () => withRefFlags(new Command('get').argument('<ref>'));
    assert.deepEqual(
      parse(command(), [
        'latest',
        '--bucket',
        'dumps',
        '--prefix',
        'jvm/',
        '--endpoint',
        'http://127.0.0.1:9000',
        '--region',
        'r',
        '--path-style',
        '--app',
        'orders',
        '--include-incomplete',
      ]),
      {
        bucket: 'dumps',
        prefix: 'jvm/',
        endpoint: 'http://127.0.0.1:9000',
        region: 'r',
        pathStyle: true,
        app: 'orders',
        includeIncomplete: true,
      },
    );
    assert.deepEqual(parse(command(), ['latest']), { includeIncomplete: false });
    assert.throws(() => parse(command(), ['latest', '--since', '1d']), /unknown option/);
  });

  it('resolveRef: a key is itself, without asking the store or saying anything', async () => {
    const said: string[] = [];
    const io: Io = { out: () => {}, err: (s) => said.push(s), setExit: () => {} };
    const store = new Proxy({} as Store, {
      get: (_, name) => assert.fail(`the store was asked for ${String(name)}`),
    });
    const options: RefFlags = { includeIncomplete: false };
    assert.deepEqual(await resolveRef(store, 'jvm/shop/orders/p/x.hprof.zst', options, io), {
      key: 'jvm/shop/orders/p/x.hprof.zst',
    });
    assert.deepEqual(said, []);
  });
});
