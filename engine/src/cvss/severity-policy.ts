/**
 * Which severity a finding gets when several sources describe its vulnerability (ARCHITECTURE §2).
 *
 * Default, NVD-first:
 *   1. a CVSS vector, by version: v3.1/v3.0 first, then v4.0, then v2 (on NVD's v2 scale); within a
 *      version, by source: NVD's Primary metric (NVD's own score, or the CNA score NVD adopted as
 *      primary), then the other metrics in the NVD record (CNA / Secondary), then GHSA / OSV, then
 *      distros and vendors (`vendorSource` first among them); within a source v3.1 before v3.0;
 *   2. a vendor's qualitative rating: the per-package rating of the matched affected entry
 *      (`affectedSeverity`, e.g. a Debian urgency), then the ratings on the records in the source
 *      order above (GHSA's `MODERATE`, Ubuntu's priority…);
 *   3. UNKNOWN.
 * Vendor-first (`prefer: 'vendor'`, for OS packages): the vendor's own CVSS vectors (records whose
 * source is `vendorSource`; without one, every record that is not nvd / ghsa / osv), then the
 * vendor's rating (`affectedSeverity`, then the vendor records' ratings), then the NVD-first order.
 *
 * Scores are always recomputed from the vector with scoreCvss (a feed's stated score is never
 * used); a vector that does not parse is skipped. A rating mapped to UNKNOWN (Debian's
 * "not yet assigned") is skipped too.
 */
import type { CvssEntry, CvssVersion, VendorSeverity, Vulnerability } from '../model/vulnerability.js';
import type { Severity } from '../model/severity.js';
import { isEngineError } from '../errors.js';
import { scoreCvss, type CvssScore } from './score.js';

/** What one source says about the vulnerability, keyed by the feed it came from (`nvd`, `ghsa`, `debian`…). */
export interface SeverityRecord {
  source: string;
  vulnerability: Vulnerability;
}

export interface PickSeverityOptions {
  /** `nvd` (default): NVD's vectors first; `vendor`: the distro's / vendor's own score and rating first */
  prefer?: 'nvd' | 'vendor';
  /** the feed of the package's distro or vendor (`debian`, `redhat`…) */
  vendorSource?: string;
  /** the per-package rating of the matched affected entry (Debian urgency, Ubuntu priority) */
  affectedSeverity?: VendorSeverity;
}

/** The severity chosen, and where it came from (the report shows both). */
export interface SeverityChoice {
  severity: Severity;
  /** the vector that gave the severity; null when it came from a rating or is UNKNOWN */
  cvss: { version: CvssVersion; vector: string; score: number; source: string } | null;
  /** the feed whose vector or rating gave the severity (`nvd`, `ghsa`, `debian`…); `none` for UNKNOWN */
  source: string;
  /** the vendor rating used, when the severity came from one */
  rating?: VendorSeverity;
}

/** Feeds that carry GitHub / OSV advisories. */
const ADVISORY_FEEDS: ReadonlySet<string> = new Set(['ghsa', 'osv']);

interface Candidate {
  record: SeverityRecord;
  entry: CvssEntry;
  scored: CvssScore;
  sourceRank: number;
  order: number;
}

const VERSION_TIER: Record<CvssVersion, number> = { '3.1': 0, '3.0': 0, '4.0': 1, '2.0': 2 };
const MINOR_RANK: Record<CvssVersion, number> = { '3.1': 0, '3.0': 1, '4.0': 0, '2.0': 0 };

function sourceRank(record: SeverityRecord, entry: CvssEntry | undefined, vendorSource?: string): number {
  if (record.source === 'nvd') {
    if (!entry) return 0;
    const primary = entry.type === 'Primary' || (entry.type === undefined && entry.source === 'nvd@nist.gov');
    return primary ? 0 : 1;
  }
  if (ADVISORY_FEEDS.has(record.source)) return 2;
  return record.source === vendorSource ? 3 : 4;
}

function isVendorRecord(record: SeverityRecord, vendorSource?: string): boolean {
  return vendorSource !== undefined
    ? record.source === vendorSource
    : record.source !== 'nvd' && !ADVISORY_FEEDS.has(record.source);
}

function score(vector: string): CvssScore | undefined {
  try {
    return scoreCvss(vector);
  } catch (e) {
    if (isEngineError(e) && e.code === 'ENG_CVSS_INVALID') return undefined;
    throw e;
  }
}

function bestCvss(candidates: Candidate[]): Candidate | undefined {
  let best: Candidate | undefined;
  for (const c of candidates) {
    // version tier, source rank, minor version, order: the first difference decides
    const d = !best
      ? -1
      : VERSION_TIER[c.scored.version] - VERSION_TIER[best.scored.version] ||
        c.sourceRank - best.sourceRank ||
        MINOR_RANK[c.scored.version] - MINOR_RANK[best.scored.version] ||
        c.order - best.order;
    if (d < 0) best = c;
  }
  return best;
}

function fromCvss(c: Candidate): SeverityChoice {
  return {
    severity: c.scored.severity,
    cvss: {
      version: c.scored.version,
      vector: c.entry.vector,
      score: c.scored.baseScore,
      source: c.entry.source || c.record.source,
    },
    source: c.record.source,
  };
}

function fromRating(rating: VendorSeverity): SeverityChoice {
  return { severity: rating.severity, cvss: null, source: rating.source, rating };
}

/**
 * Picks the severity of a vulnerability from the records of every source that describes it.
 *
 * @param records one entry per source record (`source` is the feed name: `nvd`, `ghsa`, `osv`,
 *   `debian`, `ubuntu`, `redhat`…); order matters only to break exact ties
 * @param options `prefer` (`nvd` default or `vendor`), `vendorSource`, `affectedSeverity`
 * @returns the severity, the vector used (recomputed score, scorer as `cvss.source`) or null, and
 *   the feed it came from; `{ severity: 'UNKNOWN', cvss: null, source: 'none' }` when nothing rates it
 * @throws nothing for bad vectors (they are skipped); only unexpected programming errors propagate
 */
export function pickSeverity(
  records: readonly SeverityRecord[],
  options: PickSeverityOptions = {},
): SeverityChoice {
  const { vendorSource, affectedSeverity } = options;
  const candidates: Candidate[] = [];
  let order = 0;
  for (const record of records) {
    for (const entry of record.vulnerability.cvss ?? []) {
      const scored = score(entry.vector);
      if (scored)
        candidates.push({
          record,
          entry,
          scored,
          sourceRank: sourceRank(record, entry, vendorSource),
          order: order++,
        });
    }
  }
  // only a rating needs the records in source order: most vulnerabilities are decided by a vector
  const rankedRecords = () =>
    records
      .map((record, i) => ({ record, rank: sourceRank(record, undefined, vendorSource), i }))
      .sort((a, b) => a.rank - b.rank || a.i - b.i)
      .map((r) => r.record);
  const usable = (r: VendorSeverity | undefined): r is VendorSeverity => !!r && r.severity !== 'UNKNOWN';
  const ratingsOf = (rs: readonly SeverityRecord[]) =>
    rs.flatMap((r) => r.vulnerability.vendorSeverities ?? []);

  if (options.prefer === 'vendor') {
    const vendorCvss = bestCvss(candidates.filter((c) => isVendorRecord(c.record, vendorSource)));
    if (vendorCvss) return fromCvss(vendorCvss);
    if (usable(affectedSeverity)) return fromRating(affectedSeverity);
    const vendorRating = ratingsOf(rankedRecords().filter((r) => isVendorRecord(r, vendorSource))).find(
      usable,
    );
    if (vendorRating) return fromRating(vendorRating);
  }
  const anyCvss = bestCvss(candidates);
  if (anyCvss) return fromCvss(anyCvss);
  if (usable(affectedSeverity)) return fromRating(affectedSeverity);
  const rating = ratingsOf(rankedRecords()).find(usable);
  if (rating) return fromRating(rating);
  return { severity: 'UNKNOWN', cvss: null, source: 'none' };
}
