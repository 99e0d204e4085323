/**
 * Bulk rescans: a batch and all its scans created by ONE multi-row INSERT (10,000 images is one statement, with
 * ids bound as arrays, so no parameter-count limit applies), the queued scans of a batch in id order for chunked
 * publishing, progress counts derived from the scans (never drifting counters), and bulk cancel. Every query is
 * org-scoped.
 *
 * With an early dispatch (createBatch's `dispatch`), the jobs are published WHILE the scans are inserted, before
 * they commit: the transaction reads the selection, gives each scan its id, and runs the insert and the publish
 * side by side. The batch's mark (`published_through`, 0007) is written in the same transaction when the queue
 * stored every job, so the outbox never sends them again. A worker may claim such a job before its scan commits:
 * the creating transaction holds {@link BATCH_CREATION_LOCK} shared, and a claim that finds no scan waits for that
 * lock and looks again (scan-outbox.ts `findScan` with `awaitBatches`). A job whose scan never commits (the
 * transaction rolled back, or an active scan of the digest won the ON CONFLICT) finds no scan and is dropped.
 */
import { randomUUID } from 'node:crypto';
import { ControlPlaneError } from '../../errors.js';
import {
  SCAN_STATUSES,
  type BatchRecord,
  type EarlyDispatch,
  type ScanPriority,
  type ScanStatus,
  type ScanStore,
  type UnpublishedScan,
} from '../../services/types.js';
import { imageFilterSql } from './images.js';
import { ACTIVE_SCAN_CONFLICT, QUEUED_SCAN_COLUMNS, checkScanOptions, toQueuedScan } from './scan-rows.js';
import type { SqlClient, SqlDatabase } from './sql.js';

type Row = Record<string, unknown>;
type BatchOperations = Pick<ScanStore, 'createBatch' | 'getBatch' | 'listQueuedScans' | 'cancelBatch'>;

/**
 * The advisory lock (`VIGL`, 2) a batch with an early dispatch holds shared while it is created; a claim that
 * finds no scan takes it exclusively, so it waits until every batch being created has committed or rolled back.
 */
export const BATCH_CREATION_LOCK = [0x5649474c, 2] as const;

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
    async createBatch(orgId, { imageIds, filter, dbVersion, priority, force = false }, dispatch) {
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
      const selection = { ids: imageIds ? ids : null, filter };
      return db.transaction(async (tx) => {
        if (dispatch) await tx.query('SELECT pg_advisory_xact_lock_shared($1, $2)', [...BATCH_CREATION_LOCK]);
        const { rows } = await tx.query<{ id: string; created_at: Date }>(
          'INSERT INTO batches (org_id, priority, db_version, forced) VALUES ($1, $2, $3, $4) RETURNING id, created_at',
          [orgId, priority, dbVersion, force],
        );
        const { id: batchId, created_at: createdAt } = rows[0]!;
        // createdAt is the transaction's now(), so also the created_at of every scan it inserts
        const scope = { orgId, batchId, priority, dbVersion, force, createdAt };
        const { matched, total, publishedThrough } = dispatch
          ? await insertDispatching(tx, scope, selection, dispatch)
          : { ...(await insertBatchScans(tx, scope, selection)), publishedThrough: null };
        const updated = await tx.query(
          `UPDATE batches b SET requested = $3, matched = $4, total = $5, published_through = $6
           WHERE org_id = $1 AND id = $2
           RETURNING ${BATCH_COLUMNS}`,
          [orgId, batchId, imageIds ? ids.length : matched, matched, total, publishedThrough],
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

interface BatchScope {
  orgId: string;
  batchId: string;
  priority: ScanPriority;
  dbVersion: string;
  force: boolean;
  /** the transaction's now(): the batch's and its scans' created_at */
  createdAt: Date;
}

interface BatchSelection {
  ids: string[] | null;
  filter: BatchSelectionFilter;
}

/** `sel`: the selected images (`$1` is the organisation; further values are pushed on `values`). */
function selectionSql(selection: BatchSelection, values: unknown[]): string {
  const where = ['i.org_id = $1'];
  if (selection.ids) where.push(`i.id = ANY ($${values.push(selection.ids)}::uuid[])`);
  else where.push(...imageFilterSql(selection.filter ?? {}, values));
  // sel is read twice (matched, src), so Postgres materialises it: the images are scanned once
  return `sel AS (SELECT i.id, i.digest, i.name FROM images i WHERE ${where.join(' AND ')}),
     src AS (SELECT DISTINCT ON (sel.digest) sel.id, sel.digest, sel.name FROM sel ORDER BY sel.digest, sel.id)`;
}

/** The one multi-row insert: one scan per distinct digest among the selected images, skipping active ones. */
async function insertBatchScans(
  tx: SqlClient,
  { orgId, batchId, priority, dbVersion, force }: BatchScope,
  selection: BatchSelection,
): Promise<{ matched: number; total: number }> {
  const values: unknown[] = [orgId, batchId, priority, force, dbVersion];
  const { rows } = await tx.query<{ matched: number; total: number }>(
    `WITH ${selectionSql(selection, values)},
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

/**
 * The insert with an early dispatch: reads the selection (leaving out digests with an active scan unless forced),
 * gives each scan its id, then inserts the scans and publishes their jobs side by side. `publishedThrough` is
 * the greatest id when the queue stored every job (every scan of the batch is then published), else null.
 */
async function insertDispatching(
  tx: SqlClient,
  { orgId, batchId, priority, dbVersion, force, createdAt }: BatchScope,
  selection: BatchSelection,
  dispatch: EarlyDispatch,
): Promise<{ matched: number; total: number; publishedThrough: string | null }> {
  const values: unknown[] = [orgId, dbVersion, force];
  // plain rows, each with the count (at least one row: all null but the count when nothing is left to scan); for
  // 10,000 images 60-95 ms with reading them, where one JSON array built by Postgres took 90-125 ms
  const { rows } = await tx.query<{ matched: number; image_id: string | null; digest: string; name: string }>(
    `WITH ${selectionSql(selection, values)}
     SELECT m.matched, s.id AS image_id, s.digest, s.name
     FROM (SELECT count(*)::integer AS matched FROM sel) m
     LEFT JOIN LATERAL (
       SELECT src.* FROM src
       WHERE $3::boolean OR NOT EXISTS (
         SELECT 1 FROM scans a WHERE a.org_id = $1 AND a.digest = src.digest AND a.db_version = $2
           AND a.status IN ('queued', 'running') AND NOT a.forced
       )
     ) s ON true`,
    values,
  );
  const { matched } = rows[0]!;
  const selected = rows[0]!.image_id === null ? [] : rows;
  if (selected.length === 0) return { matched, total: 0, publishedThrough: null };
  const scans: UnpublishedScan[] = selected.map((r) => ({
    id: randomUUID(),
    orgId,
    imageId: r.image_id!,
    digest: r.digest,
    repository: r.name,
    priority,
    dbVersion,
    attempt: 0,
    createdAt,
  }));
  const [sent, inserted] = await Promise.all([
    dispatch(scans).catch(() => false),
    tx.query<{ total: number }>(
      `WITH ins AS (
         INSERT INTO scans (id, org_id, image_id, digest, batch_id, priority, forced, db_version)
         SELECT t.id, $1, t.image_id, t.digest, $2, $3, $4, $5
         FROM unnest($6::uuid[], $7::uuid[], $8::text[]) AS t (id, image_id, digest)
         ON CONFLICT ${ACTIVE_SCAN_CONFLICT} DO NOTHING
         RETURNING 1
       )
       SELECT count(*)::integer AS total FROM ins`,
      [
        orgId,
        batchId,
        priority,
        force,
        dbVersion,
        scans.map((s) => s.id),
        scans.map((s) => s.imageId),
        scans.map((s) => s.digest),
      ],
    ),
  ]);
  // randomUUID's lower-case hex compares as the uuid type does; a scan that lost the ON CONFLICT does not exist
  const greatest = scans.reduce((max, s) => (s.id > max ? s.id : max), scans[0]!.id);
  return { matched, total: inserted.rows[0]!.total, publishedThrough: sent === true ? greatest : null };
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
