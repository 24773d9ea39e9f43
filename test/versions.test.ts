// The packages move in lockstep: one version for all, each depending on the others at that version, the
// examples on the published component at it, the default uploader image tagged with it, and the release
// workflow refusing a tag that differs.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { uploaderImage, VERSION } from '../packages/heapdump/src/image.ts';
import { EXAMPLES } from './support/examples.ts';

const root = join(import.meta.dirname, '..');
const readJson = async (path: string) => JSON.parse(await readFile(join(root, path), 'utf8'));

test('every package has the same version, depends on the others at it, and the image is tagged with it', async () => {
  const { workspaces } = (await readJson('package.json')) as { workspaces: string[] };
  const manifests = await Promise.all(workspaces.map((w) => readJson(`${w}/package.json`)));
  for (const m of manifests) {
    assert.equal(m.version, VERSION, m.name);
    for (const deps of [m.dependencies, m.devDependencies, m.peerDependencies])
      for (const [dep, range] of Object.entries(deps ?? {}))
        if (dep.startsWith('@kube-heapdump/')) assert.equal(range, `^${VERSION}`, `${m.name} -> ${dep}`);
  }
  for (const example of Object.keys(EXAMPLES)) {
    const m = await readJson(`examples/${example}/package.json`);
    assert.equal(m.dependencies['@kube-heapdump/heapdump'], `^${VERSION}`, example);
  }
  assert.equal(uploaderImage(), `ghcr.io/kube-heapdump/kube-heapdump-uploader:${VERSION}`);
  assert.equal(
    uploaderImage('registry.example.com/mirror/'),
    `registry.example.com/mirror/kube-heapdump-uploader:${VERSION}`,
  );
  const workflow = await readFile(join(root, '.github/workflows/release.yml'), 'utf8');
  assert.match(workflow, /test "v\$version" = "\$GITHUB_REF_NAME"/);
  assert.match(workflow, /npm publish --workspaces --access public --provenance/);
  assert.match(
    workflow,
    /tags: ghcr\.io\/kube-heapdump\/kube-heapdump-uploader:\$\{\{ needs\.version\.outputs\.version \}\}/,
  );
});
