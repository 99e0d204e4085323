import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrate } from '../postgres/migrate.js';
import { pgStores } from '../postgres/index.js';
import type { SqlDatabase } from '../postgres/sql.js';
import { openPgliteDatabase } from './index.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vigil-pglite-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

let dirs = 0;
const freshDir = (): string => join(root, `db-${++dirs}`);
const codeOf = (err: unknown): string | undefined => (err as { code?: string }).code;

describe('PGlite database (persistent data dir)', () => {
  it('migrates once, keeps rows across a reopen, and is a no-op to migrate again', async () => {
    const dir = freshDir();
    const first = await openPgliteDatabase({ dataDir: dir });
    const applied = await migrate(first);
    const org = await pgStores(first).orgs.createOrg({ slug: 'persisted', name: 'Persisted' });
    await first.close();

    const second = await openPgliteDatabase({ dataDir: dir });
    const again = await migrate(second);
    const reread = await pgStores(second).orgs.getOrg(org.id);
    const { rows: tables } = await second.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    await second.close();
    const shipped = (await loadMigrations()).map((m) => m.version);
    const current = shipped.at(-1);
    expect({ applied, again, reread, tables: tables.map((t) => t.table_name) }).toEqual({
      applied: { applied: shipped, current },
      again: { applied: [], current },
      reread: org,
      // the tables of 0001 (later migrations add more)
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
    });
  });

  it('refuses a second opener of a directory while the first is open, in this process or another live one', async () => {
    const dir = freshDir();
    const db = await openPgliteDatabase({ dataDir: dir });
    const sameProcess = await openPgliteDatabase({ dataDir: dir }).catch((e: unknown) => e);
    await db.close();

    // a lock left by a live process (our parent) refuses; one left by a dead process is taken over
    await writeFile(join(dir, 'vigil.lock'), `${process.ppid}\n`);
    const otherProcess = await openPgliteDatabase({ dataDir: dir }).catch((e: unknown) => e);
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    await writeFile(join(dir, 'vigil.lock'), `${dead}\n`);
    const takenOver = await openPgliteDatabase({ dataDir: dir });
    const lockHolder = (await readFile(join(dir, 'vigil.lock'), 'utf8')).trim();
    await takenOver.close();
    expect({
      sameProcess: codeOf(sameProcess),
      otherProcess: [codeOf(otherProcess), (otherProcess as Error).message.includes(`${process.ppid}`)],
      lockHolder,
    }).toEqual({
      sameProcess: 'CP_DB_UNAVAILABLE',
      otherProcess: ['CP_DB_UNAVAILABLE', true],
      lockHolder: `${process.pid}`,
    });
  });
});

describe('PGlite database (driver seam)', () => {
  let db: SqlDatabase;
  beforeAll(async () => {
    db = await openPgliteDatabase();
    await db.exec('CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL, n bigint, b bytea)');
  });
  afterAll(() => db.close());

  it('returns rows as pg does (int8 as string, bytea as Buffer) and pg row counts', async () => {
    const inserted = await db.query(
      `INSERT INTO items (id, label, n, b) VALUES (1, 'a', 9007199254740993, '\\x0102'), (2, 'b', 2, NULL) RETURNING id`,
    );
    const updated = await db.query(`UPDATE items SET label = label || '!' WHERE id > $1`, [0]);
    const selected = await db.query<{ n: string; b: Buffer | null }>('SELECT n, b FROM items ORDER BY id');
    await db.exec('DELETE FROM items');
    expect({
      inserted: inserted.rowCount,
      updated: updated.rowCount,
      selected: selected.rows.map((r) => ({
        n: r.n,
        b: r.b && Buffer.isBuffer(r.b) ? r.b.toString('hex') : r.b,
      })),
      count: selected.rowCount,
    }).toEqual({
      inserted: 2,
      updated: 2,
      selected: [
        { n: '9007199254740993', b: '0102' },
        { n: '2', b: null },
      ],
      count: 2,
    });
  });

  it('classifies errors by SQLSTATE into CP_ codes', async () => {
    await db.query(`INSERT INTO items (id, label) VALUES (10, 'x')`);
    const errors = await Promise.all(
      [
        () => db.query(`INSERT INTO items (id, label) VALUES (10, 'dup')`),
        () => db.query('SELECT $1::uuid', ['not-a-uuid']),
        () => db.query('INSERT INTO items (id) VALUES (11)'),
        () => db.query('SELEKT 1'),
        () => db.exec('SELECT 1; SELECT no_such_column FROM items'),
      ].map((run) =>
        run().then(
          () => 'resolved',
          (e: unknown) => codeOf(e),
        ),
      ),
    );
    await db.exec('DELETE FROM items');
    expect(errors).toEqual([
      'CP_CONFLICT',
      'CP_INVALID_ARGUMENT',
      'CP_INVALID_ARGUMENT',
      'CP_DB_ERROR',
      'CP_DB_ERROR',
    ]);
  });

  it('serialises transactions: no other caller runs a statement inside an open transaction', async () => {
    const events: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const aStarted = new Promise<void>((r) => (started = r));
    const a = db.transaction(async (tx) => {
      events.push('a:begin');
      started();
      await gate;
      await tx.query(`INSERT INTO items (id, label) VALUES (20, 'a')`);
      events.push('a:commit');
    });
    await aStarted;
    // both are called while a's transaction is open and must wait for it
    const b = db.transaction(async (tx) => {
      events.push('b:begin');
      const { rows } = await tx.query<{ n: string }>('SELECT count(*) AS n FROM items');
      events.push(`b:sees ${rows[0]!.n}`);
    });
    const plain = db.query<{ n: string }>('SELECT count(*) AS n FROM items').then(({ rows }) => {
      events.push(`plain:sees ${rows[0]!.n}`);
    });
    release();
    await Promise.all([a, b, plain]);
    await db.exec('DELETE FROM items');
    expect(events).toEqual(['a:begin', 'a:commit', 'b:begin', 'b:sees 1', 'plain:sees 1']);
  });

  it('rolls back when the callback rejects and passes its error on', async () => {
    const failure = new Error('changed my mind');
    const err = await db
      .transaction(async (tx) => {
        await tx.query(`INSERT INTO items (id, label) VALUES (30, 'gone')`);
        throw failure;
      })
      .catch((e: unknown) => e);
    const { rows } = await db.query('SELECT id FROM items WHERE id = 30');
    expect({ same: err === failure, rows }).toEqual({ same: true, rows: [] });
  });

  it('rejects with CP_DB_UNAVAILABLE once closed', async () => {
    const closing = await openPgliteDatabase();
    await closing.close();
    const results = await Promise.all([
      closing.query('SELECT 1').catch((e: unknown) => codeOf(e)),
      closing.transaction(async () => 1).catch((e: unknown) => codeOf(e)),
    ]);
    expect(results).toEqual(['CP_DB_UNAVAILABLE', 'CP_DB_UNAVAILABLE']);
  });
});
