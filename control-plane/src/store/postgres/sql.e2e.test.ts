/**
 * The `pg` driver seam on a real server: a transaction whose connection is lost (its backend terminated, as in
 * a server restart) rejects with CP_DB_UNAVAILABLE, rolls back, and neither crashes the process nor leaves a
 * broken connection in the pool.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, type ScratchDatabase } from './testdata/scratch-database.js';
import type { SqlDatabase } from './sql.js';

let scratch: ScratchDatabase;
let db: SqlDatabase;

beforeAll(async () => {
  scratch = await createScratchDatabase();
  db = scratch.open();
  await db.exec('CREATE TABLE t (n integer)');
});
afterAll(() => scratch?.drop());

describe('transactions on a lost connection', () => {
  it('reject with CP_DB_UNAVAILABLE, roll back, and the pool serves the next statements', async () => {
    const errors: unknown[] = [];
    const onUncaught = (error: unknown) => errors.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const failure = await db
        .transaction(async (tx) => {
          await tx.query('INSERT INTO t VALUES (1)');
          const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          // another session kills this transaction's backend; its next statement finds the connection gone
          await db.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
          await new Promise((resolve) => setTimeout(resolve, 50));
          await tx.query('INSERT INTO t VALUES (2)');
        })
        .catch((error: { code: string }) => error.code);
      // every pooled connection is usable afterwards (the lost one was destroyed, not pooled)
      const counts = await Promise.all(
        Array.from({ length: 12 }, () =>
          db.query<{ n: number }>('SELECT count(*)::int AS n FROM t').then((r) => r.rows[0]!.n),
        ),
      );
      expect({ failure, counts: [...new Set(counts)], uncaught: errors }).toEqual({
        failure: 'CP_DB_UNAVAILABLE',
        counts: [0],
        uncaught: [],
      });
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
