/**
 * Single scans: idempotent creation (one active scan per digest and DB version, enforced by the partial unique
 * index scans_one_active), the guarded state machine and cancellation. Every query is org-scoped.
 *
 *   queued ──► running ──► completed | failed        queued | running ──► cancelled (cancelScan)
 *                 ▲  │ (redelivered job: attempt+1)
 *                 └──┘
 * Finished scans (completed, failed, cancelled) never change again.
 */
import { ControlPlaneError } from '../../errors.js';
import type { ScanStatus, ScanStore, ScanTransition } from '../../services/types.js';
import { pgBatchOperations } from './scan-batches.js';
import { ACTIVE_SCAN_CONFLICT, SCAN_COLUMNS, checkScanOptions, toScan } from './scan-rows.js';
import type { SqlDatabase } from './sql.js';

const TRANSITIONS: Record<ScanTransition['to'], { from: ScanStatus[]; set: string }> = {
  running: {
    from: ['queued', 'running'],
    set: `status = 'running', attempt = s.attempt + 1, started_at = now()`,
  },
  completed: { from: ['running'], set: `status = 'completed', finished_at = now()` },
  failed: {
    from: ['running'],
    set: `status = 'failed', finished_at = now(), error_code = $5, error_message = $6`,
  },
};

const MAX_ERROR_MESSAGE = 4_000;

/** The Postgres implementation of {@link ScanStore} (batch operations live in scan-batches.ts). */
export function pgScanStore(db: SqlDatabase): ScanStore {
  return {
    async createScan(orgId, { imageId, dbVersion, priority, force = false }) {
      checkScanOptions(priority, dbVersion);
      const { rows } = await db.query(
        `WITH img AS (SELECT id, digest FROM images WHERE org_id = $1 AND id = $2),
         ins AS (
           INSERT INTO scans AS s (org_id, image_id, digest, priority, forced, db_version)
           SELECT $1, img.id, img.digest, $3, $4, $5 FROM img
           ON CONFLICT ${ACTIVE_SCAN_CONFLICT} DO UPDATE
             SET priority = CASE WHEN scan_priority_rank(EXCLUDED.priority) > scan_priority_rank(s.priority)
                                 THEN EXCLUDED.priority ELSE s.priority END,
                 updated_at = now()
           -- xmax is 0 only on a freshly inserted row version: tells a new scan from the existing active one
           RETURNING ${SCAN_COLUMNS}, (s.xmax = 0) AS created
         ),
         touch AS (
           UPDATE images i SET last_scan_id = ins.id FROM ins WHERE ins.created AND i.org_id = $1 AND i.digest = ins.digest
         )
         SELECT * FROM ins`,
        [orgId, imageId, priority, force, dbVersion],
      );
      const row = rows[0];
      if (!row) throw new ControlPlaneError('CP_NOT_FOUND', `image ${imageId} not found`);
      return { scan: toScan(row), created: row.created as boolean };
    },

    async getScan(orgId, scanId) {
      const { rows } = await db.query(
        `SELECT ${SCAN_COLUMNS} FROM scans s WHERE s.org_id = $1 AND s.id = $2`,
        [orgId, scanId],
      );
      return rows[0] ? toScan(rows[0]) : null;
    },

    async transitionScan(orgId, scanId, transition) {
      const rule = Object.hasOwn(TRANSITIONS, transition.to) ? TRANSITIONS[transition.to] : undefined;
      if (!rule)
        throw new ControlPlaneError(
          'CP_INVALID_ARGUMENT',
          `unknown scan transition to ${String(transition.to)}`,
        );
      const attempt = 'attempt' in transition ? (transition.attempt ?? null) : null;
      if (attempt !== null && !Number.isInteger(attempt))
        throw new ControlPlaneError('CP_INVALID_ARGUMENT', 'attempt must be an integer');
      if (transition.to === 'completed' && attempt === null) {
        throw new ControlPlaneError('CP_INVALID_ARGUMENT', 'completing a scan needs the attempt that ran it');
      }
      const error = transition.to === 'failed' ? checkError(transition.error) : null;
      const values: unknown[] = [orgId, scanId, rule.from, attempt];
      if (error) values.push(error.code, error.message);
      const { rows } = await db.query(
        `WITH changed AS (
           UPDATE scans AS s SET ${rule.set}, updated_at = now()
           WHERE s.org_id = $1 AND s.id = $2 AND s.status = ANY ($3::text[]) AND ($4::integer IS NULL OR s.attempt = $4)
           RETURNING ${SCAN_COLUMNS}
         ),
         latest AS (
           -- a completed scan becomes the latest completed scan of every org image with its digest
           UPDATE images i SET last_completed_scan_id = changed.id, last_completed_at = changed.finished_at
           FROM changed
           WHERE changed.status = 'completed' AND i.org_id = changed.org_id AND i.digest = changed.digest
             AND (i.last_completed_at IS NULL OR i.last_completed_at <= changed.finished_at)
         )
         SELECT * FROM changed`,
        values,
      );
      if (rows[0]) return toScan(rows[0]);
      throw await explainRefusal(db, orgId, scanId, transition.to, rule.from, attempt);
    },

    async cancelScan(orgId, scanId) {
      return db.transaction(async (tx) => {
        const { rows } = await tx.query(
          `SELECT ${SCAN_COLUMNS} FROM scans s WHERE s.org_id = $1 AND s.id = $2 FOR UPDATE`,
          [orgId, scanId],
        );
        const current = rows[0] ? toScan(rows[0]) : null;
        if (!current) throw new ControlPlaneError('CP_NOT_FOUND', `scan ${scanId} not found`);
        if (current.status === 'cancelled') return { scan: current, previousStatus: current.status };
        if (current.status !== 'queued' && current.status !== 'running') {
          throw new ControlPlaneError(
            'CP_SCAN_TRANSITION_INVALID',
            `scan ${scanId} is ${current.status}: cannot become cancelled`,
          );
        }
        const { rows: updated } = await tx.query(
          `UPDATE scans AS s SET status = 'cancelled', finished_at = now(), updated_at = now()
           WHERE s.org_id = $1 AND s.id = $2 RETURNING ${SCAN_COLUMNS}`,
          [orgId, scanId],
        );
        return { scan: toScan(updated[0]!), previousStatus: current.status };
      });
    },

    ...pgBatchOperations(db),
  };
}

async function explainRefusal(
  db: SqlDatabase,
  orgId: string,
  scanId: string,
  to: ScanStatus,
  from: ScanStatus[],
  attempt: number | null,
): Promise<ControlPlaneError> {
  const { rows } = await db.query<{ status: ScanStatus; attempt: number }>(
    'SELECT status, attempt FROM scans WHERE org_id = $1 AND id = $2',
    [orgId, scanId],
  );
  const current = rows[0];
  if (!current) return new ControlPlaneError('CP_NOT_FOUND', `scan ${scanId} not found`);
  if (!from.includes(current.status)) {
    return new ControlPlaneError(
      'CP_SCAN_TRANSITION_INVALID',
      `scan ${scanId} is ${current.status}: cannot become ${to}`,
    );
  }
  return new ControlPlaneError(
    'CP_SCAN_ATTEMPT_STALE',
    `attempt ${attempt} of scan ${scanId} is stale: the current attempt is ${current.attempt}`,
  );
}

function checkError(error: { code: string; message: string } | undefined): { code: string; message: string } {
  if (
    !error ||
    typeof error.code !== 'string' ||
    !/^[A-Z][A-Z0-9_]{0,99}$/.test(error.code) ||
    typeof error.message !== 'string'
  ) {
    throw new ControlPlaneError(
      'CP_INVALID_ARGUMENT',
      'a failed scan needs an error {code: SCREAMING_SNAKE, message}',
    );
  }
  return { code: error.code, message: error.message.slice(0, MAX_ERROR_MESSAGE) };
}
