// `heapdump analyze` as a user runs it: a separate process on a real dump, from a file and from the bucket.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zstdCompressSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { HeapAnalysis } from '@kube-heapdump/contract';
import { analyzeHeap, fileSource } from '@kube-heapdump/hprof';
import { developerEnv } from '../../../test/support/developer-env.ts';
import { HeldJvm } from '../../../test/support/java.ts';
import { RUN_SOURCE } from '../../../test/support/node.ts';
import { run } from '../../../test/support/processes.ts';
import { DEFAULT_CREDENTIAL } from '../../../test/support/s3/server.ts';
import { type S3Fixture, startS3Fixture } from '../../../test/support/s3-fixture.ts';
import { renderAnalysisHtml } from '../src/analyze-html.ts';
import { renderAnalysis } from '../src/analyze-report.ts';

const cli = join(import.meta.dirname, '../src/main.ts');

/** What a browser would fetch or run: elements that load, attributes (in a tag) that point somewhere, CSS imports. */
const EXTERNAL =
  /<(script|link|img|iframe|object|embed|svg|video|audio|source|base|form)\b|<[^>]*\b(src|href|srcset|action|on\w+)\s*=|url\(|@import/i;

describe('heapdump analyze', () => {
  let dir: string;
  let dump: string;
  let fixture: S3Fixture;
  let env: NodeJS.ProcessEnv;
  const heapdump = (...args: string[]) => run(process.execPath, [...RUN_SOURCE, cli, ...args], env, 120_000);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kh-analyze-'));
    dump = join(dir, 'leak.hprof');
    const jvm = await HeldJvm.startMain('RetainFixture', ['leak'], ['-Xmx256m']);
    try {
      await jvm.dump(dump);
    } finally {
      await jvm.close();
    }
    fixture = await startS3Fixture();
    env = developerEnv({
      home: dir,
      credential: DEFAULT_CREDENTIAL,
      bucket: 'dumps',
      endpoint: fixture.server.endpoint,
    });
  });
  after(async () => {
    await fixture?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the leaking map first: the suspect, where it accumulates, the path through the static field', async () => {
    const r = await heapdump('analyze', dump);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    const first = lines.findIndex((l) =>
      /^1\. one class RetainFixture @ 0x[0-9a-f]+ retains [\d.]+ MiB/.test(l),
    );
    assert.ok(first > 0, r.stdout);
    assert.match(
      lines[first + 1]!,
      /^ {3}accumulated in java\.util\.HashMap\$Node\[\] @ 0x[0-9a-f]+, retaining 74\.\d+ MiB$/,
    );
    assert.ok(
      lines.some((l) => /^\s+static SESSION_MAP\s+74\.\d+ MiB\s+java\.util\.HashMap @ 0x/.test(l)),
      r.stdout,
    );
    assert.ok(lines.indexOf('Largest dominators (retained by one object)') > first);
    assert.match(r.stdout, /^Sizes {8}compressed oops: 12-byte headers, 4-byte references \(inferred: /m);
    assert.match(r.stdout, /^Duplicate strings: [\d,]+ of [\d,]+ Strings have contents another has too; /m);
    assert.match(
      r.stdout,
      /^1 +[\d,]+ +74\.\d+ MiB +[\d.]+% +jdk\.internal\.loader\.ClassLoaders\$AppClassLoader @ 0x/m,
    );
    assert.match(r.stdout, /^Under-filled collections: [\d.]+ \w+ of empty slots$/m);
    // The main thread waits in System.in.read(): its stack is there, top frame first.
    assert.match(r.stdout, /^"main" java\.lang\.Thread @ 0x[0-9a-f]+, retaining /m);
    assert.match(r.stdout, /^ {2}at RetainFixture\.main \(RetainFixture\.java:\d+\)$/m);
  });

  it('prints JSON that is the library analysis', async () => {
    const r = await heapdump('analyze', dump, '--json', '--top', '5');
    assert.equal(r.code, 0, r.stderr);
    const printed = JSON.parse(r.stdout);
    assert.equal(printed.schema, 'kube-heapdump/heap-analysis/v2');
    assert.deepEqual(
      printed,
      JSON.parse(JSON.stringify(await analyzeHeap(await fileSource(dump), { top: 5 }))),
    );
  });

  it('streams a stored .hprof.zst object (twice) and finds the same', async () => {
    const key = 'heapdumps/shop/orders/orders-1/20261207T101500Z-0badc0de-java_pid1.hprof.zst';
    await fixture
      .client()
      .send(
        new PutObjectCommand({ Bucket: 'dumps', Key: key, Body: zstdCompressSync(await readFile(dump)) }),
      );
    const stored = await heapdump('analyze', key, '--json', '--top', '5');
    const local = await heapdump('analyze', dump, '--json', '--top', '5');
    assert.equal(stored.code, 0, stored.stderr);
    assert.deepEqual(JSON.parse(stored.stdout), JSON.parse(local.stdout));
  });

  it('--html writes one self-contained page (mode 0600) with the top suspect and the dominator tree', async () => {
    const page = join(dir, 'leak.html');
    const r = await heapdump('analyze', dump, '--html', page);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await stat(page)).mode & 0o777, 0o600);
    const html = await readFile(page, 'utf8');
    assert.doesNotMatch(html, EXTERNAL);
    const analysis = await analyzeHeap(await fileSource(dump), {});
    const top = analysis.suspects[0]!;
    assert.ok(
      html.includes(`1. one <span class="o">${top.object.className} @ ${top.object.id}</span> retains`),
      'the top suspect',
    );
    // The tree: the suspect's node, expandable, its child the map.
    assert.match(
      html,
      new RegExp(
        `<details><summary>74\\.\\d MiB .*${top.object.id}</span></summary>\n<details><summary>74\\.\\d MiB .*java\\.util\\.HashMap @ `,
      ),
    );
    assert.match(html, /at most 25 children per node and 4,000 nodes in all/);
  });

  it('refuses a dump that needs more than --max-memory, in one line', async () => {
    const r = await heapdump('analyze', dump, '--max-memory', '64Mi');
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^heapdump: the analysis of this dump needs about \d+ MiB, more than the 64 MiB --max-memory allows\n$/,
    );
    const bad = await heapdump('analyze', dump, '--max-memory', 'lots');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^heapdump: --max-memory lots is not a size like 4Gi or 512Mi\n$/);
  });

  it('says in one line that a file is not a dump', async () => {
    const notDump = join(dir, 'notes.txt');
    await writeFile(notDump, 'hello, not a heap dump at all');
    const r = await heapdump('analyze', notDump);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^heapdump: .*notes\.txt: not an HPROF file .*\n$/);
  });
});

describe('the HTML page of an analysis', () => {
  it("escapes the dump's texts: a hostile class name or string cannot add an element or a reference", () => {
    const hostile = '<script src="https://example.invalid/x.js"></script><img src=x>';
    const o = { id: '0x10', className: hostile, shallowBytes: 16, retainedBytes: 32 };
    const analysis = {
      schema: 'kube-heapdump/heap-analysis/v2',
      complete: true,
      idSize: 8,
      layout: { compressedOops: true, source: 'given', headerBytes: 12, referenceBytes: 4 },
      sizeConvention: hostile,
      totals: { objects: 1, classes: 1, references: 0, gcRoots: 1, reachableObjects: 1, reachableBytes: 32 },
      unreachable: { objects: 0, bytes: 0, topClasses: [] },
      suspects: [
        {
          kind: 'object',
          className: hostile,
          instances: 1,
          retainedBytes: 32,
          percent: 100,
          object: o,
          accumulationPoint: o,
          path: [{ via: hostile, object: o }],
        },
      ],
      topDominators: [o],
      topPackages: [{ name: hostile, objects: 1, retainedBytes: 32 }],
      retainedByClass: [],
      duplicateStrings: {
        strings: 2,
        contents: 1,
        duplicated: 2,
        wastedBytes: 24,
        top: [{ text: hostile, length: 9, strings: 2, arrays: 2, wastedBytes: 24, example: '0x10' }],
      },
      threads: [
        {
          object: o,
          name: hostile,
          localsRetainedBytes: 0,
          frames: [{ method: hostile, location: hostile, locals: [o] }],
        },
      ],
      dominatorTree: {
        childrenPerNode: 1,
        maxNodes: 1,
        top: [{ object: o, children: [], omitted: 0, omittedBytes: 0 }],
        omitted: 0,
        omittedBytes: 0,
      },
    } satisfies HeapAnalysis;
    const html = renderAnalysisHtml(hostile, analysis);
    assert.doesNotMatch(html, EXTERNAL);
    assert.ok(html.includes('&#60;script src=&#34;https://example.invalid/x.js&#34;&#62;'));
  });

  it('a v1 analysis (a report stored before v2: no later sections) still renders, in the terminal and as a page', () => {
    const o = { id: '0x10', className: 'com.shop.Cart', shallowBytes: 16, retainedBytes: 32 };
    const v1: HeapAnalysis = {
      schema: 'kube-heapdump/heap-analysis/v1',
      complete: true,
      idSize: 8,
      layout: { compressedOops: true, source: 'given', headerBytes: 12, referenceBytes: 4 },
      sizeConvention: 'sizes',
      totals: { objects: 1, classes: 1, references: 0, gcRoots: 1, reachableObjects: 1, reachableBytes: 32 },
      unreachable: { objects: 0, bytes: 0, topClasses: [] },
      suspects: [],
      topDominators: [o],
      topPackages: [{ name: 'com.shop', objects: 1, retainedBytes: 32 }],
      retainedByClass: [{ name: 'com.shop.Cart', instances: 1, shallowBytes: 16, retainedBytes: 32 }],
    };
    const text = renderAnalysis('old-report', v1, 5);
    assert.match(text, /^Retained by class$/m);
    assert.doesNotMatch(text, /Duplicate strings|Under-filled|Threads|class loader/);
    assert.match(renderAnalysisHtml('old-report', v1), /<h2>Retained by class<\/h2>/);
  });
});
