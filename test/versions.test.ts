// The component's default uploader image is <registry>/kube-heapdump-uploader:<its version>, and the image is
// built and published with the uploader's version (npm run image, the release workflow): the packages move in
// lockstep, so those are one version.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { uploaderImage, VERSION } from '../packages/heapdump/src/index.ts';

test('every package has the same version, and the default image is tagged with it', async () => {
  const root = join(import.meta.dirname, '..');
  const versions = await Promise.all(
    ['hprof', 'uploader', 'heapdump', 'cli'].map(async (p) => {
      const { name, version } = JSON.parse(await readFile(join(root, 'packages', p, 'package.json'), 'utf8'));
      return [name, version] as const;
    }),
  );
  for (const [name, version] of versions) assert.equal(version, VERSION, name);
  assert.equal(uploaderImage(), `ghcr.io/kube-heapdump/kube-heapdump-uploader:${VERSION}`);
  assert.equal(
    uploaderImage('registry.example.com/mirror/'),
    `registry.example.com/mirror/kube-heapdump-uploader:${VERSION}`,
  );
  const workflow = await readFile(join(root, '.github/workflows/release-image.yml'), 'utf8');
  assert.match(
    workflow,
    /tags: ghcr\.io\/kube-heapdump\/kube-heapdump-uploader:\$\{\{ steps\.version\.outputs\.version \}\}/,
  );
});
