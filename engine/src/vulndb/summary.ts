/**
 * Vulnerability summaries: everything matching reads about one id, in ONE row, so a finding's
 * vulnerability costs one snapshot probe instead of a statement per table (every source's record,
 * aliases both ways, KEV, EPSS).
 *
 * The summary of an id, stored as two JSON texts (head and records) so a reader decodes the
 * records only when a caller asks for them:
 * - `records`: every source's record of the id, in source order (code points), each reduced to
 *   the members matching reads (SUMMARY_FIELDS) without empty lists; the id, NVD's CPE
 *   configurations, modification dates and members no Vigil code reads are left out
 *   (AdvisoryReader.vulnerabilities still has them);
 * - `aliases`: the ids linked to it through any source's alias lists, both directions, sorted
 *   (exactly AdvisoryReader.aliases);
 * - `kev` and `epss`: its KEV entry and EPSS score, when it has them.
 * Every id that has a record, an alias link, a KEV entry or an EPSS score has a summary.
 */
import { EngineError } from '../errors.js';
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

/** One source's record in a summary. */
export interface SummaryEntry {
  source: string;
  vulnerability: SummaryRecord;
}

export interface VulnSummary {
  /** ids linked through any source's alias lists, both directions, sorted; empty when none */
  aliases: string[];
  kev?: KevEntry;
  epss?: EpssEntry;
  /**
   * Every source's record of the id (SummaryRecord), sorted by source, decoded on each call: a
   * caller that keeps only what it needs of them lets the rest go at once (matching reads tens of
   * thousands). @throws ENG_DB_CORRUPT when the stored records are not readable
   */
  records(): SummaryEntry[];
}

/** The stored form of a summary: `head` = JSON {aliases, kev?, epss?}, `records` = JSON [SummaryEntry…]. */
export interface SummaryRow {
  head: string;
  records: string;
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
 * The stored summary of one id from what each table holds for it, or undefined when nothing does.
 * @param records the id's records as stored (full), sorted by source
 * @param aliases the linked ids, sorted
 */
export function summaryRow(
  records: readonly { source: string; vulnerability: Vulnerability }[],
  aliases: readonly string[],
  kev: KevEntry | undefined,
  epss: EpssEntry | undefined,
): SummaryRow | undefined {
  if (!records.length && !aliases.length && !kev && !epss) return undefined;
  const head: Omit<VulnSummary, 'records'> = { aliases: [...aliases] };
  if (kev) head.kev = kev;
  if (epss) head.epss = epss;
  const entries: SummaryEntry[] = records.map((r) => ({
    source: r.source,
    vulnerability: summaryRecord(r.vulnerability),
  }));
  return { head: JSON.stringify(head), records: JSON.stringify(entries) };
}

const corrupt = (where: string, id: string, what: string) =>
  new EngineError(
    'ENG_DB_CORRUPT',
    `${where} is not a readable Vigil snapshot: the summary of ${id} ${what}`,
  );

/**
 * A stored summary, its head decoded now and its records on each `records()` call.
 * @param where the snapshot (for error messages)
 * @throws ENG_DB_CORRUPT when the head is not a summary's (records(): when the records are not)
 */
export function decodeSummary(where: string, id: string, row: SummaryRow): VulnSummary {
  let head: unknown;
  try {
    head = JSON.parse(row.head);
  } catch {
    throw corrupt(where, id, 'is not JSON');
  }
  const h = head as Partial<VulnSummary> | null;
  if (typeof h !== 'object' || h === null || !Array.isArray(h.aliases))
    throw corrupt(where, id, 'is not one');
  const text = row.records;
  h.records = () => {
    let list: unknown;
    try {
      list = JSON.parse(text);
    } catch {
      throw corrupt(where, id, 'has records that are not JSON');
    }
    if (!Array.isArray(list) || !list.every(isEntry))
      throw corrupt(where, id, 'has records that are not records');
    return list as SummaryEntry[];
  };
  return h as VulnSummary;
}

const isEntry = (e: unknown): boolean => {
  const x = e as Partial<SummaryEntry> | null;
  return typeof x?.source === 'string' && typeof x.vulnerability === 'object' && x.vulnerability !== null;
};
