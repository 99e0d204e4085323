/**
 * Vulnerability summaries: everything matching reads about one id, in ONE value, so a finding's
 * vulnerability costs one snapshot probe and one JSON.parse instead of a statement per table
 * (every source's record, aliases both ways, KEV, EPSS).
 *
 * The summary of an id:
 * - `records`: every source's record of the id, in source order (code points), each reduced to
 *   the members matching reads (SUMMARY_FIELDS) without empty lists; the id, NVD's CPE
 *   configurations, modification dates and members no Vigil code reads are left out
 *   (AdvisoryReader.vulnerabilities still has them);
 * - `aliases`: the ids linked to it through any source's alias lists, both directions, sorted
 *   (exactly AdvisoryReader.aliases);
 * - `kev` and `epss`: its KEV entry and EPSS score, when it has them.
 * Every id that has a record, an alias link, a KEV entry or an EPSS score has a summary.
 */
import type { EpssEntry, KevEntry, Vulnerability } from '../model/vulnerability.js';

/** The members of a record a summary keeps, in this order. */
export const SUMMARY_FIELDS = [
  'aliases',
  'related',
  'title',
  'description',
  'published',
  'cvss',
  'vendorSeverities',
  'cwes',
  'references',
] as const satisfies readonly (keyof Vulnerability)[];

/** What a summary keeps of one source's record: SUMMARY_FIELDS, empty lists left out. */
export type SummaryRecord = Partial<Pick<Vulnerability, (typeof SUMMARY_FIELDS)[number]>>;

export interface VulnSummary {
  /** every source's record of the id (SummaryRecord), sorted by source */
  records: { source: string; vulnerability: SummaryRecord }[];
  /** ids linked through any source's alias lists, both directions, sorted; empty when none */
  aliases: string[];
  kev?: KevEntry;
  epss?: EpssEntry;
}

/** A record reduced to SUMMARY_FIELDS; absent members and empty lists are left out. */
export function summaryRecord(v: Vulnerability): SummaryRecord {
  const out: Partial<Record<(typeof SUMMARY_FIELDS)[number], unknown>> = {};
  for (const field of SUMMARY_FIELDS) {
    const value = v[field];
    if (value !== undefined && !(Array.isArray(value) && value.length === 0)) out[field] = value;
  }
  return out as SummaryRecord;
}

/**
 * The summary of one id from what each table holds for it, or undefined when nothing does.
 * @param records the id's records as stored (full), sorted by source
 * @param aliases the linked ids, sorted
 */
export function summaryOf(
  records: readonly { source: string; vulnerability: Vulnerability }[],
  aliases: readonly string[],
  kev: KevEntry | undefined,
  epss: EpssEntry | undefined,
): VulnSummary | undefined {
  if (!records.length && !aliases.length && !kev && !epss) return undefined;
  const summary: VulnSummary = {
    records: records.map((r) => ({ source: r.source, vulnerability: summaryRecord(r.vulnerability) })),
    aliases: [...aliases],
  };
  if (kev) summary.kev = kev;
  if (epss) summary.epss = epss;
  return summary;
}

/** True when a parsed value has a summary's shape (the reader's check of stored rows). */
export function isSummary(value: unknown): value is VulnSummary {
  const s = value as Partial<VulnSummary> | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    Array.isArray(s.records) &&
    Array.isArray(s.aliases) &&
    s.records.every(
      (r) => typeof r?.source === 'string' && typeof r.vulnerability === 'object' && r.vulnerability !== null,
    )
  );
}
