// The node of `scripts/cluster start --with-node`: a pod with an image imported without a registry runs on
// the real kubelet with an address from the node's bridge, and `scripts/cluster stop` leaves nothing behind.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { type Cluster, clusterForSuite, describeWithNode, kubectlOk } from '../support/cluster.ts';

const PAUSE = 'localhost/kube-heapdump/pause:1';

/** Whether IP lies in the IPv4 CIDR. */
function inCidr(ip: string, cidr: string): boolean {
  const toInt = (a: string) => a.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(toInt(ip) / size) === Math.floor(toInt(base as string) / size);
}

describeWithNode('a one-node cluster (scripts/cluster start --with-node)', () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await clusterForSuite({ node: true });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('registers a Ready node at its non-loopback address', async () => {
    const node = JSON.parse(
      await kubectlOk(cluster, ['get', 'node', cluster.nodeName as string, '-o', 'json']),
    );
    const ready = node.status.conditions.find((c: { type: string }) => c.type === 'Ready');
    assert.equal(ready.status, 'True');
    const internal = node.status.addresses.find((a: { type: string }) => a.type === 'InternalIP');
    assert.equal(internal.address, cluster.nodeIp);
    assert.doesNotMatch(cluster.nodeIp as string, /^127\./);
  });

  it('runs a pod whose image was imported without a registry, on the node bridge', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'sleeper', namespace: 'default' },
      spec: { containers: [{ name: 'main', image: PAUSE, imagePullPolicy: 'Never' }] },
    };
    const file = join(cluster.dir, 'sleeper.json');
    await writeFile(file, JSON.stringify(pod));
    await kubectlOk(cluster, ['create', '-f', file]);
    await kubectlOk(cluster, ['wait', '--for=condition=Ready', 'pod/sleeper', '--timeout=120s']);
    const status = JSON.parse(await kubectlOk(cluster, ['get', 'pod', 'sleeper', '-o', 'json'])).status;
    assert.equal(status.phase, 'Running');
    assert.equal(status.containerStatuses[0].restartCount, 0);
    assert.ok(inCidr(status.podIP, cluster.podCidr as string), `${status.podIP} not in ${cluster.podCidr}`);
    await kubectlOk(cluster, ['delete', 'pod', 'sleeper', '--wait=true', '--timeout=60s']);
  });
});
