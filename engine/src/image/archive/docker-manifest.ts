/**
 * Pure parsing of a docker-archive's manifest.json (`docker save`; format described in
 * https://github.com/moby/moby/blob/master/image/spec/v1.2.md#combined-image-json--filesystem-changeset-format):
 * `[{Config, RepoTags, Layers, LayerSources?}]`. Paths are archive paths and must stay inside it.
 */
import { EngineError } from '../../errors.js';
import { normalizeArchivePath } from './archive-path.js';
import { isDigest } from './digest.js';
import { isObject } from './read-json.js';

export interface LayerSource {
  digest: string;
  mediaType: string;
  size?: number;
}

export interface DockerManifestEntry {
  /** Normalised archive path of the config JSON. */
  config: string;
  repoTags: string[];
  /** Normalised archive paths of the layer tars, bottom-up. */
  layers: string[];
  /** Foreign / OCI layer descriptors keyed by diffID (Docker 25+ writes them for every layer). */
  layerSources: Map<string, LayerSource>;
}

/**
 * Validates manifest.json content. Errors: ENG_IMAGE_MANIFEST_INVALID for a wrong shape, an empty
 * list, or a Config/Layers path that is absolute or climbs out with `..`.
 */
export function parseDockerManifest(value: unknown, where: string): DockerManifestEntry[] {
  const invalid = (why: string) =>
    new EngineError('ENG_IMAGE_MANIFEST_INVALID', `${where}: manifest.json ${why}`);
  if (!Array.isArray(value)) throw invalid('is not a JSON array');
  if (value.length === 0) throw invalid('lists no images');
  const safePath = (p: unknown, field: string) => {
    if (typeof p !== 'string') throw invalid(`${field} is not a string`);
    const norm = normalizeArchivePath(p);
    if (norm === undefined)
      throw invalid(`${field} path ${JSON.stringify(p)} is absolute, empty or leaves the archive`);
    return norm;
  };
  return value.map((item, i) => {
    if (!isObject(item)) throw invalid(`entry ${i} is not an object`);
    const config = safePath(item.Config, `entry ${i} Config`);
    if (!Array.isArray(item.Layers)) throw invalid(`entry ${i} Layers is not a list`);
    const layers = item.Layers.map((l, j) => safePath(l, `entry ${i} Layers[${j}]`));
    const tags = item.RepoTags ?? [];
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string'))
      throw invalid(`entry ${i} RepoTags is not a list of strings`);
    const layerSources = new Map<string, LayerSource>();
    if (isObject(item.LayerSources)) {
      for (const [diffId, src] of Object.entries(item.LayerSources)) {
        if (!isObject(src) || !isDigest(src.digest))
          throw invalid(`entry ${i} LayerSources[${diffId}] has no valid digest`);
        layerSources.set(diffId, {
          digest: src.digest,
          mediaType: typeof src.mediaType === 'string' ? src.mediaType : '',
          ...(typeof src.size === 'number' ? { size: src.size } : {}),
        });
      }
    }
    return { config, repoTags: tags as string[], layers, layerSources };
  });
}

/**
 * Canonical form of an image reference for tag matching: `alpine` → `docker.io/library/alpine:latest`,
 * `vigil/test:t` → `docker.io/vigil/test:t`. Used for RepoTags and OCI ref names alike.
 */
export function normalizeRef(ref: string): string {
  let name = ref.trim();
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) name = `docker.io/${slash < 0 ? 'library/' : ''}${name}`;
  else if (name.startsWith('index.docker.io/')) name = `docker.io/${name.slice('index.docker.io/'.length)}`;
  const lastPart = name.slice(name.lastIndexOf('/') + 1);
  if (!lastPart.includes(':') && !lastPart.includes('@')) name += ':latest';
  return name;
}

/** Picks the entry tagged `ref` (or the first when no ref). Errors: ENG_IMAGE_SOURCE_NOT_FOUND. */
export function selectDockerEntry(
  entries: DockerManifestEntry[],
  where: string,
  ref?: string,
): DockerManifestEntry {
  if (ref === undefined) return entries[0]!;
  const wanted = normalizeRef(ref);
  const found = entries.find((e) => e.repoTags.some((t) => normalizeRef(t) === wanted));
  if (found) return found;
  const tags = entries.flatMap((e) => e.repoTags);
  throw new EngineError(
    'ENG_IMAGE_SOURCE_NOT_FOUND',
    `${where}: no image tagged ${ref} in the archive (tags: ${tags.length ? tags.join(', ') : 'none'})`,
  );
}
