// The schema `pulumi package add` generates for other languages, produced in-process by Pulumi's own
// source-based component provider (the analyzer the CLI runs), from this package's source.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ComponentProvider, getPulumiComponents } from '@pulumi/pulumi/provider/experimental/index.js';
import * as heapdump from '../src/index.ts';
import { HeapDumpEnabledApp, HeapDumpStorage } from '../src/index.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

interface Schema {
  name: string;
  version: string;
  resources: Record<
    string,
    {
      isComponent: boolean;
      inputProperties: Record<string, { $ref?: string; type?: string; description?: string }>;
      requiredInputs?: string[];
      properties: Record<string, unknown>;
    }
  >;
  types: Record<string, { type: string; enum?: { value: string }[]; properties?: Record<string, unknown> }>;
}

test('PulumiPlugin.yaml declares a Node.js plugin', async () => {
  const manifest = await readFile(new URL('../PulumiPlugin.yaml', import.meta.url), 'utf8');
  assert.match(manifest, /^runtime: nodejs$/m);
});

test('the analyzer turns the component into a schema other languages can use', async () => {
  const provider = new ComponentProvider({
    name: 'heapdump',
    dirname: packageDir,
    // What `pulumi package add` hosts: every component the package exports.
    components: getPulumiComponents(heapdump),
  });
  assert.deepEqual(getPulumiComponents(heapdump).sort(), [HeapDumpEnabledApp, HeapDumpStorage].sort());
  const schema = JSON.parse(await provider.getSchema()) as Schema;
  assert.equal(schema.name, 'heapdump');
  const app = schema.resources['heapdump:index:HeapDumpEnabledApp'];
  assert.ok(app, `resources: ${Object.keys(schema.resources)}`);
  assert.equal(app.isComponent, true);
  for (const input of [
    'image',
    'namespace',
    'env',
    'resources',
    'livenessProbe',
    'heapDumps',
    'storage',
    'identity',
    'uploader',
    'kind',
    'podTemplate',
    'workloadSpec',
    'workloadMetadata',
  ]) {
    assert.ok(app.inputProperties[input], `input ${input}`);
    assert.ok(app.inputProperties[input]?.description, `input ${input} is documented`);
  }
  // image is the shorthand's; a pod template replaces it, so nothing is required in the schema.
  assert.deepEqual(app.requiredInputs ?? [], []);
  // Other languages get the pod template, workload spec and metadata untyped (a map of Any).
  for (const untyped of ['podTemplate', 'workloadSpec', 'workloadMetadata']) {
    assert.deepEqual(
      (app.inputProperties[untyped] as { additionalProperties?: unknown }).additionalProperties,
      { $ref: 'pulumi.json#/Any' },
      untyped,
    );
  }
  assert.deepEqual(
    schema.types['heapdump:index:WorkloadKind']?.enum?.map((m) => m.value),
    ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'],
  );
  for (const output of [
    'deploymentName',
    'workloadName',
    'namespace',
    'bucketName',
    'keyPrefix',
    'secretName',
    'serviceAccountName',
    'listCommand',
  ]) {
    assert.ok(app.properties[output], `output ${output}`);
  }
  const kinds = schema.types['heapdump:index:IdentityKind'];
  assert.deepEqual(
    kinds?.enum?.map((m) => m.value),
    ['accessKey', 'irsa', 'podIdentity', 'existingSecret'],
  );
  assert.ok(schema.types['heapdump:index:ExistingBucketArgs']?.properties?.endpoint);
  // HeapDumpStorage is a component too (its transform and podOptions are TypeScript's alone).
  const storage = schema.resources['heapdump:index:HeapDumpStorage'];
  assert.ok(storage?.inputProperties.storage && storage.inputProperties.identity);
  // The analysis in the cluster, on both, with its fields.
  assert.ok(app.inputProperties.analysis?.description, 'input analysis is documented');
  assert.ok(storage.inputProperties.analysis, 'HeapDumpStorage input analysis');
  assert.deepEqual(Object.keys(schema.types['heapdump:index:AnalysisArgs']?.properties ?? {}).sort(), [
    'backoffLimit',
    'credentialsSecret',
    'enabled',
    'maxMemory',
    'memoryPerGiB',
    'namespace',
    'namespaces',
    'nodeSelector',
    'tolerations',
    'ttlSecondsAfterFinished',
  ]);
  assert.ok(storage.properties.bucketName);
});
