import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrate, MIGRATION_LOCK_KEY } from './migrate.js';
import type { SqlDatabase } from './sql.js';
import { createScratchDatabase, type ScratchDatabase } from './testdata/scratch-database.js';

const testdata = (dir: string): string => fileURLToPath(new URL(`./testdata/${dir}`, import.meta.url));

// One database for the file; each scenario migrates an empty schema of its own (the advisory lock is
// database-wide, which is what the scenarios exercise; vitest runs them one after another).
let scratch: ScratchDatabase;
let schemas = 0;
/** The shipped migrations' versions and names (other features add theirs; the scenarios hold for any set). */
let shipped: { versions: number[]; recorded: Array<{ version: number; name: string }> };
beforeAll(async () => {
  scratch = await createScratchDatabase();
  const migrations = await loadMigrations();
  shipped = {
    versions: migrations.map((m) => m.version),
    recorded: migrations.map((m) => ({ version: m.version, name: m.name })),
  };
});
afterAll(() => scratch?.drop());

/** A new empty schema: `open()` gives pools on it, `url` is the database's. */
async function fresh(): Promise<{ open: () => SqlDatabase; url: string }> {
  const name = `scenario_${++schemas}`;
  await scratch.open().exec(`CREATE SCHEMA ${name}`);
  return { open: () => scratch.open(name), url: scratch.url };
}

describe('migrate (shipped schema)', () => {
  it('applies the shipped migrations once and is a no-op when run again', async () => {
    const db = (await fresh()).open();
    const first = await migrate(db);
    const second = await migrate(db);
    const { rows: tables } = await db.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`,
    );
    const { rows: recorded } = await db.query('SELECT version, name FROM schema_migrations ORDER BY version');
    expect({ first, second, tables: tables.map((t) => t.table_name), recorded }).toEqual({
      first: { applied: shipped.versions, current: shipped.versions.length },
      second: { applied: [], current: shipped.versions.length },
      // the tables of 0001; later migrations may add their own
      tables: expect.arrayContaining([
        'api_tokens',
        'audit_log',
        'batches',
        'images',
        'orgs',
        'repositories',
        'scans',
        'schema_migrations',
        'users',
      ]),
      recorded: shipped.recorded,
    });
  });

  it('migrates once when two control planes start together (two pools, one advisory lock)', async () => {
    const s = await fresh();
    const [a, b] = await Promise.all([migrate(s.open()), migrate(s.open())]);
    const { rows } = await s.open().query('SELECT version FROM schema_migrations ORDER BY version');
    expect({ applied: [...a.applied, ...b.applied].sort(), current: [a.current, b.current], rows }).toEqual({
      applied: shipped.versions,
      current: [shipped.versions.length, shipped.versions.length],
      rows: shipped.versions.map((version) => ({ version })),
    });
  });
});

describe('migrate (test migration sets)', () => {
  it('orders by number and lets concurrent runners wait for a slow migration instead of applying it twice', async () => {
    const migrations = await loadMigrations(testdata('migrations-slow'));
    const s = await fresh();
    const [a, b] = await Promise.all([migrate(s.open(), { migrations }), migrate(s.open(), { migrations })]);
    const { rows } = await s
      .open()
      .query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'widgets' ORDER BY ordinal_position`,
      );
    expect({
      loaded: migrations.map((m) => [m.version, m.name]),
      applied: [...a.applied, ...b.applied].sort(),
      columns: rows.map((r) => r.column_name),
    }).toEqual({
      loaded: [
        [1, 'widgets'],
        [2, 'slow_column'],
      ],
      applied: [1, 2],
      columns: ['id', 'name'],
    });
  });

  it('waits on the advisory lock held by another process and gives up after the lock timeout', async () => {
    const s = await fresh();
    const holder = new pg.Client({ connectionString: s.url, connectionTimeoutMillis: 3_000 });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
      const err = await migrate(s.open(), { lockTimeoutMillis: 200 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'CP_DB_UNAVAILABLE' });
    } finally {
      await holder.end();
    }
    expect(await migrate(s.open())).toEqual({ applied: shipped.versions, current: shipped.versions.length });
  });

  it('rolls back a failing migration whole and keeps the ones before it', async () => {
    const migrations = await loadMigrations(testdata('migrations-broken'));
    const db = (await fresh()).open();
    const err = await migrate(db, { migrations }).catch((e: unknown) => e);
    const { rows: versions } = await db.query('SELECT version FROM schema_migrations');
    const { rows: tables } = await db.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('widgets', 'gadgets') ORDER BY 1`,
    );
    expect({
      err: { code: (err as { code: string }).code, message: (err as Error).message },
      versions,
      tables,
    }).toEqual({
      err: {
        code: 'CP_DB_MIGRATION_FAILED',
        message: 'migration 2 (broken) failed: relation "no_such_table" does not exist',
      },
      versions: [{ version: 1 }],
      tables: [{ table_name: 'widgets' }],
    });
  });

  it('refuses an applied migration whose file changed', async () => {
    const migrations = await loadMigrations(testdata('migrations-slow'));
    const db = (await fresh()).open();
    await migrate(db, { migrations: migrations.slice(0, 1) });
    const edited = [{ ...migrations[0]!, sql: `${migrations[0]!.sql}-- edited\n`, checksum: 'f'.repeat(64) }];
    await expect(migrate(db, { migrations: edited })).rejects.toMatchObject({
      code: 'CP_DB_MIGRATION_MODIFIED',
    });
  });

  it.each([
    ['migrations-gap', 'migration 3 (c) found where 2 was expected: numbers must be unique and contiguous'],
    ['migrations-badname', 'migration file 2-b.sql is not named NNNN_name.sql'],
  ])('rejects the malformed set %s', async (dir, message) => {
    await expect(loadMigrations(testdata(dir))).rejects.toMatchObject({
      code: 'CP_DB_MIGRATION_INVALID',
      message,
    });
  });
});
