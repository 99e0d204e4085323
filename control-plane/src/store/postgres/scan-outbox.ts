/**
 * The dispatch outbox and scan lookups by id: system-level operations of the publisher loop, dead-job handling,
 * the stale-scan reaper and the worker service, which know scans only by id and act for no organisation. Queued scans
 * without `published_at` are the outbox, read in priority order along the scans_queued index (0001); published_at has
 * no index of its own, so marking a chunk published is a HOT update (0002). A bulk rescan's scans are recorded on
 * their batch instead (`batches.published_through`, 0007): a never-claimed queued scan of a batch whose id is at most
 * the batch's mark is published, whatever its published_at.
 */
import type { ScanOutboxStore, UnpublishedScan } from '../../services/types.js';
import { BATCH_CREATION_LOCK } from './scan-batches.js';
import { QUEUED_SCAN_COLUMNS, SCAN_COLUMNS, toQueuedScan, toScan } from './scan-rows.js';
import type { SqlDatabase } from './sql.js';

/**
 * How long a claim waits for batches being created, per wait (a claim may wait twice): under the worker's 30 s
 * claim deadline. A lock timeout is CP_DB_UNAVAILABLE, and the worker retries the job.
 */
const BATCH_WAIT_LIMIT = '10s';

/** `scans s` covered by its batch's mark (a scan re-queued by the reaper has attempt >= 1: never covered). */
const MARKED_BY_BATCH = `s.attempt = 0 AND s.batch_id IS NOT NULL AND EXISTS (
  SELECT 1 FROM batches pb WHERE pb.org_id = s.org_id AND pb.id = s.batch_id AND s.id <= pb.published_through
)`;

/** The outbox as a condition on `scans s`: queued, no published_at, and not covered by its batch's mark. */
export const UNPUBLISHED_SCAN = `s.status = 'queued' AND s.published_at IS NULL AND NOT (${MARKED_BY_BATCH})`;

/** {@link ScanOutboxStore} with the batch mark of a bulk rescan's publisher (0007). */
export type PgScanOutboxStore = ScanOutboxStore & Required<Pick<ScanOutboxStore, 'markBatchPublished'>>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The Postgres implementation of {@link ScanOutboxStore}. */
export function pgScanOutboxStore(db: SqlDatabase): PgScanOutboxStore {
  /**
   * Takes the batch-creation lock exclusively and lets it go: a batch being created holds it shared from before
   * its first job is published until it commits (scan-batches.ts), so once this resolves, every batch whose jobs
   * were out when it asked has committed or rolled back, and a new statement sees which.
   */
  const lockOnce = () =>
    db.transaction(async (tx) => {
      await tx.query(`SET LOCAL lock_timeout = '${BATCH_WAIT_LIMIT}'`);
      await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [...BATCH_CREATION_LOCK]);
    });
  // Claims that miss share waits, so they hold at most two connections however many arrive during a batch. A
  // caller may join only a wait that asks for the lock after its miss: the one it starts, or the one that starts
  // when the wait in flight (which may have asked before) is done.
  let current: Promise<void> | null = null;
  let next: Promise<void> | null = null;
  const start = (): Promise<void> => {
    const wait: Promise<void> = lockOnce().finally(() => {
      if (current === wait) current = null;
    });
    current = wait;
    return wait;
  };
  const batchesSettled = (): Promise<void> => {
    if (!current) return start();
    next ??= current
      .catch(() => {})
      .then(() => {
        next = null;
        return start();
      });
    return next;
  };

  return {
    async listUnpublished({ limit, createdBefore }) {
      const { rows } = await db.query(
        `SELECT ${QUEUED_SCAN_COLUMNS}
         FROM (
           SELECT s.*, i.name FROM scans s JOIN images i ON i.org_id = s.org_id AND i.id = s.image_id
           WHERE ${UNPUBLISHED_SCAN} AND ($2::timestamptz IS NULL OR s.created_at < $2)
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

    async markBatchPublished(orgId, batchId, throughId) {
      if (!UUID.test(throughId)) return false;
      // greatest() skips NULL: the first mark sets it, later ones only raise it
      const { rowCount } = await db.query(
        `UPDATE batches SET published_through = greatest(published_through, $3::uuid) WHERE org_id = $1 AND id = $2`,
        [orgId, batchId, throughId],
      );
      return rowCount > 0;
    },

    forgetPublished: () =>
      db.transaction(async (tx) => {
        // counted before the marks go: the queued scans only a batch mark covered
        const { rows } = await tx.query<{ n: number }>(
          `SELECT count(*)::integer AS n FROM scans s
           WHERE s.status = 'queued' AND s.published_at IS NULL AND ${MARKED_BY_BATCH}`,
        );
        await tx.query(`UPDATE batches SET published_through = NULL WHERE published_through IS NOT NULL`);
        const result = await tx.query(
          `UPDATE scans SET published_at = NULL WHERE status = 'queued' AND published_at IS NOT NULL`,
        );
        return rows[0]!.n + result.rowCount;
      }),

    async findScan(scanId, { awaitBatches = false } = {}) {
      if (!UUID.test(scanId)) return null;
      const read = async () => {
        const { rows } = await db.query(`SELECT ${SCAN_COLUMNS} FROM scans s WHERE s.id = $1`, [scanId]);
        return rows[0] ? toScan(rows[0]) : null;
      };
      const found = await read();
      if (found || !awaitBatches) return found;
      await batchesSettled();
      return read();
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
