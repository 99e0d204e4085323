/**
 * The audit log of admin actions: append-only rows (actor, action, target, details, time) per organisation,
 * listed newest first with keyset pagination on the identity column.
 */
import { ControlPlaneError } from '../../errors.js';
import type { ActorType, AuditRecord, AuditStore } from '../../services/types.js';
import { decodeCursor, encodeCursor, pageLimit } from './cursor.js';
import type { SqlDatabase } from './sql.js';

type Row = Record<string, unknown>;

const ACTION = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const ACTOR_TYPES: readonly ActorType[] = ['user', 'token', 'system'];
const COLUMNS =
  'a.id, a.org_id, a.actor_type, a.actor_id, a.action, a.target_type, a.target_id, a.details, a.at';

/** The Postgres implementation of {@link AuditStore}. */
export function pgAuditStore(db: SqlDatabase): AuditStore {
  return {
    async appendAudit(orgId, { actor, action, target = null, details = {} }) {
      if (!ACTOR_TYPES.includes(actor.type)) {
        throw new ControlPlaneError(
          'CP_INVALID_ARGUMENT',
          `actor type must be one of ${ACTOR_TYPES.join(', ')}`,
        );
      }
      if (!ACTION.test(action))
        throw new ControlPlaneError(
          'CP_INVALID_ARGUMENT',
          `action ${JSON.stringify(action)} is not dotted lower-case`,
        );
      const { rows } = await db.query(
        `INSERT INTO audit_log AS a (org_id, actor_type, actor_id, action, target_type, target_id, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
        [
          orgId,
          actor.type,
          actor.id,
          action,
          target?.type ?? null,
          target?.id ?? null,
          JSON.stringify(details),
        ],
      );
      return toAudit(rows[0]!);
    },

    async listAudit(orgId, query = {}) {
      const limit = pageLimit(query.limit);
      const values: unknown[] = [orgId];
      const where = ['a.org_id = $1'];
      if (query.action !== undefined) where.push(`a.action = $${values.push(query.action)}`);
      if (query.cursor) {
        const [id] = decodeCursor(query.cursor, 'audit', 1);
        if (!/^[0-9]{1,19}$/.test(id!))
          throw new ControlPlaneError('CP_CURSOR_INVALID', 'cursor was not issued for this listing');
        where.push(`a.id < $${values.push(id)}::bigint`);
      }
      values.push(limit + 1);
      const { rows } = await db.query(
        `SELECT ${COLUMNS} FROM audit_log a WHERE ${where.join(' AND ')} ORDER BY a.id DESC LIMIT $${values.length}`,
        values,
      );
      const items = rows.slice(0, limit).map(toAudit);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > limit && last ? encodeCursor('audit', [last.id]) : null };
    },
  };
}

function toAudit(r: Row): AuditRecord {
  return {
    id: String(r.id),
    orgId: r.org_id as string,
    actor: { type: r.actor_type as ActorType, id: (r.actor_id as string | null) ?? null },
    action: r.action as string,
    target: r.target_type === null ? null : { type: r.target_type as string, id: r.target_id as string },
    details: r.details as Record<string, unknown>,
    at: r.at as Date,
  };
}
