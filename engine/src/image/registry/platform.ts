/**
 * Platform matching for image indexes and manifest lists, following the OCI index `platform`
 * field (https://github.com/opencontainers/image-spec/blob/main/image-index.md) and the
 * normalisation containerd applies (arm64 defaults to v8, arm to v7, amd64 to v1; an arm/v7 host
 * also runs v6 and v5 images, an amd64/v3 host runs v2 and v1).
 */
import type { Platform } from '../types.js';
import type { Descriptor } from './manifest.js';

const ARCH_ALIASES: Record<string, { architecture: string; variant?: string }> = {
  x86_64: { architecture: 'amd64' },
  'x86-64': { architecture: 'amd64' },
  aarch64: { architecture: 'arm64' },
  armhf: { architecture: 'arm', variant: 'v7' },
  armel: { architecture: 'arm', variant: 'v6' },
  i386: { architecture: '386' },
};

const DEFAULT_VARIANT: Record<string, string> = { arm64: 'v8', arm: 'v7', amd64: 'v1' };
/** Variants each variant can run, best first. */
const COMPATIBLE: Record<string, string[]> = {
  arm: ['v8', 'v7', 'v6', 'v5'],
  amd64: ['v4', 'v3', 'v2', 'v1'],
};

/** Lower-cases, maps architecture aliases and fills the default variant (`arm64` → `arm64/v8`). */
export function normalizePlatform(platform: Platform): Required<Platform> {
  const os = platform.os.toLowerCase();
  let architecture = platform.architecture.toLowerCase();
  let variant = platform.variant?.toLowerCase();
  const alias = ARCH_ALIASES[architecture];
  if (alias) {
    architecture = alias.architecture;
    variant ??= alias.variant;
  }
  if (variant !== undefined && /^\d+$/.test(variant)) variant = `v${variant}`;
  variant ??= DEFAULT_VARIANT[architecture] ?? '';
  return { os, architecture, variant };
}

/** `os/arch[/variant]` as written in the index (no defaults added). */
export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}

/** Preference rank of `candidate` for a host of platform `want` (0 best), or -1 when it cannot run. */
function rank(want: Required<Platform>, candidate: Required<Platform>): number {
  if (want.os !== candidate.os || want.architecture !== candidate.architecture) return -1;
  if (want.variant === candidate.variant) return 0;
  const ladder = COMPATIBLE[want.architecture];
  if (!ladder) return -1;
  const from = ladder.indexOf(want.variant);
  const at = ladder.indexOf(candidate.variant);
  return from !== -1 && at > from ? at - from : -1;
}

/**
 * Picks the manifest of an index that runs on `want`: an exact (normalised) match first, then the
 * closest compatible older variant; the first such entry in index order wins. Entries without a
 * platform (e.g. attestations) never match.
 *
 * @returns the descriptor, or undefined when none fits (the caller lists the available ones).
 */
export function selectPlatform(manifests: readonly Descriptor[], want: Platform): Descriptor | undefined {
  const target = normalizePlatform(want);
  let best: Descriptor | undefined;
  let bestRank = Infinity;
  for (const descriptor of manifests) {
    if (!descriptor.platform) continue;
    const r = rank(target, normalizePlatform(descriptor.platform));
    if (r >= 0 && r < bestRank) {
      best = descriptor;
      bestRank = r;
    }
  }
  return best;
}

/** Distinct platforms of an index, for error messages (attestation entries `unknown/unknown` left out). */
export function availablePlatforms(manifests: readonly Descriptor[]): string[] {
  const seen = new Set<string>();
  for (const { platform } of manifests) {
    if (platform && platform.os !== 'unknown') seen.add(formatPlatform(platform));
  }
  return [...seen];
}
