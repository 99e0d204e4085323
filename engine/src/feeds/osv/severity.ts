/**
 * Severity pieces shared by the OSV and GitHub advisory parsers: CVSS vectors as published and
 * vendors' qualitative ratings mapped onto Vigil's scale.
 */
import type { CvssEntry, CvssVersion, VendorSeverity } from '../../model/vulnerability.js';
import type { Severity } from '../../model/severity.js';

/**
 * A CVSS entry from an OSV `severity[]` item (`CVSS_V2`, `CVSS_V3`, `CVSS_V4`) or a GitHub vector.
 * The version comes from the vector's `CVSS:3.0/`, `CVSS:3.1/`, `CVSS:4.0/` prefix (v2 vectors have
 * none and start with `AV:`). The vector is kept as published (scoreCvss re-computes the score).
 * @returns undefined when the vector does not match the type (`CVSS_V3` with a v2 vector, junk).
 */
export function cvssFromVector(
  type: 'CVSS_V2' | 'CVSS_V3' | 'CVSS_V4' | 'auto',
  vector: string,
  source: string,
  baseScore?: number,
): CvssEntry | undefined {
  let version: CvssVersion | undefined;
  const prefixed = /^CVSS:(3\.0|3\.1|4\.0)\//.exec(vector);
  if (prefixed) version = prefixed[1] as CvssVersion;
  else if (/^\(?AV:[LAN]\//.test(vector)) version = '2.0';
  if (version === undefined) return undefined;
  if (type === 'CVSS_V2' && version !== '2.0') return undefined;
  if (type === 'CVSS_V3' && version !== '3.0' && version !== '3.1') return undefined;
  if (type === 'CVSS_V4' && version !== '4.0') return undefined;
  const entry: CvssEntry = { version, vector, source };
  if (baseScore !== undefined && Number.isFinite(baseScore) && baseScore > 0 && baseScore <= 10)
    entry.baseScore = baseScore;
  return entry;
}

/**
 * A vendor's rating on Vigil's scale: GHSA `LOW / MODERATE / HIGH / CRITICAL` (REST: lower case),
 * Ubuntu priorities `negligible / low / medium / high / critical` (negligible → LOW, as Ubuntu
 * treats it as a low-priority issue that is still tracked), Red Hat family impacts
 * `Low / Moderate / Important / Critical`, Bitnami `Low / Medium / High / Critical`.
 * Anything else (`untriaged`, `unknown`) → UNKNOWN.
 */
export function ratingToSeverity(rating: string): Severity {
  switch (rating.trim().toLowerCase()) {
    case 'critical':
      return 'CRITICAL';
    case 'high':
    case 'important':
      return 'HIGH';
    case 'moderate':
    case 'medium':
      return 'MEDIUM';
    case 'low':
    case 'negligible':
      return 'LOW';
    default:
      return 'UNKNOWN';
  }
}

export function vendorSeverity(source: string, rating: string): VendorSeverity {
  return { source, rating, severity: ratingToSeverity(rating) };
}

/** Appends `entry` unless an equal one (version, vector, source) is there already. */
export function addCvss(list: CvssEntry[], entry: CvssEntry | undefined): void {
  if (!entry) return;
  const same = list.find(
    (c) => c.version === entry.version && c.vector === entry.vector && c.source === entry.source,
  );
  if (!same) list.push(entry);
  else if (same.baseScore === undefined && entry.baseScore !== undefined) same.baseScore = entry.baseScore;
}

/** Order-keeping de-duplication. */
export function unique<T>(items: Iterable<T>): T[] {
  return [...new Set(items)];
}
