/**
 * An attempt's summary counts kept while its rows are appended, so publishing it needs no count query. The
 * counts are taken from the very rows inserted (after rows.ts mapped them: the same column values the count
 * queries of queries.ts group by), with the same deduplication: a finding counts once per (severity_rank, id,
 * package_name, package_key), a package once per (name, package_key), however often it was appended.
 *
 * They are only right when every row of the attempt went through one counter: the store's `appendBatch` feeds
 * the counter of a part after its insert succeeded, and whoever appended all the attempt's rows (one report
 * stream: a second stream of an attempt is refused) publishes the attempt with them (`PublishScan.counted`,
 * through the report's outcome and completeScan). An attempt published without counts is counted from its
 * stored rows, as before.
 */
import type { Row } from './driver.js';
import type { SeverityCounts } from './types.js';

/** What publishing an attempt stores besides its identity: the severity counts, fixable findings, packages. */
export interface AttemptCounts {
  counts: SeverityCounts;
  /** distinct findings with a fixed version */
  fixable: number;
  /** distinct packages */
  packages: number;
}

const SEPARATOR = '\u0000';

export class AttemptCounter {
  private readonly findingKeys = new Set<string>();
  private readonly packageKeys = new Set<string>();
  /** distinct findings by severity rank (0 CRITICAL … 4 UNKNOWN) */
  private readonly byRank = [0, 0, 0, 0, 0];
  private fixableFindings = 0;

  /** Counts `packages` rows (packageRow's shape): distinct by (name, package_key). */
  addPackageRows(rows: readonly Row[]): void {
    for (const r of rows) this.packageKeys.add(`${String(r.name)}${SEPARATOR}${String(r.package_key)}`);
  }

  /**
   * Counts `findings` rows (findingRow's shape): distinct by (severity_rank, id, package_name, package_key); of
   * rows with one identity the first appended is counted (the count query keeps one of them, `LIMIT 1 BY`; they
   * differ only if one finding was appended twice with a different fixed version).
   */
  addFindingRows(rows: readonly Row[]): void {
    for (const r of rows) {
      const rank = Number(r.severity_rank);
      const key = `${rank}${SEPARATOR}${String(r.id)}${SEPARATOR}${String(r.package_name)}${SEPARATOR}${String(r.package_key)}`;
      if (this.findingKeys.has(key)) continue;
      this.findingKeys.add(key);
      this.byRank[rank] = (this.byRank[rank] ?? 0) + 1;
      if (r.fixable === true) this.fixableFindings += 1;
    }
  }

  /** The counts so far. */
  counts(): AttemptCounts {
    const [critical = 0, high = 0, medium = 0, low = 0, unknown = 0] = this.byRank;
    return {
      counts: { critical, high, medium, low, unknown, total: critical + high + medium + low + unknown },
      fixable: this.fixableFindings,
      packages: this.packageKeys.size,
    };
  }
}
