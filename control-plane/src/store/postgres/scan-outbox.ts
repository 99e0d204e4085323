/**
 * The dispatch outbox and scan lookups by id: system-level operations of the publisher loop, dead-job handling,
 * the stale-scan reaper and the worker service, which know scans only by id and act for no organisation. Queued scans without
 * `published_at` are the outbox, read in priority order along the scans_queued index (0001); published_at has no
 * index of its own, so marking a chunk published is a HOT update (0002).
 */
import type { ScanOutboxStore, UnpublishedScan } from '../../services/types.js';
import { QUEUED_SCAN_COLUMNS, SCAN_COLUMNS, toQueuedScan, toScan } from './scan-rows.js';
import type { SqlDatabase } from './sql.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The Postgres implementation of {@link ScanOutboxStore}. */
export function pgScanOutboxStore(db: SqlDatabase): ScanOutboxStore {
  return {
    async listUnpublished({ limit, createdBefore }) {
      const { rows } = await db.query(
        `SELECT ${QUEUED_SCAN_COLUMNS}
         FROM (
           SELECT s.*, i.name FROM scans s JOIN images i ON i.org_id = s.org_id AND i.id = s.image_id
           WHERE s.status = 'queued' AND s.published_at IS NULL AND ($2::timestamptz IS NULL OR s.created_at < $2)
           ORDER BY scan_priority_rank(s.priority) DESC, s.created_at, s.id
           LIMIT $1
         ) s`,
        [limit, createdBefore ?? null],
      );
      return rows.map((r): UnpublishedScan => ({ ...toQueuedScan(r), orgId: r.org_id as string }));
    },

    async markPublished(scanIds) {
      if (scanIds.length === 0) return 0;
      const { rowCount } = await db.query(
        `UPDATE scans SET published_at = now() WHERE id = ANY ($1::uuid[]) AND published_at IS NULL`,
        [scanIds],
      );
      return rowCount;
    },

    async forgetPublished() {
      const result = await db.query(
        `UPDATE scans SET published_at = NULL WHERE status = 'queued' AND published_at IS NOT NULL`,
      );
      return result.rowCount;
    },
    async findScan(scanId) {
      if (!UUID.test(scanId)) return null;
      const { rows } = await db.query(`SELECT ${SCAN_COLUMNS} FROM scans s WHERE s.id = $1`, [scanId]);
      return rows[0] ? toScan(rows[0]) : null;
    },

    async recordActivity(scanId, attempt) {
      if (!UUID.test(scanId) || !Number.isInteger(attempt) || attempt < 1 || attempt > 2 ** 31 - 1)
        return false;
      const { rowCount } = await db.query(
        `UPDATE scans SET active_at = now() WHERE id = $1 AND status = 'running' AND attempt = $2`,
        [scanId, attempt],
      );
      return rowCount > 0;
    },

    async listIdle({ idleBefore, limit }) {
      // walks scans_running (0004): only the running scans are read
      const { rows } = await db.query(
        `SELECT ${SCAN_COLUMNS} FROM scans s
         WHERE s.status = 'running' AND s.active_at < $1
         ORDER BY s.active_at, s.id
         LIMIT $2`,
        [idleBefore, limit],
      );
      return rows.map(toScan);
    },
  };
}
