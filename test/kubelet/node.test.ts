// The node of `scripts/cluster start --with-node`: a pod with an image imported without a registry runs on
// the real kubelet with an address from the node's bridge, and `scripts/cluster stop` leaves nothing behind.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { type Cluster, clusterForSuite, describeWithNode, kubectlOk } from '../support/cluster.ts';

const PAUSE = 'localhost/kube-heapdump/pause:1';
const JDK = 'localhost/kube-heapdump/jdk:17';
// Calls the API server the way an in-cluster client does: the `kubernetes` Service's address from the env, the
// ServiceAccount's CA and token; prints the status and the body of GET /version.
const API_JAVA = `import java.net.URI;
import java.net.http.*;
import java.nio.file.*;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import javax.net.ssl.*;
public class Api {
  public static void main(String[] args) throws Exception {
    Path sa = Path.of("/var/run/secrets/kubernetes.io/serviceaccount");
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null);
    try (var in = Files.newInputStream(sa.resolve("ca.crt"))) {
      trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(null, tmf.getTrustManagers(), null);
    URI uri = URI.create("https://" + System.getenv("KUBERNETES_SERVICE_HOST") + ":" + System.getenv("KUBERNETES_SERVICE_PORT") + "/version");
    HttpRequest request = HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + Files.readString(sa.resolve("token"))).build();
    HttpResponse<String> response = HttpClient.newBuilder().sslContext(tls).build().send(request, HttpResponse.BodyHandlers.ofString());
    System.out.println(response.statusCode() + " " + response.body());
  }
}
`;

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

  it('lets a pod reach the API server through the kubernetes Service, with its ServiceAccount', async () => {
    const objects = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'api-src', namespace: 'default' },
          data: { 'Api.java': API_JAVA },
        },
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'api-client', namespace: 'default' },
          spec: {
            restartPolicy: 'Never',
            volumes: [{ name: 'src', configMap: { name: 'api-src' } }],
            containers: [
              {
                name: 'main',
                image: JDK,
                imagePullPolicy: 'Never',
                command: ['java', '/src/Api.java'],
                volumeMounts: [{ name: 'src', mountPath: '/src' }],
              },
            ],
          },
        },
      ],
    };
    const file = join(cluster.dir, 'api-client.json');
    await writeFile(file, JSON.stringify(objects));
    await kubectlOk(cluster, ['create', '-f', file]);
    await kubectlOk(cluster, [
      'wait',
      '--for=jsonpath={.status.phase}=Succeeded',
      'pod/api-client',
      '--timeout=180s',
    ]);
    const output = await kubectlOk(cluster, ['logs', 'api-client']);
    assert.match(output, new RegExp(`^200 [^]*"gitVersion":\\s*"${cluster.version}"`));
  });
});
