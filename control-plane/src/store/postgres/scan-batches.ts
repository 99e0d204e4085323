/**
 * Bulk rescans: a batch and all its scans created by ONE multi-row INSERT … SELECT (10,000 images is one
 * statement, with ids bound as one uuid[] parameter, so no parameter-count limit applies), the queued scans of a
 * batch in id order for chunked publishing, progress counts derived from the scans (never drifting counters),
 * and bulk cancel. Every query is org-scoped.
 */
import { ControlPlaneError } from '../../errors.js';
import {
  SCAN_STATUSES,
  type BatchRecord,
  type ScanPriority,
  type ScanStatus,
  type ScanStore,
} from '../../services/types.js';
import { imageFilterSql } from './images.js';
import { ACTIVE_SCAN_CONFLICT, QUEUED_SCAN_COLUMNS, checkScanOptions, toQueuedScan } from './scan-rows.js';
import type { SqlClient, SqlDatabase } from './sql.js';

type Row = Record<string, unknown>;
type BatchOperations = Pick<ScanStore, 'createBatch' | 'getBatch' | 'listQueuedScans' | 'cancelBatch'>;

/** Upper bound of explicit image ids in one batch (a filter has none). */
export const MAX_BATCH_IMAGE_IDS = 100_000;
const MAX_QUEUED_PAGE = 10_000;

const BATCH_COLUMNS = `b.id, b.org_id, b.priority, b.db_version, b.forced, b.requested, b.matched, b.total,
         b.created_at, b.cancelled_at`;

const BATCH_SELECT = `SELECT ${BATCH_COLUMNS},
         coalesce((SELECT jsonb_object_agg(status, n) FROM (
           SELECT s.status, count(*)::integer AS n FROM scans s WHERE s.org_id = b.org_id AND s.batch_id = b.id GROUP BY s.status
         ) c), '{}'::jsonb) AS counts
       FROM batches b WHERE b.org_id = $1 AND b.id = $2`;

/** The batch half of the Postgres {@link ScanStore}. */
export function pgBatchOperations(db: SqlDatabase): BatchOperations {
  return {
    async createBatch(orgId, { imageIds, filter, dbVersion, priority, force = false }) {
      checkScanOptions(priority, dbVersion);
      if ((imageIds === undefined) === (filter === undefined)) {
        throw new ControlPlaneError('CP_INVALID_ARGUMENT', 'a batch takes either imageIds or a filter');
      }
      const ids = imageIds ? [...new Set(imageIds)] : [];
      if (ids.length > MAX_BATCH_IMAGE_IDS) {
        throw new ControlPlaneError(
          'CP_INVALID_ARGUMENT',
          `a batch takes at most ${MAX_BATCH_IMAGE_IDS} image ids; use a filter`,
        );
      }
      return db.transaction(async (tx) => {
        const { rows } = await tx.query<{ id: string }>(
          'INSERT INTO batches (org_id, priority, db_version, forced) VALUES ($1, $2, $3, $4) RETURNING id',
          [orgId, priority, dbVersion, force],
        );
        const batchId = rows[0]!.id;
        const { matched, total } = await insertBatchScans(
          tx,
          orgId,
          batchId,
          { ids: imageIds ? ids : null, filter },
          priority,
          dbVersion,
          force,
        );
        const updated = await tx.query(
          `UPDATE batches b SET requested = $3, matched = $4, total = $5 WHERE org_id = $1 AND id = $2
           RETURNING ${BATCH_COLUMNS}`,
          [orgId, batchId, imageIds ? ids.length : matched, matched, total],
        );
        // every scan of the new batch is queued (nothing else sees them before the commit): no need to count them
        return toBatch({ ...updated.rows[0]!, counts: total > 0 ? { queued: total } : {} });
      });
    },

    getBatch: (orgId, batchId) => readBatch(db, orgId, batchId),

    async listQueuedScans(orgId, batchId, { afterId = null, limit = 1000 } = {}) {
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_QUEUED_PAGE) {
        throw new ControlPlaneError(
          'CP_INVALID_ARGUMENT',
          `limit must be an integer from 1 to ${MAX_QUEUED_PAGE}`,
        );
      }
      const { rows } = await db.query(
        `SELECT ${QUEUED_SCAN_COLUMNS}
         FROM batches b LEFT JOIN LATERAL (
           SELECT s.*, i.name FROM scans s JOIN images i ON i.org_id = s.org_id AND i.id = s.image_id
           WHERE s.org_id = b.org_id AND s.batch_id = b.id AND s.status = 'queued' AND ($3::uuid IS NULL OR s.id > $3::uuid)
           ORDER BY s.id LIMIT $4
         ) s ON true
         WHERE b.org_id = $1 AND b.id = $2`,
        [orgId, batchId, afterId, limit],
      );
      if (rows.length === 0) throw new ControlPlaneError('CP_NOT_FOUND', `batch ${batchId} not found`);
      return rows.filter((r) => r.id !== null).map(toQueuedScan);
    },

    cancelBatch: (orgId, batchId) =>
      db.transaction(async (tx) => {
        const { rowCount } = await tx.query(
          'UPDATE batches SET cancelled_at = coalesce(cancelled_at, now()) WHERE org_id = $1 AND id = $2',
          [orgId, batchId],
        );
        if (rowCount === 0) throw new ControlPlaneError('CP_NOT_FOUND', `batch ${batchId} not found`);
        // The locking subquery re-reads rows a worker changed meanwhile, so a scan that just completed stays completed.
        const { rows } = await tx.query<{ id: string; previous_status: ScanStatus }>(
          `UPDATE scans AS s SET status = 'cancelled', finished_at = now(), updated_at = now()
           FROM (
             SELECT id, status FROM scans
             WHERE org_id = $1 AND batch_id = $2 AND status IN ('queued', 'running')
             ORDER BY id FOR UPDATE
           ) old
           WHERE s.id = old.id
           RETURNING s.id, old.status AS previous_status`,
          [orgId, batchId],
        );
        const cancelled = rows.map((r) => ({ id: r.id, previousStatus: r.previous_status }));
        return { cancelled: cancelled.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) };
      }),
  };
}

/** The one multi-row insert: one scan per distinct digest among the selected images, skipping active ones. */
async function insertBatchScans(
  tx: SqlClient,
  orgId: string,
  batchId: string,
  selection: { ids: string[] | null; filter: BatchSelectionFilter },
  priority: ScanPriority,
  dbVersion: string,
  force: boolean,
): Promise<{ matched: number; total: number }> {
  const values: unknown[] = [orgId, batchId, priority, force, dbVersion];
  const where = ['i.org_id = $1'];
  if (selection.ids) where.push(`i.id = ANY ($${values.push(selection.ids)}::uuid[])`);
  else where.push(...imageFilterSql(selection.filter ?? {}, values));
  const cond = where.join(' AND ');
  // sel is read twice (matched, src), so Postgres materialises it: the images are scanned once
  const { rows } = await tx.query<{ matched: number; total: number }>(
    `WITH sel AS (SELECT i.id, i.digest FROM images i WHERE ${cond}),
     src AS (SELECT DISTINCT ON (sel.digest) sel.id, sel.digest FROM sel ORDER BY sel.digest, sel.id),
     ins AS (
       INSERT INTO scans (org_id, image_id, digest, batch_id, priority, forced, db_version)
       SELECT $1, src.id, src.digest, $2, $3, $4, $5 FROM src
       ON CONFLICT ${ACTIVE_SCAN_CONFLICT} DO NOTHING
       RETURNING id
     )
     SELECT (SELECT count(*) FROM sel)::integer AS matched, (SELECT count(*) FROM ins)::integer AS total`,
    values,
  );
  return rows[0]!;
}

type BatchSelectionFilter = Parameters<BatchOperations['createBatch']>[1]['filter'];

async function readBatch(client: SqlClient, orgId: string, batchId: string): Promise<BatchRecord | null> {
  const { rows } = await client.query(BATCH_SELECT, [orgId, batchId]);
  return rows[0] ? toBatch(rows[0]) : null;
}

function toBatch(r: Row): BatchRecord {
  const raw = r.counts as Partial<Record<ScanStatus, number>>;
  const counts = Object.fromEntries(SCAN_STATUSES.map((s) => [s, raw[s] ?? 0])) as Record<ScanStatus, number>;
  return {
    id: r.id as string,
    orgId: r.org_id as string,
    priority: r.priority as ScanPriority,
    dbVersion: r.db_version as string,
    forced: r.forced as boolean,
    requested: r.requested as number,
    matched: r.matched as number,
    total: r.total as number,
    counts,
    createdAt: r.created_at as Date,
    cancelledAt: (r.cancelled_at as Date | null) ?? null,
  };
}
