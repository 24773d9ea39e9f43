// What the node suites (test/kubelet/) share: the component's uploader image under its default name, the
// pods' dump volumes as the node holds them, the dumps the JVMs write there captured for comparison, stored
// objects read back and decompressed, a loopback store made reachable from pods, and the developer CLI with
// the real kubectl.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, writeFile } from 'node:fs/promises';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { parseDumpKey, type StoredDumpSummary, summaryKey } from '@kube-heapdump/contract';
import { uploaderImage } from '../../packages/heapdump/src/image.ts';
import { DUMP_VOLUME } from '../../packages/heapdump/src/names.ts';
import { type Cluster, kubectlOk } from './cluster.ts';
import { type DeveloperStore, developerEnv } from './developer-env.ts';
import { captureDumps, type DumpCapture } from './dump-capture.ts';
import { RUN_SOURCE } from './node.ts';
import { run } from './processes.ts';

const CLI = join(import.meta.dirname, '../../packages/cli/src/main.ts');
/** The uploader's default key prefix. */
export const PREFIX = 'heapdumps/';
/** The JDK image scripts/node-images imports. */
export const JDK_IMAGE = 'localhost/kube-heapdump/jdk:17';
// How scripts/node-images names the uploader image it imports (`docker save` of the image-check build).
const IMPORTED_UPLOADER = `docker.io/library/${uploaderImage('x').split('/').pop()}`;

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Tags the imported uploader image with the component's default name, so rendered pods run it (IfNotPresent). */
export async function tagUploaderImage(cluster: Cluster): Promise<void> {
  const tagged = await run('ctr', [
    '--address',
    join(cluster.dir, 'containerd/containerd.sock'),
    '-n',
    'k8s.io',
    'images',
    'tag',
    '--force',
    IMPORTED_UPLOADER,
    uploaderImage(),
  ]);
  assert.equal(tagged.code, 0, tagged.stderr);
}

export interface ContainerStatus {
  name: string;
  restartCount: number;
  state: { running?: object; waiting?: { reason?: string }; terminated?: Terminated };
  lastState: { terminated?: Terminated };
}
interface Terminated {
  exitCode: number;
  reason?: string;
  finishedAt?: string;
}
export interface PodJson {
  metadata: { name: string; uid: string };
  spec: { terminationGracePeriodSeconds?: number };
  status: {
    phase: string;
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}

/** The pods of `namespace` matching `selector` (a label selector). */
export async function podsOf(cluster: Cluster, namespace: string, selector: string): Promise<PodJson[]> {
  const out = await kubectlOk(cluster, ['-n', namespace, 'get', 'pods', '-l', selector, '-o', 'json']);
  return (JSON.parse(out) as { items: PodJson[] }).items;
}

/** Polls `probe` every second until it gives a value; fails after `seconds` with what `last` says. */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  seconds = 300,
  last: () => Promise<string> = async () => '',
): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not after ${seconds} s. ${await last()}`);
    await sleep(1000);
  }
}

/** The one pod `selector` matches, once it exists. */
export async function onePod(cluster: Cluster, namespace: string, selector: string): Promise<PodJson> {
  return waitUntil(`a pod ${selector} in ${namespace}`, async () => {
    const pods = await podsOf(cluster, namespace, selector);
    assert.ok(pods.length <= 1, `one pod ${selector}: ${pods.map((p) => p.metadata.name).join(', ')}`);
    return pods[0];
  });
}

/** The pod's dump volume (the component's emptyDir) where the kubelet keeps it on the node. */
export function dumpVolumeOnNode(cluster: Cluster, podUid: string): string {
  return join(cluster.dir, 'kubelet/pods', podUid, 'volumes/kubernetes.io~empty-dir', DUMP_VOLUME);
}

/**
 * Captures every dump written into the pod's volume from now on (held open: the bytes the JVM wrote stay
 * readable after the uploader deletes the file), once the kubelet has made the volume.
 */
export async function captureOnNode(cluster: Cluster, podUid: string): Promise<DumpCapture> {
  const dir = dumpVolumeOnNode(cluster, podUid);
  await waitUntil(
    `the dump volume ${dir}`,
    () =>
      access(dir).then(
        () => true,
        () => undefined,
      ),
    120,
  );
  return captureDumps(dir);
}

/**
 * The test apps (test/kubelet/workloads) wait for this file in their dump volume before they use memory, so
 * a capture is in place before the first dump.
 */
export async function releaseApp(cluster: Cluster, podUid: string): Promise<void> {
  await writeFile(join(dumpVolumeOnNode(cluster, podUid), 'start'), '');
}

/** Keys of the stored heap dumps (not summaries) in the store, for `pod` when given. */
export async function storedDumps(client: S3Client, bucket: string, pod?: string): Promise<string[]> {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: PREFIX }));
  return (listed.Contents ?? [])
    .map((o) => parseDumpKey(PREFIX, o.Key ?? ''))
    .filter((k) => k?.kind === 'heap-dump' && (pod === undefined || k.pod === pod))
    .map((k) => k?.key as string);
}

async function objectBytes(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const obj = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(
    await (obj.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

/** A stored dump read back: its bytes decompressed by standard tools (the zstd CLI, zlib), and its summary. */
export async function readStoredDump(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<{ dump: Buffer; summary: StoredDumpSummary }> {
  const compression = parseDumpKey(PREFIX, key)?.compression;
  const stored = await objectBytes(client, bucket, key);
  let dump = stored;
  if (compression === 'gzip') dump = gunzipSync(stored);
  else if (compression === 'zstd') {
    const tool = spawnSync('zstd', ['-dc'], { input: stored, maxBuffer: 1 << 30 });
    assert.equal(tool.status, 0, `zstd -dc: ${tool.stderr}`);
    dump = tool.stdout;
  }
  const summary = JSON.parse(
    (await objectBytes(client, bucket, summaryKey(key))).toString(),
  ) as StoredDumpSummary;
  return { dump, summary };
}

/**
 * Asserts that `key` stores the bytes the JVM wrote (`written`, captured on the node): the object,
 * decompressed, and the SHA-256 the uploader's summary records are both those bytes', and the summary says
 * `complete`.
 */
export async function assertStoredAsWritten(
  client: S3Client,
  bucket: string,
  key: string,
  written: Buffer,
): Promise<StoredDumpSummary> {
  const { dump, summary } = await readStoredDump(client, bucket, key);
  assert.ok(written.length > 1_000_000, `the JVM wrote ${written.length} bytes`);
  assert.equal(dump.length, written.length, `${key}: the object's size is the file's`);
  assert.equal(sha256(dump), sha256(written), `${key} holds the bytes the JVM wrote`);
  assert.equal(summary.dump.sha256, sha256(written), "the summary's SHA-256 is the file's");
  assert.equal(summary.dump.originalBytes, written.length);
  assert.equal(summary.verdict, 'complete');
  return summary;
}

/**
 * A TCP forwarder on the node's address to `endpoint` (a store on loopback, like the Ceph RGW of
 * scripts/rgw): pods reach the node's address only. Bytes pass unchanged, Host header and signatures too.
 */
export async function forwardOnNode(
  cluster: Cluster,
  endpoint: string,
): Promise<{ endpoint: string; close(): Promise<void> }> {
  const target = new URL(endpoint);
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
    }
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) =>
    server.once('error', reject).listen(0, cluster.nodeIp, () => resolve()),
  );
  return {
    endpoint: `http://${cluster.nodeIp}:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of open) socket.destroy();
      }),
  };
}

/** `heapdump ...` (the developer CLI from source) against `store` and, through the real kubectl, `cluster`. */
export function heapdumpCli(cluster: Cluster, store: Omit<DeveloperStore, 'home'>) {
  return (...args: string[]) =>
    run(
      process.execPath,
      [...RUN_SOURCE, CLI, ...args],
      {
        ...developerEnv({ home: cluster.dir, ...store }),
        KUBECTL: cluster.kubectl,
        KUBECONFIG: cluster.kubeconfig,
      },
      120_000,
    );
}
