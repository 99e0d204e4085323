/**
 * What the rematch service and its batch report share: the stored shape of a batch's items, the id check,
 * and the ClickHouse condition that selects stored (scan, attempt) pairs.
 */

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One image digest of a batch: its new rematch scan and the stored scan it re-evaluates. */
export interface BatchItem {
  scanId: string;
  previousScanId: string;
  previousAttempt: number;
  digest: string;
  imageIds: string[];
  os: string;
  /** sum of cityHash64 of the stored inventory's packages ('0': none): equal inventories, equal fingerprints */
  fingerprint: string;
  /**
   * The attempts holding the previous scan's findings and inventory rows (analytics migration 2: itself, or the
   * attempt it shares them with). Absent in batches queued before: the previous scan's own.
   */
  previousFindings?: { scanId: string; attempt: number };
  previousPackages?: { scanId: string; attempt: number };
}

/** Where the previous scan of `item` holds its findings rows. */
export const previousFindingsOf = (item: BatchItem) =>
  item.previousFindings ?? { scanId: item.previousScanId, attempt: item.previousAttempt };

/** Where the previous scan of `item` holds its inventory rows. */
export const previousPackagesOf = (item: BatchItem) =>
  item.previousPackages ?? { scanId: item.previousScanId, attempt: item.previousAttempt };

/** ClickHouse `WHERE` (and its parameters) for exactly these (scan, attempt) pairs of one organisation. */
export function attemptsWhere(orgId: string, items: readonly { scanId: string; attempt: number }[]) {
  return {
    where: `org_id = {org:String} AND scan_id IN {scanIds:Array(String)}
      AND has({attemptKeys:Array(String)}, concat(toString(attempt), ':', scan_id))`,
    params: {
      org: orgId,
      scanIds: [...new Set(items.map((a) => a.scanId))],
      attemptKeys: items.map((a) => `${a.attempt}:${a.scanId}`),
    },
  };
}
