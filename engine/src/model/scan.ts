/** The result of an inventory scan: what was scanned, its OS, its packages and what could not be read. */
import type { OsRelease } from './os.js';
import type { Package } from './package.js';
import type { Unknown } from './unknown.js';

export type ArtifactKind = 'registry' | 'docker-archive' | 'oci-layout' | 'rootfs' | 'sbom';

export interface ScannedArtifact {
  name: string;
  kind: ArtifactKind;
  /** manifest digest */
  digest?: string;
  repoTags?: string[];
  repoDigests?: string[];
  configDigest?: string;
  layers?: { diffId: string; digest?: string; size?: number }[];
}

export interface ScanResult {
  artifact: ScannedArtifact;
  os?: OsRelease;
  packages: Package[];
  unknowns: Unknown[];
  /** `partial` when some content could not be read (see unknowns) */
  status: 'succeeded' | 'partial';
  startedAt: string;
  finishedAt: string;
}
