/**
 * Test support (not built): the PGlite stand-in for store/postgres/testdata/scratch-database.ts, so the Postgres
 * store suites run unchanged on the embedded database (see store-suites.e2e.test.ts, which swaps it in with
 * vi.mock). Each "scratch database" is a fresh in-memory PGlite, migrated with the shipped migrations.
 */
import { migrate, type MigrateOptions } from '../../postgres/migrate.js';
import type { SqlDatabase } from '../../postgres/sql.js';
import type { ScratchDatabase } from '../../postgres/testdata/scratch-database.js';
import { openPgliteDatabase } from '../index.js';

export async function createScratchDatabase(): Promise<ScratchDatabase> {
  const db = await openPgliteDatabase();
  return {
    name: 'pglite-memory',
    url: 'pglite://memory',
    open() {
      // one connection: every "pool" of the scratch database is the same PGlite instance
      return db;
    },
    drop: () => db.close(),
  };
}

export async function createMigratedDatabase(
  options?: MigrateOptions,
): Promise<{ scratch: ScratchDatabase; db: SqlDatabase }> {
  const scratch = await createScratchDatabase();
  const db = scratch.open();
  await migrate(db, options);
  return { scratch, db };
}
