/**
 * The session store on both databases the control plane runs on: Postgres (fleet) and PGlite (all-in-one),
 * each migrated with the shipped migrations. Time passing is simulated by moving timestamps back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrgRecord, UserRecord } from '../services/types.js';
import { pgOrgStore } from '../store/postgres/orgs-users-tokens.js';
import { migrate } from '../store/postgres/migrate.js';
import type { SqlDatabase } from '../store/postgres/sql.js';
import { createMigratedDatabase, type ScratchDatabase } from '../store/postgres/testdata/scratch-database.js';
import { openPgliteDatabase } from '../store/pglite/index.js';
import { pgSessionStore } from './sessions.js';

interface Backend {
  db: SqlDatabase;
  close(): Promise<void>;
}

const backends: Record<string, () => Promise<Backend>> = {
  postgres: async () => {
    const { scratch, db }: { scratch: ScratchDatabase; db: SqlDatabase } = await createMigratedDatabase();
    return { db, close: () => scratch.drop() };
  },
  pglite: async () => {
    const db = await openPgliteDatabase();
    await migrate(db);
    return { db, close: () => db.close() };
  },
};

describe.each(Object.keys(backends))('session store on %s', (name) => {
  let backend: Backend;
  let org: OrgRecord;
  let users: UserRecord[];
  beforeAll(async () => {
    backend = await backends[name]!();
    const orgs = pgOrgStore(backend.db);
    org = await orgs.createOrg({ slug: 'sessions', name: 'Sessions' });
    users = [
      await orgs.createUser(org.id, { email: 'one@sessions.test', role: 'admin' }),
      await orgs.createUser(org.id, { email: 'two@sessions.test', role: 'viewer' }),
      await orgs.createUser(org.id, { email: 'three@sessions.test', role: 'viewer' }),
    ];
  });
  afterAll(async () => {
    await backend?.close();
  });

  const age = (db: SqlDatabase, idHash: string, createdSecondsAgo: number, seenSecondsAgo: number) =>
    db.query(
      `UPDATE sessions SET created_at = now() - make_interval(secs => $2::float8),
         last_seen_at = now() - make_interval(secs => $3::float8) WHERE id_hash = $1`,
      [idHash, createdSecondsAgo, seenSecondsAgo],
    );

  it('finds a session by its secret only, stores only the hash, and ends it', async () => {
    const sessions = pgSessionStore(backend.db);
    const { secret, session } = await sessions.create(org.id, users[0]!.id);
    const found = await sessions.get(secret);
    const { rows } = await backend.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM sessions WHERE id_hash = $1 OR id_hash = $2',
      [secret, session.idHash],
    );
    await sessions.delete(secret);
    expect({
      found: found && { ...found, idHash: found.idHash === session.idHash },
      stored: rows[0]!.n,
      afterDelete: await sessions.get(secret),
      malformed: await Promise.all(['', 'x', 'a'.repeat(44), "' OR 1=1 --"].map((s) => sessions.get(s))),
      deleteMalformed: await sessions.delete('nope'),
    }).toEqual({
      found: { ...session, idHash: true },
      stored: 1,
      afterDelete: null,
      malformed: [null, null, null, null],
      deleteMalformed: undefined,
    });
  });

  it('slides the expiry with use, never past the absolute lifetime, and expires idle sessions', async () => {
    const sessions = pgSessionStore(backend.db, { idleSeconds: 3600, absoluteSeconds: 7200 });
    const slid = await sessions.create(org.id, users[0]!.id);
    await age(backend.db, slid.session.idHash, 1800, 120);
    const capped = await sessions.create(org.id, users[0]!.id);
    await age(backend.db, capped.session.idHash, 7190, 120);
    const idle = await sessions.create(org.id, users[0]!.id);
    await backend.db.query(
      `UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id_hash = $1`,
      [idle.session.idHash],
    );
    const left = (s: { expiresAt: Date } | null) =>
      s ? Math.round((s.expiresAt.getTime() - Date.now()) / 60_000) : null;
    expect({
      slid: left(await sessions.get(slid.secret)),
      capped: left(await sessions.get(capped.secret)),
      idle: await sessions.get(idle.secret),
      pruned: await sessions.pruneExpired(),
    }).toEqual({ slid: 60, capped: 0, idle: null, pruned: 1 });
  });

  it("ends every session of one user but the one kept, and none of another user's", async () => {
    const sessions = pgSessionStore(backend.db);
    const [a1, a2, a3, b1] = await Promise.all([
      sessions.create(org.id, users[1]!.id),
      sessions.create(org.id, users[1]!.id),
      sessions.create(org.id, users[1]!.id),
      sessions.create(org.id, users[2]!.id),
    ]);
    const ended = await sessions.deleteForUser(org.id, users[1]!.id, a1!.session.idHash);
    const alive = await Promise.all(
      [a1, a2, a3, b1].map(async (s) => (await sessions.get(s!.secret)) !== null),
    );
    expect({ ended, alive }).toEqual({ ended: 2, alive: [true, false, false, true] });
  });
});
