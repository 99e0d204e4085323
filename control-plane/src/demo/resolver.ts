/**
 * The all-in-one server's image resolver: the demo images on disk are known by their references
 * (`demo/node-api:1.4.2`, or `demo/node-api@sha256:…`) and pulled by path (an absolute path is what a worker
 * opens as a local OCI layout or docker-archive); every other reference goes to the registry resolver, so the
 * all-in-one scans registry images too.
 */
import type { ImageResolver } from '../services/resolver.js';
import type { DemoImage } from './images.js';

export function localImageResolver(images: readonly DemoImage[], fallback: ImageResolver): ImageResolver {
  const byReference = new Map<string, DemoImage>();
  for (const image of images) {
    byReference.set(`${image.repository}:${image.tag}`, image);
    byReference.set(`${image.repository}@${image.digest}`, image);
  }
  return {
    async resolve(reference, signal) {
      const local = byReference.get(reference);
      if (local) {
        const tags = reference.includes('@') ? [] : [local.tag];
        return { repository: local.repository, digest: local.digest, tags };
      }
      return fallback.resolve(reference, signal);
    },
    jobReference(image) {
      return byReference.get(`${image.repository}@${image.digest}`)?.path ?? fallback.jobReference(image);
    },
  };
}
