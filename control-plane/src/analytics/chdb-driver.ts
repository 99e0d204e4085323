/**
 * The embedded driver: chdb (ClickHouse in-process, npm `chdb`). Every call is chdb's non-blocking async form
 * (`queryAsync`, `queryBindAsync`, `insert`: they run on the libuv pool, the event loop keeps serving); the
 * blocking `query` / `queryBind` are never used.
 *
 * libchdb binds ONE data directory per process: a second path is refused until the first is closed and drained.
 * Drivers opened on the same path share one Session (reference-counted: the last close closes it), and opening
 * another path while one is open fails fast with CP_ANALYTICS_UNAVAILABLE naming both paths.
 */
import { resolve } from 'node:path';
import type { Session } from 'chdb';
import { ControlPlaneError } from '../errors.js';
import {
  classified,
  closedError,
  describeStatement,
  type ClickHouseDriver,
  type QueryParams,
  type Row,
} from './driver.js';
import { parseJsonEachRow, toJsonEachRow } from './json-each-row.js';

interface OpenSession {
  path: string;
  session: Session;
  refs: number;
}

/** The process-wide slot: libchdb holds at most one data directory at a time. */
let current: OpenSession | null = null;
/** Settles when the last closed session is fully released (chdb's drainPending), so another path may open. */
let releasing: Promise<void> = Promise.resolve();

/**
 * Opens (or joins) the chdb session on `path` (created when missing). Without `path`, a fresh temporary
 * directory removed on close. Rejects with CP_ANALYTICS_UNAVAILABLE when another directory is open in this process
 * or chdb cannot open this one.
 */
export async function createChdbDriver(path?: string): Promise<ClickHouseDriver> {
  await releasing;
  const wanted = path === undefined ? undefined : resolve(path);
  if (current && (wanted === undefined || current.path !== wanted)) {
    throw new ControlPlaneError(
      'CP_ANALYTICS_UNAVAILABLE',
      `chdb already has ${current.path} open in this process and holds one data directory at a time; ` +
        `cannot open ${wanted ?? 'a temporary directory'}`,
    );
  }
  if (!current) {
    const { Session } = await classified('chdb load', () => import('chdb'));
    // Re-check: another caller may have opened a session while the module loaded.
    if (current) return createChdbDriver(path);
    const session = await classified('chdb open', async () => new Session(wanted));
    current = { path: wanted ?? resolve(session.path), session, refs: 0 };
  }
  const slot = current;
  slot.refs += 1;
  return chdbDriver(slot);
}

function chdbDriver(slot: OpenSession): ClickHouseDriver {
  let closed = false;
  const session = (): Session => {
    if (closed) throw closedError('chdb');
    return slot.session;
  };
  const run = (sql: string, params: QueryParams | undefined) => {
    const s = session();
    return params && Object.keys(params).length > 0
      ? s.queryBindAsync(sql, params, { format: 'JSONEachRow' })
      : s.queryAsync(sql, { format: 'JSONEachRow' });
  };
  return {
    kind: 'chdb',
    exec: (statement, params) =>
      classified(describeStatement(statement), async () => {
        await run(statement, params);
      }),
    query: <R extends Row = Row>(sql: string, params?: QueryParams) =>
      classified(describeStatement(sql), async () => parseJsonEachRow<R>((await run(sql, params)).text())),
    insert: (table, rows) =>
      classified(`insert into ${table}`, async () => {
        if (rows.length === 0) return;
        await session().insert({ table, values: toJsonEachRow(rows), format: 'JSONEachRow' });
      }),
    async close() {
      if (closed) return;
      closed = true;
      slot.refs -= 1;
      if (slot.refs > 0 || current !== slot) return;
      current = null;
      slot.session.close();
      // close() defers while native work is in flight; drainPending settles once the directory is released.
      const { drainPending } = await import('chdb');
      releasing = drainPending().catch(() => undefined);
      await releasing;
    },
  };
}
