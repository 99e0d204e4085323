/**
 * Findings: an installed package matched to a vulnerability, with everything a report shows.
 * The engine's matcher produces them from an inventory (ScanResult) and a snapshot (AdvisoryReader).
 */
import type { Package } from './package.js';
import type { ScanResult } from './scan.js';
import type { Severity } from './severity.js';
import type { CvssVersion, FixState, KevEntry, VendorSeverity } from './vulnerability.js';

export interface FindingCvss {
  version: CvssVersion;
  vector: string;
  /** recomputed with scoreCvss, never copied from a feed */
  score: number;
  /** who published the vector (`nvd@nist.gov`, `ghsa`, a CNA, `redhat`…) */
  source: string;
}

export interface Finding {
  /** the id reported: the CVE when the vulnerability has one, else the advisory id (GHSA-…, DSA-…) */
  id: string;
  /** every other id of the same vulnerability, sorted */
  aliases: string[];
  /** the installed package (purl, path, layer as in the inventory) */
  package: Package;
  installedVersion: string;
  /** the first version that fixes it for this package's line, null when none is known */
  fixedVersion: string | null;
  status: FixState;
  severity: Severity;
  /** where the severity came from: `cvss:<source>` or `vendor:<source>`, `none` for UNKNOWN */
  severitySource: string;
  cvss: FindingCvss | null;
  /** the distro's or vendor's own rating for this package, when it has one */
  vendorSeverity?: VendorSeverity;
  kev: boolean;
  kevEntry?: KevEntry;
  epss: number | null;
  epssPercentile: number | null;
  title?: string;
  description?: string;
  /** `references`, `cwes` and `cvss` may be shared with other findings of the vulnerability: read-only */
  references: string[];
  cwes: string[];
  published?: string;
  /** the feeds and advisory records that produced the match */
  dataSources: { source: string; namespace: string; advisoryId: string }[];
}

/** A non-fatal condition of matching the user must see (unknown or end-of-life distro release…). */
export interface MatchWarning {
  code: string;
  message: string;
}

/** One upgrade that fixes findings: "upgrade openssl 1.1.1c-r0 → 1.1.1d-r0 fixes 4 (2 critical, 1 high)". */
export interface Remediation {
  packageName: string;
  ecosystem: Package['ecosystem'];
  /** path of the package (language packages); OS packages have none */
  path?: string;
  installedVersion: string;
  /** the lowest version that fixes every fixable finding of this package */
  fixedVersion: string;
  fixes: number;
  bySeverity: Record<Severity, number>;
  ids: string[];
}

/** A scanned inventory with its findings. */
export interface VulnerabilityScanResult extends ScanResult {
  db: { version: string; builtAt: string } | null;
  findings: Finding[];
  remediations: Remediation[];
  warnings: MatchWarning[];
}
