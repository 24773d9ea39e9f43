// The uploader image the component runs by default: its name and tag come from this package's version, the
// same version the image is built and published with (`npm run image`, the release workflow).
import packageJson from '../package.json' with { type: 'json' };

export const UPLOADER_IMAGE_NAME = 'kube-heapdump-uploader';
export const DEFAULT_REGISTRY = 'ghcr.io/kube-heapdump';
export const VERSION: string = packageJson.version;

/** `<registry>/kube-heapdump-uploader:<version>`; a trailing `/` on the registry is ignored. */
export function uploaderImage(registry: string = DEFAULT_REGISTRY): string {
  return `${registry.replace(/\/+$/, '')}/${UPLOADER_IMAGE_NAME}:${VERSION}`;
}
