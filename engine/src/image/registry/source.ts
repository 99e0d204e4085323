/**
 * Registry image source: resolves a reference to one platform's image manifest, fetches and
 * verifies its config, and hands out layers that stream (and verify) their blobs on demand.
 */
import { EngineError } from '../../errors.js';
import { DEFAULT_PLATFORM, type ImageSource, type LayerDescriptor, type Platform } from '../types.js';
import { RegistryClient, type FetchedManifest } from './client.js';
import { parseImageConfig } from './config.js';
import type { CredentialSources } from './credentials.js';
import { parseManifest, type ParsedManifest } from './manifest.js';
import { createTransport, DEFAULT_MAX_MANIFEST_BYTES, type RegistryImageOptions } from './options.js';
import { availablePlatforms, formatPlatform, normalizePlatform, selectPlatform } from './platform.js';
import { parseReference, type ImageReference } from './reference.js';

/** Config blobs are small (history and env); the cap only guards against a hostile registry. */
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;
/** Index → index → manifest is the deepest nesting followed. */
const MAX_INDEX_DEPTH = 2;

function credentialSources(options: RegistryImageOptions): CredentialSources {
  return {
    ...(options.auth ? { auth: options.auth } : {}),
    ...(options.dockerConfigPath ? { dockerConfigPath: options.dockerConfigPath } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  };
}

function capOf(options: RegistryImageOptions): number {
  const cap = options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
  if (!Number.isSafeInteger(cap) || cap <= 0) {
    throw new EngineError(
      'ENG_INVALID_ARGUMENT',
      `registry options: maxManifestBytes must be a positive integer, got ${cap}`,
    );
  }
  return cap;
}

function samePlatform(
  want: Platform,
  config: { os?: unknown; architecture?: unknown; variant?: unknown },
): boolean {
  if (typeof config.os !== 'string' || typeof config.architecture !== 'string') return true; // nothing to compare
  const a = normalizePlatform(want);
  const b = normalizePlatform({
    os: config.os,
    architecture: config.architecture,
    ...(typeof config.variant === 'string' && config.variant ? { variant: config.variant } : {}),
  });
  return (
    a.os === b.os &&
    a.architecture === b.architecture &&
    (want.variant === undefined || a.variant === b.variant)
  );
}

async function resolveImageManifest(
  client: RegistryClient,
  ref: ImageReference,
  platform: Platform,
  cap: number,
): Promise<{
  top: FetchedManifest;
  digest: string;
  manifest: Extract<ParsedManifest, { kind: 'image' }>;
  viaIndex: boolean;
}> {
  const reference = ref.digest ?? ref.tag ?? 'latest';
  const top = await client.manifest(reference, cap, ref.digest ? { digest: ref.digest } : undefined);
  let parsed = parseManifest(top.bytes, top.contentType, client.subject(`manifest "${reference}"`));
  let digest = top.digest;
  for (let depth = 0; parsed.kind === 'index'; depth++) {
    if (depth >= MAX_INDEX_DEPTH) {
      throw new EngineError(
        'ENG_IMAGE_MANIFEST_INVALID',
        `${client.subject(`manifest "${reference}"`)}: indexes nested too deep`,
      );
    }
    const chosen = selectPlatform(parsed.manifests, platform);
    if (!chosen) {
      const available = availablePlatforms(parsed.manifests);
      throw new EngineError(
        'ENG_IMAGE_PLATFORM_NOT_FOUND',
        `${ref.canonical} has no image for platform ${formatPlatform(platform)}; available: ${available.length ? available.join(', ') : 'none'}`,
      );
    }
    const child = await client.manifest(chosen.digest, cap, { digest: chosen.digest, size: chosen.size });
    parsed = parseManifest(
      child.bytes,
      child.contentType ?? chosen.mediaType,
      client.subject(`manifest "${chosen.digest}"`),
    );
    digest = chosen.digest;
  }
  return { top, digest, manifest: parsed, viaIndex: digest !== top.digest };
}

/**
 * Opens an image in an OCI distribution registry as an ImageSource.
 *
 * Manifest lists and OCI indexes resolve to `options.platform` (default linux/amd64). The
 * manifest is verified against the reference digest and Docker-Content-Digest, the config
 * against its descriptor; layers verify while they stream. `digest` is the platform manifest's
 * digest; `repoDigests` holds the digest the reference resolved to (the index for multi-arch
 * images), `repoTags` the tag when one was named, both in docker's familiar form (`alpine:3.19`).
 *
 * @param ref - a reference string (see parseReference) or a parsed reference.
 * @throws EngineError ENG_IMAGE_REF_INVALID, ENG_INVALID_ARGUMENT, ENG_REGISTRY_* (unauthorized,
 *   forbidden, not found, rate limited, server error, unreachable, timeout, insecure refused,
 *   protocol), ENG_CREDENTIALS_HELPER_FAILED, ENG_IMAGE_MANIFEST_UNSUPPORTED (schema 1),
 *   ENG_IMAGE_MEDIA_TYPE_UNSUPPORTED, ENG_IMAGE_MANIFEST_INVALID, ENG_IMAGE_MANIFEST_TOO_LARGE,
 *   ENG_IMAGE_PLATFORM_NOT_FOUND, ENG_IMAGE_CONFIG_INVALID, ENG_DIGEST_MISMATCH, ENG_ABORTED.
 */
export async function openRegistryImage(
  ref: string | ImageReference,
  options: RegistryImageOptions = {},
): Promise<ImageSource> {
  const reference = typeof ref === 'string' ? parseReference(ref) : ref;
  const cap = capOf(options);
  const platform = options.platform ?? DEFAULT_PLATFORM;
  const { transport, release } = createTransport(options);
  let closed = false;
  try {
    const client = new RegistryClient(reference, transport, credentialSources(options));
    const { top, digest, manifest, viaIndex } = await resolveImageManifest(client, reference, platform, cap);
    const configBytes = await client.configBytes(manifest.config, MAX_CONFIG_BYTES);
    const config = parseImageConfig(configBytes, client.subject(`config ${manifest.config.digest}`));
    if (options.platform && !viaIndex && !samePlatform(options.platform, config)) {
      throw new EngineError(
        'ENG_IMAGE_PLATFORM_NOT_FOUND',
        `${reference.canonical} is a single-platform image for ${formatPlatform({ os: String(config.os), architecture: String(config.architecture), ...(config.variant ? { variant: config.variant } : {}) })}, not ${formatPlatform(options.platform)}`,
      );
    }
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== manifest.layers.length) {
      throw new EngineError(
        'ENG_IMAGE_CONFIG_INVALID',
        `${client.subject(`config ${manifest.config.digest}`)}: ${diffIds.length} diff_ids for ${manifest.layers.length} layers`,
      );
    }
    const layers: LayerDescriptor[] = manifest.layers.map((descriptor, i) => ({
      diffId: diffIds[i]!,
      digest: descriptor.digest,
      mediaType: descriptor.mediaType,
      size: descriptor.size,
      open: async (signal?: AbortSignal) => {
        if (closed) {
          throw new EngineError(
            'ENG_INVALID_ARGUMENT',
            `${client.subject(`layer ${descriptor.digest}`)}: the image source is closed`,
          );
        }
        return client.openBlob(descriptor, signal);
      },
    }));
    return {
      kind: 'registry',
      name: typeof ref === 'string' ? ref : reference.canonical,
      digest,
      repoTags: reference.tag !== undefined ? [`${reference.familiarRepository}:${reference.tag}`] : [],
      repoDigests: [`${reference.familiarRepository}@${top.digest}`],
      config,
      configDigest: manifest.config.digest,
      layers,
      close: async () => {
        closed = true;
        await release();
      },
    };
  } catch (error) {
    await release();
    throw error;
  }
}

export interface ManifestHead {
  /** Digest the reference resolves to (the index digest for multi-platform images). */
  digest: string;
  mediaType: string;
  size: number | undefined;
}

/**
 * Resolves a reference to its manifest digest with a HEAD request (cheap: Docker Hub does not
 * count HEADs against pull limits). Falls back to GET when the registry sends no digest header.
 * @throws EngineError as openRegistryImage for registry failures; ENG_DIGEST_MISMATCH when a
 *   digest reference resolves to another digest.
 */
export async function headRegistryManifest(
  ref: string | ImageReference,
  options: RegistryImageOptions = {},
): Promise<ManifestHead> {
  const reference = typeof ref === 'string' ? parseReference(ref) : ref;
  const cap = capOf(options);
  const { transport, release } = createTransport(options);
  try {
    const client = new RegistryClient(reference, transport, credentialSources(options));
    const target = reference.digest ?? reference.tag ?? 'latest';
    const head = await client.headManifest(target);
    if (head.digest && reference.digest && head.digest !== reference.digest) {
      throw new EngineError(
        'ENG_DIGEST_MISMATCH',
        `${client.subject(`manifest "${target}"`)}: registry answers ${head.digest}`,
      );
    }
    const mediaType = (head.contentType ?? '').split(';')[0]!.trim();
    if (head.digest) return { digest: head.digest, mediaType, size: head.size };
    const full = await client.manifest(
      target,
      cap,
      reference.digest ? { digest: reference.digest } : undefined,
    );
    return {
      digest: full.digest,
      mediaType: (full.contentType ?? '').split(';')[0]!.trim(),
      size: full.bytes.length,
    };
  } finally {
    await release();
  }
}
