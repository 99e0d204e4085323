/**
 * Image resolution for scan requests: what a user names (`repo:tag`, `repo@digest`) becomes the repository,
 * digest and tags the control plane records, and a recorded image becomes the reference a worker pulls.
 * Pluggable: the fleet resolves against registries (tags by a manifest HEAD, digests without any network),
 * the all-in-one demo plugs in a resolver of local fixture paths.
 */
import { isEngineError } from '@vigil/engine/core';
import { headRegistryManifest, parseReference, type RegistryImageOptions } from '@vigil/engine/internal';
import { ControlPlaneError } from '../errors.js';

/** An image as the control plane records it. */
export interface ResolvedImage {
  /** repository name as the docker CLI shows it (`alpine`, `ghcr.io/org/app`) */
  repository: string;
  digest: string;
  /** the tag the reference named, if any */
  tags: string[];
}

/** Resolves references to images and images to what workers pull. */
export interface ImageResolver {
  /** The image a reference names. Rejects with CP_IMAGE_UNRESOLVABLE (bad reference, unknown, access denied). */
  resolve(reference: string, signal?: AbortSignal): Promise<ResolvedImage>;
  /** The job's `imageRef` for a recorded image (`<repository>@<digest>` for registry images). */
  jobReference(image: { repository: string; digest: string }): string;
}

/** `<repository>@<digest>`: pins the content a scan is about, whatever its tags point at meanwhile. */
export function digestReference(image: { repository: string; digest: string }): string {
  return `${image.repository}@${image.digest}`;
}

/**
 * Resolves against OCI registries with the engine's client: a `repo@digest` reference needs no network, a tag
 * is resolved by a manifest HEAD (registry credentials and proxies as `options` and the docker config say).
 */
export function registryResolver(options: RegistryImageOptions = {}): ImageResolver {
  return {
    async resolve(reference, signal) {
      try {
        const ref = parseReference(reference);
        const tags = ref.tag ? [ref.tag] : [];
        if (ref.digest) return { repository: ref.familiarRepository, digest: ref.digest, tags };
        const head = await headRegistryManifest(ref, { ...options, ...(signal ? { signal } : {}) });
        return { repository: ref.familiarRepository, digest: head.digest, tags };
      } catch (error) {
        if (!isEngineError(error)) throw error;
        throw new ControlPlaneError(
          'CP_IMAGE_UNRESOLVABLE',
          `cannot resolve ${JSON.stringify(reference)}: ${error.message} (${error.code})`,
          { cause: error },
        );
      }
    },
    jobReference: digestReference,
  };
}
