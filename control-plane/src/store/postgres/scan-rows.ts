/** Columns, row mapping and checks shared by the single-scan and batch operations. */
import { ControlPlaneError } from '../../errors.js';
import {
  SCAN_PRIORITIES,
  type QueuedScan,
  type ScanPriority,
  type ScanRecord,
  type ScanStatus,
} from '../../services/types.js';

type Row = Record<string, unknown>;

export const SCAN_COLUMNS =
  's.id, s.org_id, s.image_id, s.digest, s.batch_id, s.status, s.priority, s.forced, s.attempt, s.db_version, ' +
  's.error_code, s.error_message, s.created_at, s.started_at, s.finished_at, s.updated_at, s.matched_db_version';

/** The ON CONFLICT target naming the partial unique index scans_one_active. */
export const ACTIVE_SCAN_CONFLICT = `(org_id, digest, db_version) WHERE status IN ('queued', 'running') AND NOT forced`;

/** CP_INVALID_ARGUMENT unless the priority is known and the DB version is 1..200 characters. */
export function checkScanOptions(priority: string, dbVersion: string): void {
  if (!(SCAN_PRIORITIES as readonly string[]).includes(priority)) {
    throw new ControlPlaneError(
      'CP_INVALID_ARGUMENT',
      `priority must be one of ${SCAN_PRIORITIES.join(', ')}`,
    );
  }
  if (typeof dbVersion !== 'string' || dbVersion.length < 1 || dbVersion.length > 200) {
    throw new ControlPlaneError('CP_INVALID_ARGUMENT', 'dbVersion must be 1 to 200 characters');
  }
}

/** What a job needs of a queued scan: the `scans s` columns plus the image's repository `s.name`. */
export const QUEUED_SCAN_COLUMNS =
  's.id, s.org_id, s.image_id, s.digest, s.priority, s.db_version, s.attempt, s.created_at, s.name';

/** Maps a row selected with {@link QUEUED_SCAN_COLUMNS}. */
export function toQueuedScan(r: Row): QueuedScan {
  return {
    id: r.id as string,
    imageId: r.image_id as string,
    digest: r.digest as string,
    priority: r.priority as ScanPriority,
    dbVersion: r.db_version as string,
    attempt: r.attempt as number,
    repository: r.name as string,
    createdAt: r.created_at as Date,
  };
}

/** Maps a `scans s` row selected with {@link SCAN_COLUMNS}. */
export function toScan(r: Row): ScanRecord {
  return {
    id: r.id as string,
    orgId: r.org_id as string,
    imageId: r.image_id as string,
    digest: r.digest as string,
    batchId: (r.batch_id as string | null) ?? null,
    status: r.status as ScanStatus,
    priority: r.priority as ScanPriority,
    forced: r.forced as boolean,
    attempt: r.attempt as number,
    dbVersion: r.db_version as string,
    matchedDbVersion: (r.matched_db_version as string | null) ?? null,
    error: r.error_code
      ? { code: r.error_code as string, message: (r.error_message as string | null) ?? '' }
      : null,
    createdAt: r.created_at as Date,
    startedAt: (r.started_at as Date | null) ?? null,
    finishedAt: (r.finished_at as Date | null) ?? null,
    updatedAt: r.updated_at as Date,
  };
}
