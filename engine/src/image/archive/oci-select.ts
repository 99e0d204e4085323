/**
 * Choice of one image manifest in an OCI layout: by `org.opencontainers.image.ref.name`
 * (or containerd's `io.containerd.image.name`) when a ref is given, then by platform through
 * nested indexes, else the only manifest. Follows image-spec image-layout.md and image-index.md.
 */
import { EngineError } from '../../errors.js';
import type { Platform } from '../types.js';
import { normalizeRef } from './docker-manifest.js';
import { documentKind, parseIndex, type Descriptor } from './oci-manifest.js';
import { INDEX_TYPES } from './media-types.js';

export const REF_NAME = 'org.opencontainers.image.ref.name';
export const CONTAINERD_NAME = 'io.containerd.image.name';
const MAX_INDEX_DEPTH = 4;

/** Fetches and parses a blob by descriptor (digest-verified, size-capped). */
export type FetchJson = (descriptor: Descriptor, what: string) => Promise<unknown>;

export interface Selection {
  descriptor: Descriptor;
  /** The top-level index.json descriptor it was reached from (carries the ref annotations). */
  top: Descriptor;
}

function normArch(p: Platform): Platform {
  const variant =
    p.variant ?? (p.architecture === 'arm64' ? 'v8' : p.architecture === 'arm' ? 'v7' : undefined);
  return variant ? { ...p, variant } : p;
}

/** True when `have` satisfies `want` (variant compared only when wanted; arm64 defaults to v8). */
export function platformMatches(have: Platform, want: Platform): boolean {
  const h = normArch(have);
  const w = normArch(want);
  if (h.os !== w.os || h.architecture !== w.architecture) return false;
  return want.variant === undefined || h.variant === w.variant;
}

export const formatPlatform = (p: Platform) => [p.os, p.architecture, p.variant].filter(Boolean).join('/');

const isAttestation = (d: Descriptor) =>
  d.annotations['vnd.docker.reference.type'] === 'attestation-manifest' || d.platform?.os === 'unknown';

function matchesRef(d: Descriptor, ref: string): boolean {
  const name = d.annotations[REF_NAME];
  const containerd = d.annotations[CONTAINERD_NAME];
  if (name === ref || containerd === ref) return true;
  return containerd !== undefined && normalizeRef(containerd) === normalizeRef(ref);
}

/**
 * Selects the manifest to scan from the top-level index.json descriptors.
 * `platform` undefined means "default linux/amd64, else the only image".
 * Errors: ENG_IMAGE_SOURCE_NOT_FOUND (no descriptor with that ref), ENG_IMAGE_PLATFORM_NOT_FOUND,
 * ENG_INVALID_ARGUMENT (several untagged-by-platform images and no ref),
 * ENG_IMAGE_MANIFEST_INVALID (nesting too deep, empty), plus whatever `fetch` throws.
 */
export async function selectManifest(
  top: Descriptor[],
  options: { ref?: string; platform?: Platform; defaultPlatform: Platform; fetch: FetchJson; where: string },
): Promise<Selection> {
  const { where, fetch } = options;
  let roots = top;
  if (options.ref !== undefined) {
    const ref = options.ref;
    roots = top.filter((d) => matchesRef(d, ref));
    if (roots.length === 0) {
      const names = top.map((d) => d.annotations[REF_NAME] ?? d.annotations[CONTAINERD_NAME]).filter(Boolean);
      throw new EngineError(
        'ENG_IMAGE_SOURCE_NOT_FOUND',
        `${where}: no image named ${ref} in index.json (names: ${names.length ? names.join(', ') : 'none'})`,
      );
    }
  }

  const candidates: Selection[] = [];
  const expand = async (d: Descriptor, root: Descriptor, depth: number): Promise<void> => {
    if (isAttestation(d)) return;
    let isIndex = INDEX_TYPES.includes(d.mediaType);
    let doc: unknown;
    if (d.mediaType === '') {
      doc = await fetch(d, 'manifest');
      isIndex = documentKind(doc, '') === 'index';
    }
    if (!isIndex) {
      candidates.push({ descriptor: d, top: root });
      return;
    }
    if (depth >= MAX_INDEX_DEPTH)
      throw new EngineError('ENG_IMAGE_MANIFEST_INVALID', `${where}: image indexes nested too deeply`);
    doc ??= await fetch(d, 'image index');
    const children = parseIndex(doc, `${where} index ${d.digest}`);
    for (const child of children) await expand(child, root, depth + 1);
  };
  for (const d of roots) await expand(d, d, 0);
  if (candidates.length === 0)
    throw new EngineError('ENG_IMAGE_MANIFEST_INVALID', `${where}: the layout holds no image manifest`);

  // Artifacts attached to an image are listed beside it; prefer plain images.
  const images = candidates.filter((c) => c.descriptor.artifactType === undefined);
  const pool = images.length ? images : candidates;
  const want = options.platform ?? options.defaultPlatform;
  const match = pool.find((c) => c.descriptor.platform && platformMatches(c.descriptor.platform, want));
  if (match) return match;
  if (pool.length === 1 && (options.platform === undefined || pool[0]!.descriptor.platform === undefined))
    return pool[0]!;
  if (pool.every((c) => c.descriptor.platform === undefined)) {
    const names = pool.map((c) => c.top.annotations[REF_NAME] ?? c.descriptor.digest);
    throw new EngineError(
      'ENG_INVALID_ARGUMENT',
      `${where}: the layout holds ${pool.length} images; choose one by ref (${names.join(', ')})`,
    );
  }
  const available = pool.map((c) =>
    c.descriptor.platform ? formatPlatform(c.descriptor.platform) : 'unknown',
  );
  throw new EngineError(
    'ENG_IMAGE_PLATFORM_NOT_FOUND',
    `${where}: no image for platform ${formatPlatform(want)} (available: ${available.join(', ')})`,
  );
}
