/**
 * Organisations (tenants and their entitlements), users with roles, and API tokens (hash at rest).
 * Every query except the authentication entry points is filtered by org_id.
 */
import { ControlPlaneError } from '../../errors.js';
import {
  ROLES,
  TOKEN_SCOPES,
  type LoginRecord,
  type OrgRecord,
  type OrgStore,
  type Role,
  type TokenPrincipal,
  type TokenRecord,
  type TokenScope,
  type UserRecord,
} from '../../services/types.js';
import type { SqlClient, SqlDatabase } from './sql.js';

type Row = Record<string, unknown>;

const ORG_COLUMNS = 'o.id, o.slug, o.name, o.scanning_enabled, o.created_at';
const USER_COLUMNS = 'u.id, u.org_id, u.email, u.display_name, u.role, u.created_at, u.disabled_at';
// The org's columns next to a user's or token's, prefixed so `o.id` does not collide with their `org_id`.
const ORG_PREFIXED =
  'o.id AS o_id, o.slug AS o_slug, o.name AS o_name, o.scanning_enabled AS o_scanning_enabled, o.created_at AS o_created_at';
const TOKEN_COLUMNS =
  't.id, t.org_id, t.name, t.token_prefix, t.scopes, t.created_by, t.created_at, t.expires_at, t.last_used_at, t.revoked_at';

/** The Postgres implementation of {@link OrgStore}. */
export function pgOrgStore(db: SqlDatabase): OrgStore {
  return {
    async createOrg({ slug, name, scanningEnabled = true }) {
      const { rows } = await db.query(
        `INSERT INTO orgs AS o (slug, name, scanning_enabled) VALUES ($1, $2, $3) RETURNING ${ORG_COLUMNS}`,
        [slug, name, scanningEnabled],
      );
      return toOrg(rows[0]!);
    },

    async getOrg(orgId) {
      const { rows } = await db.query(`SELECT ${ORG_COLUMNS} FROM orgs o WHERE o.id = $1`, [orgId]);
      return rows[0] ? toOrg(rows[0]) : null;
    },

    async setEntitlements(orgId, { scanningEnabled }) {
      const { rows } = await db.query(
        `UPDATE orgs AS o SET scanning_enabled = $2 WHERE o.id = $1 RETURNING ${ORG_COLUMNS}`,
        [orgId, scanningEnabled],
      );
      return toOrg(found(rows[0], 'organisation', orgId));
    },

    async createUser(orgId, { email, role, displayName = '', passwordHash = null }) {
      checkRole(role);
      const { rows } = await db.query(
        `INSERT INTO users AS u (org_id, email, display_name, role, password_hash)
         VALUES ($1, lower($2), $3, $4, $5) RETURNING ${USER_COLUMNS}`,
        [orgId, email.trim(), displayName, role, passwordHash],
      );
      return toUser(rows[0]!);
    },

    async getUser(orgId, userId) {
      const { rows } = await db.query(
        `SELECT ${USER_COLUMNS} FROM users u WHERE u.org_id = $1 AND u.id = $2`,
        [orgId, userId],
      );
      return rows[0] ? toUser(rows[0]) : null;
    },

    async listUsers(orgId) {
      const { rows } = await db.query(
        `SELECT ${USER_COLUMNS} FROM users u WHERE u.org_id = $1 ORDER BY u.email`,
        [orgId],
      );
      return rows.map(toUser);
    },

    setUserRole: (orgId, userId, role) => {
      checkRole(role);
      return db.transaction((tx) => setRoleGuarded(tx, orgId, userId, role));
    },

    async setPasswordHash(orgId, userId, passwordHash) {
      const { rowCount } = await db.query(
        'UPDATE users SET password_hash = $3 WHERE org_id = $1 AND id = $2',
        [orgId, userId, passwordHash],
      );
      if (rowCount === 0) throw notFound('user', userId);
    },

    async findLogin(email) {
      const { rows } = await db.query(
        `SELECT ${USER_COLUMNS}, u.password_hash, ${ORG_PREFIXED}
         FROM users u JOIN orgs o ON o.id = u.org_id
         WHERE u.email = lower($1) AND u.disabled_at IS NULL`,
        [email.trim()],
      );
      const row = rows[0];
      if (!row) return null;
      const login: LoginRecord = {
        user: toUser(row),
        org: toOrg(prefixed(row, 'o_')),
        passwordHash: (row.password_hash as string | null) ?? null,
      };
      return login;
    },

    async createToken(orgId, { name, scopes, hash, prefix, createdBy = null, expiresAt = null }) {
      checkScopes(scopes);
      const { rows } = await db.query(
        `INSERT INTO api_tokens AS t (org_id, name, token_hash, token_prefix, scopes, created_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${TOKEN_COLUMNS}`,
        [orgId, name, hash, prefix, [...new Set(scopes)], createdBy, expiresAt],
      );
      return toToken(rows[0]!);
    },

    async listTokens(orgId) {
      const { rows } = await db.query(
        `SELECT ${TOKEN_COLUMNS} FROM api_tokens t WHERE t.org_id = $1 ORDER BY t.created_at, t.id`,
        [orgId],
      );
      return rows.map(toToken);
    },

    async revokeToken(orgId, tokenId) {
      const { rows } = await db.query(
        `UPDATE api_tokens AS t SET revoked_at = coalesce(t.revoked_at, now())
         WHERE t.org_id = $1 AND t.id = $2 RETURNING ${TOKEN_COLUMNS}`,
        [orgId, tokenId],
      );
      return toToken(found(rows[0], 'token', tokenId));
    },

    async verifyToken(hash) {
      if (!/^[0-9a-f]{64}$/.test(hash)) return null;
      // The touch runs in the same statement; it skips tokens used in the last minute so hot tokens stay read-only.
      const { rows } = await db.query(
        `WITH live AS (
           SELECT ${TOKEN_COLUMNS}, ${ORG_PREFIXED}
           FROM api_tokens t JOIN orgs o ON o.id = t.org_id
           WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
         ), touch AS (
           UPDATE api_tokens SET last_used_at = now()
           WHERE id = (SELECT id FROM live) AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
           RETURNING last_used_at
         )
         SELECT live.*, (SELECT last_used_at FROM touch) AS touched_at FROM live`,
        [hash],
      );
      const row = rows[0];
      if (!row) return null;
      const token = toToken(row);
      if (row.touched_at) token.lastUsedAt = row.touched_at as Date;
      const principal: TokenPrincipal = { token, org: toOrg(prefixed(row, 'o_')) };
      return principal;
    },
  };
}

async function setRoleGuarded(tx: SqlClient, orgId: string, userId: string, role: Role): Promise<UserRecord> {
  // Lock the org's admins so two concurrent demotions cannot both see "another admin remains".
  const { rows: admins } = await tx.query<{ id: string }>(
    `SELECT id FROM users WHERE org_id = $1 AND role = 'admin' AND disabled_at IS NULL FOR UPDATE`,
    [orgId],
  );
  if (role !== 'admin' && admins.length === 1 && admins[0]!.id === userId) {
    throw new ControlPlaneError('CP_LAST_ADMIN', `user ${userId} is the organisation's last admin`);
  }
  const { rows } = await tx.query(
    `UPDATE users AS u SET role = $3 WHERE u.org_id = $1 AND u.id = $2 RETURNING ${USER_COLUMNS}`,
    [orgId, userId, role],
  );
  return toUser(found(rows[0], 'user', userId));
}

function checkRole(role: string): void {
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new ControlPlaneError('CP_INVALID_ARGUMENT', `role must be one of ${ROLES.join(', ')}`);
  }
}

function checkScopes(scopes: readonly string[]): void {
  if (scopes.length === 0 || !scopes.every((s) => (TOKEN_SCOPES as readonly string[]).includes(s))) {
    throw new ControlPlaneError(
      'CP_INVALID_ARGUMENT',
      `scopes must be a non-empty list of ${TOKEN_SCOPES.join(', ')}`,
    );
  }
}

function found<T>(row: T | undefined, kind: string, id: string): T {
  if (!row) throw notFound(kind, id);
  return row;
}

function notFound(kind: string, id: string): ControlPlaneError {
  return new ControlPlaneError('CP_NOT_FOUND', `${kind} ${id} not found`);
}

function prefixed(row: Row, prefix: string): Row {
  return Object.fromEntries(
    Object.entries(row)
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), v]),
  );
}

function toOrg(r: Row): OrgRecord {
  return {
    id: r.id as string,
    slug: r.slug as string,
    name: r.name as string,
    scanningEnabled: r.scanning_enabled as boolean,
    createdAt: r.created_at as Date,
  };
}

function toUser(r: Row): UserRecord {
  return {
    id: r.id as string,
    orgId: r.org_id as string,
    email: r.email as string,
    displayName: r.display_name as string,
    role: r.role as Role,
    createdAt: r.created_at as Date,
    disabledAt: (r.disabled_at as Date | null) ?? null,
  };
}

function toToken(r: Row): TokenRecord {
  return {
    id: r.id as string,
    orgId: r.org_id as string,
    name: r.name as string,
    prefix: r.token_prefix as string,
    scopes: r.scopes as TokenScope[],
    createdBy: (r.created_by as string | null) ?? null,
    createdAt: r.created_at as Date,
    expiresAt: (r.expires_at as Date | null) ?? null,
    lastUsedAt: (r.last_used_at as Date | null) ?? null,
    revokedAt: (r.revoked_at as Date | null) ?? null,
  };
}
