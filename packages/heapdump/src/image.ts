// The uploader image the component runs by default: its name and tag come from this package's version, the
// same version the image is built and published with (`npm run image`, the release workflow).
import { readFileSync } from 'node:fs';

export const UPLOADER_IMAGE_NAME = 'kube-heapdump-uploader';
export const DEFAULT_REGISTRY = 'ghcr.io/kube-heapdump';
// Read at run time: the package's own manifest, one directory above both src/ and dist/.
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** `<registry>/kube-heapdump-uploader:<version>`; a trailing `/` on the registry is ignored. */
export function uploaderImage(registry: string = DEFAULT_REGISTRY): string {
  return `${registry.replace(/\/+$/, '')}/${UPLOADER_IMAGE_NAME}:${VERSION}`;
}
