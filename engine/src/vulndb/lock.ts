/**
 * The update lock: `<db>.lock`, holding the owner's pid, host and start time. It is created
 * complete and atomically (written to a temporary name, then hard-linked into place, which fails
 * if a lock exists). A lock whose process is gone (same host) is stale and taken over.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { EngineError } from '../errors.js';
import { processAlive } from './atomic-file.js';

interface LockContent {
  pid: number;
  host: string;
  startedAt: string;
  token: string;
}

/** A held lock; `release` removes the file if it is still ours. */
export interface DbLock {
  readonly path: string;
  release(): Promise<void>;
}

async function readLock(path: string): Promise<LockContent | undefined> {
  try {
    const v = JSON.parse(await readFile(path, 'utf8')) as Partial<LockContent>;
    return typeof v.pid === 'number' && typeof v.host === 'string' ? (v as LockContent) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the lock of the snapshot at `db` (the file need not exist).
 * @throws ENG_DB_LOCKED when a live process (or a process on another host) holds it
 */
export async function acquireDbLock(db: string): Promise<DbLock> {
  const path = `${db}.lock`;
  await mkdir(dirname(path), { recursive: true });
  const mine: LockContent = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
  };
  const temp = `${path}.${process.pid}.${mine.token}`;
  await writeFile(temp, JSON.stringify(mine) + '\n');
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(temp, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        if (attempt >= 2)
          throw new EngineError('ENG_DB_LOCKED', `${db}: another process keeps taking the lock ${path}`);
      }
      const holder = await readLock(path);
      const live = holder && (holder.host !== mine.host || processAlive(holder.pid));
      if (live)
        throw new EngineError(
          'ENG_DB_LOCKED',
          `${db} is being updated by process ${holder.pid} on ${holder.host} since ${holder.startedAt} (lock file ${path})`,
        );
      // stale (its process is gone) or unreadable: take it over
      await rm(path, { force: true });
    }
  } finally {
    await rm(temp, { force: true });
  }
  return {
    path,
    async release() {
      const holder = await readLock(path);
      if (holder?.token === mine.token) await rm(path, { force: true });
    },
  };
}
