/**
 * Atomic replacement of a file: the new content is written to a temporary file in the target's
 * directory (same filesystem), flushed to disk, then renamed over the target, and the directory
 * entry is flushed too. A crash at any point leaves either the old or the new file at the target,
 * plus at worst a stray temporary file that the next writer removes.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A temporary snapshot, its SQLite journal, a writer's staging database (affected-staging.ts) and its journal. */
const TEMP_RE = /^\.(.+)\.(\d+)\.[0-9a-f]{8}\.tmp(?:-staging)?(?:-journal)?$/;

/** A fresh temporary path next to `target`, named after it and this process id. */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Flushes a file (or directory) to stable storage; directories that refuse fsync are ignored. */
export async function fsyncPath(path: string, isDirectory = false): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } catch (e) {
    if (!isDirectory) throw e;
  } finally {
    await handle.close();
  }
}

/** Renames a complete, flushed temporary file over `target` and flushes the directory entry. */
export async function commitTemp(temp: string, target: string): Promise<void> {
  await fsyncPath(temp);
  await rename(temp, target);
  await fsyncPath(dirname(target), true);
}

/** True when a process with this id exists (on this host). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporary files of `target` (their SQLite journals, staging databases) left by dead processes. */
export async function removeStaleTemps(target: string): Promise<void> {
  const names = await readdir(dirname(target)).catch(() => [] as string[]);
  for (const name of names) {
    const m = TEMP_RE.exec(name);
    if (!m || m[1] !== basename(target)) continue;
    const pid = Number(m[2]);
    if (pid !== process.pid && !processAlive(pid)) {
      await rm(join(dirname(target), name), { force: true });
    }
  }
}
