/**
 * The Vigil JSON report (`--format json`), schemaVersion 1: ARCHITECTURE §5. Field names are a
 * contract (extend freely, never rename). The JSON Schema is schemas/vigil-report-1.schema.json;
 * a test keeps it and these types in step.
 *
 * Decisions beyond §5:
 * - `db` is always present and `null` for inventory-only scans (no vulnerability database was
 *   consulted), so consumers can tell "not matched" from "matched, nothing found".
 * - Extensions: `status`, `scannedAt`, `artifact.kind`, `artifact.configDigest`,
 *   `artifact.repoTags`, `artifact.repoDigests`.
 */
import type { ArtifactKind } from '../model/scan.js';
import type { Ecosystem } from '../model/package.js';
import type { Severity } from '../model/severity.js';

export const REPORT_SCHEMA_VERSION = 1;

export { SEVERITIES, type Severity } from '../model/severity.js';

export const VULNERABILITY_STATUSES = ['fixed', 'unfixed', 'will-not-fix', 'not-affected'] as const;
export type VulnerabilityStatus = (typeof VULNERABILITY_STATUSES)[number];

export interface ReportArtifact {
  /** What the user named: image reference, archive or directory path. */
  name: string;
  /** Manifest digest, when the source has one. */
  digest?: string;
  os?: { family: string; version: string };
  kind?: ArtifactKind;
  configDigest?: string;
  repoTags?: string[];
  repoDigests?: string[];
}

/** The vulnerability database snapshot the findings came from. */
export interface ReportDb {
  /** Snapshot version (content hash). */
  version: string;
  /** ISO 8601 time the snapshot was built. */
  builtAt: string;
}

export interface ReportPackage {
  name: string;
  version: string;
  ecosystem: Ecosystem;
  /** package-url; `''` only when none could be made (see toPurl). */
  purl: string;
  srcName?: string;
  srcVersion?: string;
  /** diffID of the layer that introduced the package. */
  layer?: string;
  /** image-relative path of the file it was found in. */
  path?: string;
}

export interface ReportCvss {
  /** CVSS version: `2.0`, `3.0`, `3.1` or `4.0`. */
  version: string;
  vector: string;
  score: number;
  /** Who supplied the vector (e.g. `nvd`, `ghsa`, `redhat`). */
  source: string;
}

export interface ReportVulnerability {
  id: string;
  aliases: string[];
  pkgName: string;
  ecosystem: Ecosystem;
  installedVersion: string;
  fixedVersion: string | null;
  status: VulnerabilityStatus;
  severity: Severity;
  cvss: ReportCvss | null;
  kev: boolean;
  epss: number | null;
  title?: string;
  references: string[];
}

export interface ReportUnknown {
  path: string;
  message: string;
}

export interface ReportSummary {
  critical: number;
  high: number;
  medium: number;
  low: number;
  unknown: number;
  total: number;
}

export interface VigilReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  artifact: ReportArtifact;
  db: ReportDb | null;
  packages: ReportPackage[];
  vulnerabilities: ReportVulnerability[];
  unknowns: ReportUnknown[];
  summary: ReportSummary;
  /** `partial` when some content could not be read (see unknowns). */
  status: 'succeeded' | 'partial';
  /** ISO 8601 time the scan finished. */
  scannedAt: string;
}

/** Inventory output formats (`renderInventory`). */
export const REPORT_FORMATS = ['json', 'cyclonedx', 'spdx'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];
