/**
 * The lock every write to the snapshot directory runs under (an update, a drop's intake, an upload), so one
 * control plane at a time changes it. The fleet takes a Postgres advisory lock: a transaction-scoped one,
 * held by a transaction left open on one pooled connection for as long as the work runs, so Postgres itself
 * releases it when the work ends, the transaction rolls back, or the connection (or the process) dies. The
 * all-in-one, alone with its embedded database, uses an in-process lock (an open transaction would stall
 * PGlite's single connection).
 */
import type { SqlDatabase } from '../store/postgres/index.js';

/** A held lock. */
export interface HeldLock {
  release(): Promise<void>;
}

export interface SyncLock {
  /** Takes the lock without waiting: null when another holder (this process or another) has it. */
  tryAcquire(): Promise<HeldLock | null>;
  /** True while anyone holds it (a status attempt left `running` without a holder was cut short). */
  isHeld(): Promise<boolean>;
}

/** The advisory lock's two keys: `VIGL` and the database sync's number. */
const KEY = [0x5649474c, 1] as const;

/** The fleet's lock: a Postgres advisory lock shared by every control plane on the database. */
export function advisoryLock(db: SqlDatabase): SyncLock {
  return {
    async tryAcquire() {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let answer!: (acquired: boolean) => void;
      const acquired = new Promise<boolean>((resolve) => (answer = resolve));
      const transaction = db.transaction(async (tx) => {
        const { rows } = await tx.query<{ ok: boolean }>(
          'SELECT pg_try_advisory_xact_lock($1, $2) AS ok',
          KEY,
        );
        answer(rows[0]!.ok);
        if (rows[0]!.ok) await released;
      });
      // a failure before the answer rejects tryAcquire; one after it (the connection died while held) only
      // means Postgres let the lock go already
      const settled = transaction.catch(() => undefined);
      const ended = transaction.then(() => false);
      ended.catch(() => undefined);
      const ok = await Promise.race([acquired, ended]);
      if (!ok) return null;
      return {
        async release() {
          release();
          await settled;
        },
      };
    },
    async isHeld() {
      const { rows } = await db.query<{ held: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid = $2
           AND objsubid = 2 AND granted) AS held`,
        KEY,
      );
      return rows[0]!.held;
    },
  };
}

/** The all-in-one's lock: one holder in this process. */
export function processLock(): SyncLock {
  let held = false;
  return {
    async tryAcquire() {
      if (held) return null;
      held = true;
      return {
        async release() {
          held = false;
        },
      };
    },
    async isHeld() {
      return held;
    },
  };
}
