/**
 * A scan's history: the scan of the same content (digest) completed just before it, which a scan diff compares
 * against. Scans are per content (one scan serves every image of the org with its digest), so the history of an
 * image is the history of its digest; a rematch or a rescan against a newer snapshot is the next entry.
 * Org-scoped like every scan query.
 */
import type { ScanStore } from '../../services/types.js';
import { SCAN_COLUMNS, toScan } from './scan-rows.js';
import type { SqlDatabase } from './sql.js';

/** The history operations of {@link ScanStore}, spread into pgScanStore. */
export function pgScanHistory(db: SqlDatabase): Pick<ScanStore, 'previousCompletedScan'> {
  return {
    async previousCompletedScan(orgId, scanId) {
      // Ties on finished_at (two completions in one transaction time) are broken by id, so every completed scan
      // of a digest has exactly one predecessor and the chain never loops. A scan that is not completed has none.
      const { rows } = await db.query(
        `WITH this AS (
           SELECT digest, finished_at, id FROM scans WHERE org_id = $1 AND id = $2 AND status = 'completed'
         )
         SELECT ${SCAN_COLUMNS} FROM scans s, this
         WHERE s.org_id = $1 AND s.digest = this.digest AND s.status = 'completed'
           AND (s.finished_at, s.id) < (this.finished_at, this.id)
         ORDER BY s.finished_at DESC, s.id DESC
         LIMIT 1`,
        [orgId, scanId],
      );
      return rows[0] ? toScan(rows[0]) : null;
    },
  };
}
