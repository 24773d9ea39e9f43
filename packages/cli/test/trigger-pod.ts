// The pod the trigger suites dump: the component's rendered Deployment shop/shop (a HeapFixture JVM holding
// `alphas` objects under -Xmx64m, the uploader shipping to the strict S3 server's team-dumps/jvm/) run by the
// pod simulator until the JVM is ready, and the stand-in kubectl answering `get pod` for it.
import { join } from 'node:path';
import { developerEnv } from '../../../test/support/developer-env.ts';
import { SimulatedPod, type SimulatedWorkload } from '../../../test/support/pod-simulator.ts';
import type { ImageDefinition } from '../../../test/support/pod-simulator-spec.ts';
import { DEFAULT_CREDENTIAL } from '../../../test/support/s3/server.ts';
import { uploaderImage } from '../../heapdump/src/image.ts';
import { renderDeployment } from '../../heapdump/src/workload.ts';
import { fakeKubectlEnv, storeArgs, writePods } from './fake-kubectl.ts';

export interface TriggerPodOptions {
  /** The sandbox: the dump volume, the stand-in kubectl's files. */
  dir: string;
  endpoint: string;
  /** The app's image, and every image the pod runs (the uploader's included). */
  image: string;
  images: Record<string, ImageDefinition>;
  alphas: number;
  metricsPort: number;
}

/** Starts the pod; `env` runs the CLI against it (the stand-in kubectl, the store's key). */
export async function startTriggerPod(
  o: TriggerPodOptions,
): Promise<{ pod: SimulatedPod; env: NodeJS.ProcessEnv }> {
  const rendered = renderDeployment({
    appName: 'shop',
    app: {
      image: o.image,
      args: ['HeapFixture', 'hold', String(o.alphas), '10', '10', '2'],
      env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-Xmx64m' }],
      resources: { limits: { memory: '256Mi' } },
    },
    heapDumps: { mountPath: join(o.dir, 'dumps') },
    uploader: { metricsPort: o.metricsPort },
    ...storeArgs(o.endpoint, 'team-dumps', 'jvm/'),
    defaultUploaderImage: uploaderImage(),
  });
  const deployment: SimulatedWorkload = {
    metadata: { name: 'shop', namespace: 'shop' },
    spec: rendered.spec as unknown as SimulatedWorkload['spec'],
  };
  const pod = new SimulatedPod({
    deployment,
    secrets: {
      'store-keys': { id: DEFAULT_CREDENTIAL.accessKeyId, secret: DEFAULT_CREDENTIAL.secretAccessKey },
    },
    images: o.images,
    sandbox: o.dir,
    maxRestarts: 0,
  });
  const lines: string[] = [];
  pod.on('line', (container: string, line: string) => container === 'app' && lines.push(line));
  try {
    await pod.start();
    await pod.waitFor(
      () => (pod.runs.get('app') && lines.includes('READY') ? true : undefined),
      60_000,
      'the JVM to be ready',
    );
  } catch (err) {
    await pod.stop();
    throw err;
  }
  // What `kubectl get pod -o json` would return for it.
  await writePods(o.dir, {
    [`shop/${pod.name}`]: {
      metadata: { name: pod.name, namespace: 'shop', labels: { app: 'shop' } },
      spec: deployment.spec.template.spec,
    },
  });
  return {
    pod,
    env: { ...developerEnv({ home: o.dir, credential: DEFAULT_CREDENTIAL }), ...fakeKubectlEnv(o.dir) },
  };
}
