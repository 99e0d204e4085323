/** Test helper: waiting for a claim to queue behind a batch being created (scan-batches.ts BATCH_CREATION_LOCK). */
import { BATCH_CREATION_LOCK } from '../scan-batches.js';
import type { SqlClient } from '../sql.js';

/** Sessions waiting for the batch-creation lock of `db`'s database. */
export async function lockWaiters(db: SqlClient): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_locks
     WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND NOT granted
       AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [...BATCH_CREATION_LOCK],
  );
  return rows[0]!.n;
}

/** Blocks until some session waits for the batch-creation lock of `db`'s database (a claim behind a batch). */
export async function batchLockWaiter(db: SqlClient): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    if ((await lockWaiters(db)) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('no session waited for the batch-creation lock');
}
