/**
 * Test support (not built): a uniquely named, freshly migrated database per test file on the local Postgres
 * (`VIGIL_TEST_PG_URL`, default postgres://postgres@127.0.0.1:5432/postgres, trust auth), dropped afterwards.
 * Connections time out in seconds, so a down server fails the file instead of hanging it.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate, type MigrateOptions } from '../migrate.js';
import { createPgDatabase, type SqlDatabase } from '../sql.js';

export const ADMIN_URL = process.env.VIGIL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface ScratchDatabase {
  name: string;
  url: string;
  /** Opens another pool on the database, optionally on one schema (closed by `drop`). */
  open(schema?: string): SqlDatabase;
  /** Closes every pool opened by `open` and drops the database. */
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database named `vigil_test_<hex>`. */
export async function createScratchDatabase(): Promise<ScratchDatabase> {
  const name = `vigil_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const pools: SqlDatabase[] = [];
  return {
    name,
    url: url.toString(),
    open(schema) {
      const db = createPgDatabase({
        connectionString: url.toString(),
        connectionTimeoutMillis: 3_000,
        statementTimeoutMillis: 20_000,
        ...(schema ? { schema } : {}),
      });
      pools.push(db);
      return db;
    },
    async drop() {
      await Promise.allSettled(pools.map((p) => p.close()));
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/** A scratch database with the shipped schema applied and one open pool. */
export async function createMigratedDatabase(options?: MigrateOptions): Promise<{ scratch: ScratchDatabase; db: SqlDatabase }> {
  const scratch = await createScratchDatabase();
  const db = scratch.open();
  try {
    await migrate(db, options);
  } catch (err) {
    await scratch.drop();
    throw err;
  }
  return { scratch, db };
}
