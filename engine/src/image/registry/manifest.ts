/**
 * Manifest parsing for registry pulls: OCI image index / manifest
 * (https://github.com/opencontainers/image-spec/blob/main/image-index.md, manifest.md) and
 * Docker manifest list / image manifest v2 schema 2
 * (https://distribution.github.io/distribution/spec/manifest-v2-2/). Schema 1 is refused.
 */
import { EngineError } from '../../errors.js';
import type { Platform } from '../types.js';
import { isSupportedDigest } from './digest.js';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/** Accept header for manifest requests: every type Vigil can read, most specific first. */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerList,
  MEDIA_TYPES.dockerManifest,
].join(', ');

const INDEX_TYPES = new Set<string>([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList]);
const IMAGE_TYPES = new Set<string>([MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest]);
const SCHEMA1_TYPES = new Set<string>([MEDIA_TYPES.dockerSchema1, MEDIA_TYPES.dockerSchema1Signed]);
const CONFIG_TYPES = new Set<string>([MEDIA_TYPES.ociConfig, MEDIA_TYPES.dockerConfig]);
/** Content types registries send when they do not name the manifest type; the body decides. */
const GENERIC_TYPES = new Set(['', 'application/json', 'text/plain', 'application/octet-stream']);

export interface PlatformSpec extends Platform {
  'os.version'?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: PlatformSpec;
  annotations?: Record<string, string>;
}

export type ParsedManifest =
  | { kind: 'index'; mediaType: string; manifests: Descriptor[] }
  | { kind: 'image'; mediaType: string; config: Descriptor; layers: Descriptor[] };

/** Media type from a Content-Type header value, without parameters, lower case. */
export function bareMediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

function invalid(what: string, why: string): EngineError {
  return new EngineError('ENG_IMAGE_MANIFEST_INVALID', `${what}: ${why}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function schema1(what: string): EngineError {
  return new EngineError(
    'ENG_IMAGE_MANIFEST_UNSUPPORTED',
    `${what}: Docker image manifest schema 1 is not supported (deprecated since 2017); push the image again with a current client to get a schema 2 or OCI manifest`,
  );
}

function parseDescriptor(value: unknown, what: string, where: string): Descriptor {
  if (!isObject(value)) throw invalid(what, `${where} is not an object`);
  const { mediaType, digest, size, platform, annotations } = value;
  if (typeof mediaType !== 'string') throw invalid(what, `${where}.mediaType is missing`);
  if (!isSupportedDigest(digest))
    throw invalid(what, `${where}.digest ${JSON.stringify(digest)} is not a sha256/sha512 digest`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    throw invalid(what, `${where}.size is not a byte count`);
  const out: Descriptor = { mediaType, digest, size };
  if (platform !== undefined) {
    if (!isObject(platform) || typeof platform.os !== 'string' || typeof platform.architecture !== 'string') {
      throw invalid(what, `${where}.platform needs os and architecture`);
    }
    out.platform = { os: platform.os, architecture: platform.architecture };
    if (typeof platform.variant === 'string' && platform.variant !== '')
      out.platform.variant = platform.variant;
    if (typeof platform['os.version'] === 'string') out.platform['os.version'] = platform['os.version'];
  }
  if (isObject(annotations)) {
    out.annotations = Object.fromEntries(
      Object.entries(annotations).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
  }
  return out;
}

/**
 * Classifies and validates a manifest body. The Content-Type decides the kind; a generic or
 * missing one lets the body's `mediaType` (or its shape) decide.
 *
 * @param what - names the manifest in error messages (registry, repository, reference).
 * @throws EngineError ENG_IMAGE_MANIFEST_UNSUPPORTED (schema 1),
 *   ENG_IMAGE_MEDIA_TYPE_UNSUPPORTED (unknown manifest type, or an artifact whose config is not an
 *   image config), ENG_IMAGE_MANIFEST_INVALID (not JSON, missing or malformed fields).
 */
export function parseManifest(
  bytes: Uint8Array,
  contentType: string | undefined,
  what: string,
): ParsedManifest {
  const headerType = bareMediaType(contentType);
  if (SCHEMA1_TYPES.has(headerType)) throw schema1(what);
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw invalid(what, 'not valid JSON');
  }
  if (!isObject(doc)) throw invalid(what, 'not a JSON object');
  if (doc.schemaVersion === 1) throw schema1(what);
  const bodyType = typeof doc.mediaType === 'string' ? doc.mediaType : '';
  if (SCHEMA1_TYPES.has(bodyType)) throw schema1(what);
  if (doc.schemaVersion !== 2)
    throw invalid(what, `schemaVersion ${JSON.stringify(doc.schemaVersion)} is not 2`);

  let mediaType = GENERIC_TYPES.has(headerType) ? bodyType : headerType;
  if (mediaType === '')
    mediaType = Array.isArray(doc.manifests) ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.ociManifest;

  if (INDEX_TYPES.has(mediaType)) {
    if (!Array.isArray(doc.manifests)) throw invalid(what, 'index has no "manifests" list');
    const manifests = doc.manifests.map((d, i) => parseDescriptor(d, what, `manifests[${i}]`));
    return { kind: 'index', mediaType, manifests };
  }
  if (IMAGE_TYPES.has(mediaType)) {
    const config = parseDescriptor(doc.config, what, 'config');
    if (!CONFIG_TYPES.has(config.mediaType)) {
      throw new EngineError(
        'ENG_IMAGE_MEDIA_TYPE_UNSUPPORTED',
        `${what}: not a container image (config media type "${config.mediaType}"; artifacts are not scanned)`,
      );
    }
    if (!Array.isArray(doc.layers)) throw invalid(what, 'manifest has no "layers" list');
    const layers = doc.layers.map((d, i) => parseDescriptor(d, what, `layers[${i}]`));
    return { kind: 'image', mediaType, config, layers };
  }
  throw new EngineError(
    'ENG_IMAGE_MEDIA_TYPE_UNSUPPORTED',
    `${what}: unsupported manifest media type "${mediaType}" (supported: ${MANIFEST_ACCEPT})`,
  );
}
