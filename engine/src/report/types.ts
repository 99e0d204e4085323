/**
 * The Vigil JSON report (`--format json`), schemaVersion 1: ARCHITECTURE §5. Field names are a
 * contract (extend freely, never rename). The JSON Schema is schemas/vigil-report-1.schema.json;
 * a test keeps it and these types in step.
 *
 * Decisions beyond §5:
 * - `db` is always present and `null` for inventory-only scans (no vulnerability database was
 *   consulted), so consumers can tell "not matched" from "matched, nothing found".
 * - Extensions: `status`, `scannedAt`, `artifact.kind`, `artifact.configDigest`,
 *   `artifact.repoTags`, `artifact.repoDigests`; per vulnerability `pkgPath`, `purl`, `layer`,
 *   `srcName`, `severitySource`, `epssPercentile`, `cwes`, `dataSources`, `published`,
 *   `description`; top-level `remediations` (the fix plan) and `warnings` (matching warnings).
 * - `status` also takes `deferred` (the vendor postponed a fix), the fifth FixState.
 * - `summary` counts every entry of `vulnerabilities` (whatever its status) by severity.
 */
import type { ArtifactKind } from '../model/scan.js';
import type { Ecosystem } from '../model/package.js';
import type { Severity } from '../model/severity.js';

export const REPORT_SCHEMA_VERSION = 1;

export { SEVERITIES, type Severity } from '../model/severity.js';

export const VULNERABILITY_STATUSES = [
  'fixed',
  'unfixed',
  'will-not-fix',
  'deferred',
  'not-affected',
] as const;
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
  /** image-relative path of the file the package was found in (language packages). */
  pkgPath?: string;
  /** package-url of the package, when one could be made. */
  purl?: string;
  /** diffID of the layer that introduced the package. */
  layer?: string;
  /** OS source package name (dpkg `Source:`, apk origin, rpm SOURCERPM name). */
  srcName?: string;
  /** where the severity came from: `cvss:<source>`, `vendor:<source>` or `none`. */
  severitySource: string;
  epssPercentile: number | null;
  /** CWE ids, e.g. `CWE-79`. */
  cwes: string[];
  /** the feeds and advisory records that produced the match. */
  dataSources: ReportDataSource[];
  /** ISO 8601 publication time, when known. */
  published?: string;
  description?: string;
}

export interface ReportDataSource {
  /** feed name, e.g. `alpine`, `ghsa`. */
  source: string;
  /** distro release (`alpine:3.10`) or language ecosystem (`npm`). */
  namespace: string;
  /** the advisory record's own id (CVE-…, GHSA-…, DSA-…). */
  advisoryId: string;
}

/** Per-severity counts (the keys of the summary, without the total). */
export interface ReportSeverityCounts {
  critical: number;
  high: number;
  medium: number;
  low: number;
  unknown: number;
}

/** One upgrade of the fix plan: "upgrade openssl 1.1.1c-r0 → 1.1.1d-r0 fixes 4 (2 critical, 1 high)". */
export interface ReportRemediation {
  pkgName: string;
  ecosystem: Ecosystem;
  /** path of the package (language packages). */
  pkgPath?: string;
  installedVersion: string;
  fixedVersion: string;
  /** number of vulnerabilities the upgrade fixes. */
  fixes: number;
  bySeverity: ReportSeverityCounts;
  /** the ids it fixes. */
  ids: string[];
}

/** A non-fatal matching condition (unknown or end-of-life distro release…). */
export interface ReportWarning {
  code: string;
  message: string;
}

export interface ReportUnknown {
  path: string;
  message: string;
}

export interface ReportSummary extends ReportSeverityCounts {
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
  /** The fix plan, most severe first; empty for inventory-only scans. */
  remediations: ReportRemediation[];
  /** Matching warnings; empty for inventory-only scans. */
  warnings: ReportWarning[];
}

/** Output formats of `renderReport` (and `renderInventory`), ARCHITECTURE §5 `--format`. */
export const REPORT_FORMATS = ['table', 'json', 'sarif', 'cyclonedx', 'spdx', 'junit', 'markdown'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];
