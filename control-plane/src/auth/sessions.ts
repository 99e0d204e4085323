/**
 * Server-side login sessions (table `sessions`, migration 0003). Server-side rather than a signed stateless
 * cookie because logging out, a password change and an admin's role change must take effect at once, and a
 * stolen cookie must be revocable: a signed cookie stays valid until it expires, whatever the server knows.
 *
 * The cookie holds a 256-bit random secret; only its sha256 is stored (a database read does not yield live
 * sessions). Each session carries its CSRF token. Expiry slides with use (idle timeout) up to an absolute
 * lifetime; use is recorded at most once a minute so reads stay cheap.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { SqlDatabase } from '../store/postgres/sql.js';

export interface SessionRecord {
  /** sha256 (hex) of the secret; the row key */
  idHash: string;
  orgId: string;
  userId: string;
  /** the token a cookie-authenticated state-changing request must echo in `x-csrf-token` */
  csrfToken: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface SessionStore {
  /** Starts a session; returns the secret for the cookie (shown once) and the record. */
  create(orgId: string, userId: string): Promise<{ secret: string; session: SessionRecord }>;
  /** The live session of a cookie secret (extending its idle expiry), or null when unknown or expired. */
  get(secret: string): Promise<SessionRecord | null>;
  /** Ends one session (idempotent). */
  delete(secret: string): Promise<void>;
  /** Ends every session of a user except, optionally, the one whose hash is `keepIdHash`. */
  deleteForUser(orgId: string, userId: string, keepIdHash?: string): Promise<number>;
  /** Deletes expired rows (housekeeping); returns how many. */
  pruneExpired(): Promise<number>;
}

export interface SessionOptions {
  /** a session unused this long expires (default 24 hours) */
  idleSeconds?: number;
  /** no session lives longer than this (default 7 days) */
  absoluteSeconds?: number;
}

const COLUMNS = 'id_hash, org_id, user_id, csrf_token, created_at, expires_at';
const SECRET = /^[A-Za-z0-9_-]{43}$/;

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function toSession(row: Record<string, unknown>): SessionRecord {
  return {
    idHash: row.id_hash as string,
    orgId: row.org_id as string,
    userId: row.user_id as string,
    csrfToken: row.csrf_token as string,
    createdAt: row.created_at as Date,
    expiresAt: row.expires_at as Date,
  };
}

/** The Postgres session store. */
export function pgSessionStore(db: SqlDatabase, options: SessionOptions = {}): SessionStore {
  const idle = options.idleSeconds ?? 24 * 3600;
  const absolute = options.absoluteSeconds ?? 7 * 24 * 3600;
  return {
    async create(orgId, userId) {
      const secret = randomBytes(32).toString('base64url');
      const csrfToken = randomBytes(32).toString('base64url');
      // The user's expired sessions go as a new one starts, so an active user's rows stay few.
      await db.query('DELETE FROM sessions WHERE org_id = $1 AND user_id = $2 AND expires_at <= now()', [
        orgId,
        userId,
      ]);
      const { rows } = await db.query(
        `INSERT INTO sessions (id_hash, org_id, user_id, csrf_token, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => least($5::float8, $6::float8)))
         RETURNING ${COLUMNS}`,
        [hashSecret(secret), orgId, userId, csrfToken, idle, absolute],
      );
      return { secret, session: toSession(rows[0]!) };
    },

    async get(secret) {
      if (!SECRET.test(secret)) return null;
      // Slide the expiry in the same statement, at most once a minute, never past the absolute lifetime.
      const { rows } = await db.query(
        `WITH live AS (
           SELECT ${COLUMNS}, last_seen_at FROM sessions WHERE id_hash = $1 AND expires_at > now()
         ), touch AS (
           UPDATE sessions s SET last_seen_at = now(),
             expires_at = least(now() + make_interval(secs => $2::float8),
                                s.created_at + make_interval(secs => $3::float8))
           FROM live WHERE s.id_hash = live.id_hash AND live.last_seen_at < now() - interval '1 minute'
           RETURNING s.expires_at
         )
         SELECT live.*, (SELECT expires_at FROM touch) AS touched_expires_at FROM live`,
        [hashSecret(secret), idle, absolute],
      );
      const row = rows[0];
      if (!row) return null;
      return toSession({ ...row, expires_at: row.touched_expires_at ?? row.expires_at });
    },

    async delete(secret) {
      if (!SECRET.test(secret)) return;
      await db.query('DELETE FROM sessions WHERE id_hash = $1', [hashSecret(secret)]);
    },

    async deleteForUser(orgId, userId, keepIdHash) {
      const { rowCount } = await db.query(
        'DELETE FROM sessions WHERE org_id = $1 AND user_id = $2 AND id_hash IS DISTINCT FROM $3',
        [orgId, userId, keepIdHash ?? null],
      );
      return rowCount;
    },

    async pruneExpired() {
      const { rowCount } = await db.query('DELETE FROM sessions WHERE expires_at <= now()');
      return rowCount;
    },
  };
}
