/**
 * Pulling images from OCI distribution registries (Docker Hub, GHCR, ECR, Harbor, distribution…)
 * with undici: reference parsing, credentials (options, docker config.json, credential helpers),
 * Bearer/Basic auth, manifest lists and OCI indexes, digest verification, retries and timeouts.
 * The result is an ImageSource whose layers stream from the registry on demand.
 */
export { parseReference, DOCKER_HUB_DOMAIN, DOCKER_HUB_REGISTRY, type ImageReference } from './reference.js';
export { openRegistryImage, headRegistryManifest, type ManifestHead } from './source.js';
export type { RegistryImageOptions } from './options.js';
export type { AuthOption } from './credentials.js';
export {
  parseManifest,
  MEDIA_TYPES,
  MANIFEST_ACCEPT,
  type ParsedManifest,
  type Descriptor,
} from './manifest.js';
export { selectPlatform, normalizePlatform, formatPlatform } from './platform.js';
export { parseChallenges, type Challenge } from './challenge.js';
