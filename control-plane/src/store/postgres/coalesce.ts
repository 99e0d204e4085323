/**
 * Coalesced point reads: the keys asked for in one turn of the event loop are loaded together, per group (an
 * organisation), by one statement. Under load the HTTP server reads a burst of requests from its sockets in one
 * poll phase, and their handlers reach the store before the next turn; one `= ANY ($n)` statement then costs
 * Postgres and the pool one round trip instead of one per request (the DataLoader pattern). A lone request waits
 * for nothing but `setImmediate`.
 *
 * A batch that fails rejects each of its callers with the statement's error, as their own statements would have
 * failed. Groups never share a statement, so tenant scoping stays in the SQL of each batch.
 */

import type { SqlDatabase } from './sql.js';

const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Whether `id` is a uuid as Postgres prints one, so a batch's rows are found again by the text asked for. Any other
 * spelling Postgres may accept (upper case, braces) or refuse runs alone, so it can neither fail a batch nor be
 * missed in its rows.
 */
const batchableUuid = (id: string): boolean => CANONICAL_UUID.test(id);

interface Waiter<V> {
  resolve(value: V | undefined): void;
  reject(error: unknown): void;
}

/** Loads the rows of `keys` (distinct, at most `maxBatch`) of one group, by key; absent keys are simply missing. */
export type BatchLoad<V> = (group: string, keys: string[]) => Promise<Map<string, V>>;

/** `lookup(group, key)`: the value of `key`, or undefined when the batch's statement found none. */
export type CoalescedLookup<V> = (group: string, key: string) => Promise<V | undefined>;

/** A lookup that batches the calls of one event-loop turn per group through `load` (at most `maxBatch` keys each). */
export function coalescedLookup<V>(load: BatchLoad<V>, maxBatch = 100): CoalescedLookup<V> {
  // group → key → callers waiting for it (a key asked twice in a turn is loaded once)
  let pending = new Map<string, Map<string, Array<Waiter<V>>>>();
  let scheduled = false;

  const run = (group: string, keys: string[], waiters: Map<string, Array<Waiter<V>>>): void => {
    load(group, keys).then(
      (found) => {
        for (const key of keys) for (const w of waiters.get(key)!) w.resolve(found.get(key));
      },
      (error: unknown) => {
        for (const key of keys) for (const w of waiters.get(key)!) w.reject(error);
      },
    );
  };

  const flush = (): void => {
    const turn = pending;
    pending = new Map();
    scheduled = false;
    for (const [group, waiters] of turn) {
      const keys = [...waiters.keys()];
      for (let i = 0; i < keys.length; i += maxBatch) run(group, keys.slice(i, i + maxBatch), waiters);
    }
  };

  return (group, key) =>
    new Promise<V | undefined>((resolve, reject) => {
      let waiters = pending.get(group);
      if (!waiters) pending.set(group, (waiters = new Map()));
      const list = waiters.get(key);
      if (list) list.push({ resolve, reject });
      else waiters.set(key, [{ resolve, reject }]);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}

type Row = Record<string, unknown>;

/**
 * Point reads of one organisation's row by uuid `id`: `select` is the statement up to its WHERE (`SELECT … FROM
 * scans s`), `alias` the table's alias. Ids spelled as Postgres prints them are coalesced (`alias.id = ANY ($2)`);
 * any other spelling runs alone (`alias.id = $2`). Resolves with the row, or null when there is none.
 */
export function orgRowById(db: SqlDatabase, select: string, alias: string) {
  const where = `WHERE ${alias}.org_id = $1 AND ${alias}.id`;
  const batched = coalescedLookup<Row>(async (orgId, ids) => {
    const { rows } = await db.query(`${select} ${where} = ANY ($2::uuid[])`, [orgId, ids]);
    return new Map(rows.map((r) => [r.id as string, r]));
  });
  return async (orgId: string, id: string): Promise<Row | null> => {
    if (batchableUuid(id)) return (await batched(orgId, id)) ?? null;
    const { rows } = await db.query(`${select} ${where} = $2`, [orgId, id]);
    return rows[0] ?? null;
  };
}
