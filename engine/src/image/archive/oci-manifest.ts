/**
 * Pure validation of OCI image manifests and indexes (https://github.com/opencontainers/image-spec/blob/main/manifest.md,
 * image-index.md, descriptor.md) and of Docker schema 2 manifests (same shape, Docker media types).
 */
import { EngineError } from '../../errors.js';
import type { Platform } from '../types.js';
import { isDigest } from './digest.js';
import { CONFIG_TYPES, DOCKER_MANIFEST_V1, INDEX_TYPES, LAYER_TYPES, MANIFEST_TYPES } from './media-types.js';
import { isObject } from './read-json.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations: Record<string, string>;
  artifactType?: string;
}

export interface ImageManifest {
  config: Descriptor;
  layers: Descriptor[];
}

function parsePlatform(value: unknown): Platform | undefined {
  if (!isObject(value) || typeof value.os !== 'string' || typeof value.architecture !== 'string')
    return undefined;
  return typeof value.variant === 'string' && value.variant
    ? { os: value.os, architecture: value.architecture, variant: value.variant }
    : { os: value.os, architecture: value.architecture };
}

/** Parses one descriptor. Errors: ENG_IMAGE_MANIFEST_INVALID (shape), ENG_DIGEST_INVALID. */
export function parseDescriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value))
    throw new EngineError('ENG_IMAGE_MANIFEST_INVALID', `${where}: descriptor is not an object`);
  if (!isDigest(value.digest)) {
    throw new EngineError(
      'ENG_DIGEST_INVALID',
      `${where}: descriptor digest ${JSON.stringify(value.digest)} is not a sha256/sha512 digest`,
    );
  }
  const annotations: Record<string, string> = {};
  if (isObject(value.annotations)) {
    for (const [k, v] of Object.entries(value.annotations)) if (typeof v === 'string') annotations[k] = v;
  }
  const platform = parsePlatform(value.platform);
  return {
    mediaType: typeof value.mediaType === 'string' ? value.mediaType : '',
    digest: value.digest,
    size:
      typeof value.size === 'number' && Number.isSafeInteger(value.size) && value.size >= 0 ? value.size : -1,
    annotations,
    ...(platform ? { platform } : {}),
    ...(typeof value.artifactType === 'string' ? { artifactType: value.artifactType } : {}),
  };
}

/** Descriptors listed by an index (index.json or a nested image index); `manifests: null` is an empty list. */
export function parseIndex(value: unknown, where: string): Descriptor[] {
  if (!isObject(value))
    throw new EngineError('ENG_IMAGE_MANIFEST_INVALID', `${where}: index is not a JSON object`);
  const manifests = value.manifests ?? [];
  if (!Array.isArray(manifests))
    throw new EngineError('ENG_IMAGE_MANIFEST_INVALID', `${where}: manifests is not a list`);
  return manifests.map((m, i) => parseDescriptor(m, `${where} manifests[${i}]`));
}

/** Kind of a fetched manifest document, from its own mediaType, else the descriptor's, else its shape. */
export function documentKind(value: unknown, descriptorType: string): 'index' | 'manifest' | 'other' {
  const type = isObject(value) && typeof value.mediaType === 'string' ? value.mediaType : descriptorType;
  if (INDEX_TYPES.includes(type)) return 'index';
  if (MANIFEST_TYPES.includes(type)) return 'manifest';
  if (type === '' && isObject(value)) {
    if (Array.isArray(value.manifests)) return 'index';
    if (isObject(value.config)) return 'manifest';
  }
  return 'other';
}

/**
 * Validates an image manifest.
 * Errors: ENG_IMAGE_MANIFEST_UNSUPPORTED (Docker schema 1), ENG_IMAGE_MEDIA_TYPE_UNSUPPORTED
 * (artifacts: a non-image config media type or artifactType; unknown layer media types),
 * ENG_IMAGE_MANIFEST_INVALID (shape), ENG_DIGEST_INVALID.
 */
export function parseImageManifest(value: unknown, descriptorType: string, where: string): ImageManifest {
  const invalid = (why: string) => new EngineError('ENG_IMAGE_MANIFEST_INVALID', `${where}: ${why}`);
  if (!isObject(value)) throw invalid('manifest is not a JSON object');
  const type = typeof value.mediaType === 'string' ? value.mediaType : descriptorType;
  if (DOCKER_MANIFEST_V1.includes(type) || value.schemaVersion === 1) {
    throw new EngineError(
      'ENG_IMAGE_MANIFEST_UNSUPPORTED',
      `${where}: Docker schema 1 manifests are not supported`,
    );
  }
  if (type !== '' && !MANIFEST_TYPES.includes(type)) {
    throw new EngineError(
      'ENG_IMAGE_MEDIA_TYPE_UNSUPPORTED',
      `${where}: media type ${type} is not a container image manifest`,
    );
  }
  if (value.schemaVersion !== 2)
    throw invalid(`schemaVersion ${JSON.stringify(value.schemaVersion)} is not 2`);
  const configType =
    isObject(value.config) && typeof value.config.mediaType === 'string' ? value.config.mediaType : '';
  if (typeof value.artifactType === 'string' || (configType !== '' && !CONFIG_TYPES.includes(configType))) {
    const kind = typeof value.artifactType === 'string' ? value.artifactType : configType;
    throw new EngineError(
      'ENG_IMAGE_MEDIA_TYPE_UNSUPPORTED',
      `${where}: this is an OCI artifact (${kind}), not a container image; only images can be scanned`,
    );
  }
  const config = parseDescriptor(value.config, `${where} config`);
  if (!Array.isArray(value.layers)) throw invalid('layers is not a list');
  const layers = value.layers.map((l, i) => parseDescriptor(l, `${where} layers[${i}]`));
  for (const [i, layer] of layers.entries()) {
    if (!LAYER_TYPES.includes(layer.mediaType)) {
      throw new EngineError(
        'ENG_IMAGE_MEDIA_TYPE_UNSUPPORTED',
        `${where}: layer ${i} has media type ${JSON.stringify(layer.mediaType)}, not a (gzip/zstd) tar layer`,
      );
    }
  }
  return { config, layers };
}
