/**
 * What the last database sync attempt did, kept in `sync-status.json` of the snapshot directory so every
 * control-plane replica sharing it shows the same thing in `GET /db`: when the attempt ran, what started it, its
 * outcome, the error that stopped it (or the first feed that failed) and each feed's outcome. Written only by
 * the sync lock's holder, atomically.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What started an attempt. */
export type SyncTrigger = 'schedule' | 'request' | 'drop' | 'upload';

/**
 * `updated`: a new snapshot is current; `unchanged`: every feed answered, nothing new; `partial`: some feeds
 * failed (they keep their previous data), the others were applied; `failed`: nothing could be applied, the
 * previous snapshot stays; `running`: in progress (or cut short by a crash when no lock is held any more).
 */
export type SyncOutcome = 'running' | 'updated' | 'unchanged' | 'partial' | 'failed';

/** A coded error: an engine code (`ENG_FEED_HTTP`), a control-plane code, or `CP_INTERNAL`. */
export interface SyncError {
  code: string;
  message: string;
}

export interface FeedAttempt {
  name: string;
  status: 'unchanged' | 'updated' | 'failed';
  error: string | null;
}

export interface SyncAttempt {
  trigger: SyncTrigger;
  startedAt: string;
  finishedAt: string | null;
  outcome: SyncOutcome;
  /** the current version before and after the attempt */
  previousVersion: string | null;
  version: string | null;
  error: SyncError | null;
  feeds: FeedAttempt[];
}

export interface SyncRecord {
  lastAttempt: SyncAttempt | null;
  /** when an attempt last ended `updated` or `unchanged` */
  lastSuccessAt: string | null;
  /** when the last update (scheduled or requested) started: the schedule counts from there */
  lastUpdateStartedAt: string | null;
}

const CODED = /^([A-Z][A-Z0-9]*_[A-Z0-9_]+): ([\s\S]*)$/;

/** The code and message of a thrown value (coded errors keep their code; anything else is CP_INTERNAL). */
export function errorOf(e: unknown): SyncError {
  const code = (e as { code?: unknown } | null)?.code;
  const message = e instanceof Error ? e.message : String(e);
  if (typeof code === 'string' && /^[A-Z][A-Z0-9]*_[A-Z0-9_]+$/.test(code)) return { code, message };
  return { code: 'CP_INTERNAL', message };
}

/** A feed outcome's error string (`ENG_FEED_HTTP: …`, as the engine records it) as a coded error (uncoded: CP_INTERNAL). */
export function feedError(name: string, text: string): SyncError {
  const m = CODED.exec(text);
  return m
    ? { code: m[1]!, message: `${name}: ${m[2]}` }
    : { code: 'CP_INTERNAL', message: `${name}: ${text}` };
}

/** The status file of a snapshot directory. */
export class SyncStatusFile {
  private readonly path: string;

  constructor(dir: string) {
    this.path = join(dir, 'sync-status.json');
  }

  async read(): Promise<SyncRecord> {
    try {
      return JSON.parse(await readFile(this.path, 'utf8')) as SyncRecord;
    } catch {
      return { lastAttempt: null, lastSuccessAt: null, lastUpdateStartedAt: null };
    }
  }

  async write(attempt: SyncAttempt): Promise<void> {
    const previous = await this.read();
    const succeeded = attempt.outcome === 'updated' || attempt.outcome === 'unchanged';
    const update = attempt.trigger === 'schedule' || attempt.trigger === 'request';
    const record: SyncRecord = {
      lastAttempt: attempt,
      lastSuccessAt: succeeded ? attempt.finishedAt : previous.lastSuccessAt,
      lastUpdateStartedAt: update ? attempt.startedAt : previous.lastUpdateStartedAt,
    };
    const temp = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temp, JSON.stringify(record, null, 2) + '\n');
      await rename(temp, this.path);
    } finally {
      await rm(temp, { force: true });
    }
  }
}
