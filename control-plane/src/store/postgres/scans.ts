/**
 * Single scans: idempotent creation (one active scan per digest and DB version, enforced by the partial unique
 * index scans_one_active), the guarded state machine and cancellation. Every query is org-scoped.
 *
 *   queued ──► running ──► completed | failed        queued | running ──► cancelled (cancelScan)
 *     │  ▲        ▲  │  │ (redelivered job: attempt+1, or the queue's delivery count when given)
 *     │  │        └──┘  │
 *     │  └──────────────┘ re-queued: the attempt showed no activity since `idleBefore` (dispatch/reaper.ts);
 *     │                   its count is kept, so the next job's attempts continue after it
 *     └──► failed (a job no worker ever claimed: no attempt given)
 * Finished scans (completed, failed, cancelled) never change again. A completion records the scan's summary on
 * every image of its digest in the same statement; the report-stream marker (startReport) lets one stream per
 * attempt write rows and records the snapshot its worker matched against (0005). `active_at` (0004) is the running attempt's last sign of life: its claim, its report
 * stream's start, and the worker service's refreshes while that stream is open (scan-outbox.ts recordActivity).
 */
import { ControlPlaneError } from '../../errors.js';
import type { ScanCompletionSummary, ScanStatus, ScanStore, ScanTransition } from '../../services/types.js';
import { orgRowById } from './coalesce.js';
import { pgBatchOperations } from './scan-batches.js';
import { pgScanHistory } from './scan-history.js';
import { ACTIVE_SCAN_CONFLICT, SCAN_COLUMNS, checkScanOptions, toScan } from './scan-rows.js';
import type { SqlDatabase } from './sql.js';

/** One guarded UPDATE per transition: the statuses it starts from, its SET list and its attempt condition. */
interface TransitionRule {
  from: ScanStatus[];
  set: string;
  /** the attempt condition on `s` with the attempt bound as `$4` (null when none was given), `$5` for re-queues */
  attempt: string;
}

const FINISH_ATTEMPT = '($4::integer IS NULL OR s.attempt = $4)';

function ruleOf(transition: ScanTransition, hasAttempt: boolean): TransitionRule {
  switch (transition.to) {
    case 'running':
      return hasAttempt
        ? // the queue's delivery count: claim exactly that attempt, only forward
          {
            from: ['queued', 'running'],
            set: `status = 'running', attempt = $4, started_at = now(), active_at = now()`,
            attempt: 's.attempt < $4',
          }
        : {
            from: ['queued', 'running'],
            set: `status = 'running', attempt = s.attempt + 1, started_at = now(), active_at = now()`,
            attempt: '$4::integer IS NULL',
          };
    case 'queued':
      // back to the outbox: unpublished, so the dispatch loop publishes a new job with this attempt as its base
      return {
        from: ['running'],
        set: `status = 'queued', published_at = NULL, active_at = NULL`,
        attempt: 's.attempt = $4 AND s.active_at < $5',
      };
    case 'completed':
      return { from: ['running'], set: `status = 'completed', finished_at = now()`, attempt: FINISH_ATTEMPT };
    case 'failed':
      return {
        // without an attempt, a job that could not be delivered fails a scan no worker ever claimed, too
        from: hasAttempt ? ['running'] : ['queued', 'running'],
        set: `status = 'failed', finished_at = now(), error_code = $5, error_message = $6`,
        attempt: FINISH_ATTEMPT,
      };
    default:
      throw new ControlPlaneError(
        'CP_INVALID_ARGUMENT',
        `unknown scan transition to ${String((transition as { to: unknown }).to)}`,
      );
  }
}

// The summary columns a completion writes on every image of the digest ($5: the summary as jsonb, or NULL).
const SUMMARY_SET = [
  `summary_attempt = CASE WHEN $5::jsonb IS NULL THEN NULL ELSE changed.attempt END`,
  ...['critical', 'high', 'medium', 'low', 'unknown', 'total'].map(
    (c) => `${c} = ($5::jsonb #>> '{counts,${c}}')::integer`,
  ),
  `fixable = ($5::jsonb ->> 'fixable')::integer`,
  `packages = ($5::jsonb ->> 'packages')::integer`,
  `os = nullif($5::jsonb -> 'os', 'null'::jsonb)`,
].join(', ');

const MAX_ERROR_MESSAGE = 4_000;

/** The Postgres implementation of {@link ScanStore} (batch operations live in scan-batches.ts). */
export function pgScanStore(db: SqlDatabase): ScanStore {
  // point reads of one event-loop turn (status pages, watchers polling), per organisation, in one statement
  const scanRow = orgRowById(db, `SELECT ${SCAN_COLUMNS} FROM scans s`, 's');
  return {
    async createScan(orgId, { imageId, dbVersion, priority, force = false, upload = false }) {
      checkScanOptions(priority, dbVersion);
      // An upload is its own scan (forced: outside the one-active guard), running at attempt 1 and never published,
      // matched against its report's own database.
      const initial = upload
        ? `'running', 1, now(), now(), $5`
        : `'queued', 0, NULL::timestamptz, NULL::timestamptz, NULL`;
      const { rows } = await db.query(
        `WITH img AS (SELECT id, digest FROM images WHERE org_id = $1 AND id = $2),
         ins AS (
           INSERT INTO scans AS s (org_id, image_id, digest, priority, forced, db_version, status, attempt, started_at, published_at, matched_db_version)
           SELECT $1, img.id, img.digest, $3, $4, $5, ${initial} FROM img
           ON CONFLICT ${ACTIVE_SCAN_CONFLICT} DO UPDATE
             SET priority = CASE WHEN scan_priority_rank(EXCLUDED.priority) > scan_priority_rank(s.priority)
                                 THEN EXCLUDED.priority ELSE s.priority END,
                 updated_at = now()
           -- xmax is 0 only on a freshly inserted row version: tells a new scan from the existing active one
           RETURNING ${SCAN_COLUMNS}, (s.xmax = 0) AS created
         )
         SELECT * FROM ins`,
        [orgId, imageId, priority, force || upload, dbVersion],
      );
      const row = rows[0];
      if (!row) throw new ControlPlaneError('CP_NOT_FOUND', `image ${imageId} not found`);
      return { scan: toScan(row), created: row.created as boolean };
    },

    async getScan(orgId, scanId) {
      const row = await scanRow(orgId, scanId);
      return row ? toScan(row) : null;
    },

    async transitionScan(orgId, scanId, transition) {
      const attempt = 'attempt' in transition ? (transition.attempt ?? null) : null;
      if (attempt !== null && (!Number.isInteger(attempt) || attempt < 0 || attempt > 2 ** 31 - 1))
        throw new ControlPlaneError('CP_INVALID_ARGUMENT', 'attempt must be a non-negative integer');
      const rule = ruleOf(transition, attempt !== null);
      if ((transition.to === 'completed' || transition.to === 'queued') && attempt === null) {
        throw new ControlPlaneError(
          'CP_INVALID_ARGUMENT',
          `a scan becomes ${transition.to} for a given attempt`,
        );
      }
      const values: unknown[] = [orgId, scanId, rule.from, attempt];
      if (transition.to === 'failed') {
        const error = checkError(transition.error);
        values.push(error.code, error.message);
      }
      if (transition.to === 'completed') values.push(summaryJson(transition.summary));
      if (transition.to === 'queued') {
        if (!(transition.idleBefore instanceof Date) || Number.isNaN(transition.idleBefore.getTime()))
          throw new ControlPlaneError('CP_INVALID_ARGUMENT', 'a re-queue needs a valid idleBefore date');
        values.push(transition.idleBefore);
      }
      const { rows } = await db.query(
        `WITH changed AS (
           UPDATE scans AS s SET ${rule.set}, updated_at = now()
           WHERE s.org_id = $1 AND s.id = $2 AND s.status = ANY ($3::text[]) AND ${rule.attempt}
           RETURNING ${SCAN_COLUMNS}
         )${
           transition.to === 'completed'
             ? `,
         latest AS (
           -- a completed scan becomes the latest completed scan of every org image with its digest, with its summary
           UPDATE images i SET last_completed_scan_id = changed.id, last_completed_at = changed.finished_at, ${SUMMARY_SET}
           FROM changed
           WHERE i.org_id = changed.org_id AND i.digest = changed.digest
             AND (i.last_completed_at IS NULL OR i.last_completed_at <= changed.finished_at)
         )`
             : ''
         }
         SELECT * FROM changed`,
        values,
      );
      if (rows[0]) return toScan(rows[0]);
      throw await explainRefusal(db, orgId, scanId, transition.to, rule.from, attempt);
    },

    async startReport(orgId, scanId, attempt, dbVersion = null) {
      if (!Number.isInteger(attempt) || attempt < 1 || attempt > 2 ** 31 - 1)
        throw new ControlPlaneError('CP_INVALID_ARGUMENT', 'attempt must be a positive integer');
      if (dbVersion !== null && (typeof dbVersion !== 'string' || dbVersion.length > 200))
        throw new ControlPlaneError(
          'CP_INVALID_ARGUMENT',
          'the database version must be at most 200 characters',
        );
      const { rows } = await db.query(
        `WITH changed AS (
           UPDATE scans AS s
           SET report_attempt = $3, active_at = now(), updated_at = now(),
               matched_db_version = nullif($4::text, '')
           WHERE s.org_id = $1 AND s.id = $2 AND s.status = 'running' AND s.attempt = $3
             AND s.report_attempt IS DISTINCT FROM $3
           RETURNING ${SCAN_COLUMNS}
         )
         SELECT *, true AS started FROM changed
         UNION ALL
         SELECT ${SCAN_COLUMNS}, false FROM scans s
         WHERE s.org_id = $1 AND s.id = $2 AND NOT EXISTS (SELECT 1 FROM changed)`,
        [orgId, scanId, attempt, dbVersion],
      );
      const row = rows[0];
      if (!row) throw new ControlPlaneError('CP_NOT_FOUND', `scan ${scanId} not found`);
      return { started: row.started as boolean, scan: toScan(row) };
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
    ...pgScanHistory(db),
  };
}

/** The summary a completion records, as the jsonb `SUMMARY_SET` reads (null: no summary). */
function summaryJson(summary: ScanCompletionSummary | undefined): string | null {
  if (summary === undefined) return null;
  const { counts } = summary;
  const numbers = [
    ...(['critical', 'high', 'medium', 'low', 'unknown', 'total'] as const).map((k) => counts?.[k]),
    summary.fixable,
    summary.packages,
  ];
  if (!numbers.every((n) => Number.isInteger(n) && n >= 0 && n <= 2 ** 31 - 1)) {
    throw new ControlPlaneError('CP_INVALID_ARGUMENT', 'summary counts must be non-negative integers');
  }
  return JSON.stringify({
    counts: {
      critical: counts.critical,
      high: counts.high,
      medium: counts.medium,
      low: counts.low,
      unknown: counts.unknown,
      total: counts.total,
    },
    fixable: summary.fixable,
    packages: summary.packages,
    os: summary.os ?? null,
  });
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
  if (to === 'queued' && current.attempt === attempt) {
    return new ControlPlaneError(
      'CP_SCAN_TRANSITION_INVALID',
      `attempt ${attempt} of scan ${scanId} was active since: not re-queued`,
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
