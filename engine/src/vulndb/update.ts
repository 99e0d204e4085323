/**
 * `db update`: fetch what changed in each feed since the checkpoint stored in the current
 * snapshot, apply it to a copy, and publish the new snapshot atomically under a lock.
 *
 * Per feed: `unchanged` → only checkedAt moves; `updated` → applied in its mode (full replaces the
 * source, delta upserts/withdraws). A feed that fails (download, or a body its on-error `fail`
 * policy does not let it skip) keeps its previous rows, its error is recorded on the source
 * (`db status` shows it) and the other feeds still update: one mirror being down must not stop
 * NVD, KEV or EPSS from refreshing. The caller decides what a failed feed means for its exit. A feed whose version changed since its
 * checkpoint was stored starts over (no checkpoint → full fetch).
 */
import { join } from 'node:path';
import type { Dispatcher } from 'undici';
import { isEngineError } from '../errors.js';
import { FEEDS } from '../feeds/index.js';
import type { Feed, FetchContext } from '../feeds/types.js';
import type { Unknown } from '../model/unknown.js';
import { errorMessage, feedRecords } from './feed-records.js';
import { acquireDbLock } from './lock.js';
import { openSnapshotDatabase, readMeta } from './snapshot-file.js';
import { SnapshotWriter } from './snapshot-writer.js';
import type { SnapshotMeta, SourceMeta } from './types.js';

export interface UpdateProgress {
  feed: string;
  /** `fetch` / `apply` while working (with done/total when the feed reports them), then the outcome */
  phase: 'fetch' | 'apply' | 'unchanged' | 'updated' | 'failed';
  done?: number;
  total?: number;
  /** the error of a failed feed */
  message?: string;
}

export interface UpdateSnapshotOptions {
  /** the snapshot file to update (created when missing) */
  db: string;
  /** feeds to sync (default FEEDS); sources of other feeds keep their rows */
  feeds?: readonly Feed[];
  /** base URL (mirror) per feed name */
  baseUrls?: Readonly<Record<string, string>>;
  credentials?: FetchContext['credentials'];
  /** downloads and resume state go to `<workDir>/<feed name>` */
  workDir: string;
  dispatcher?: Dispatcher;
  signal?: AbortSignal;
  now?: () => Date;
  onProgress?: (progress: UpdateProgress) => void;
}

export interface FeedOutcome {
  name: string;
  status: 'unchanged' | 'updated' | 'failed';
  mode?: 'full' | 'delta';
  /** failed feeds (on-error `skip`) and skipped bodies */
  error?: string;
  /** the source after the update */
  source?: SourceMeta;
}

export interface UpdateSnapshotResult {
  meta: SnapshotMeta;
  /** version of the snapshot that was replaced (absent: there was none usable) */
  previousVersion?: string;
  /** why the previous file could not be the base (corrupt, other schema): the update started afresh */
  rebuiltBecause?: string;
  feeds: FeedOutcome[];
}

function previousSnapshot(db: string): { meta?: SnapshotMeta; problem?: string } {
  let handle;
  try {
    handle = openSnapshotDatabase(db);
    return { meta: readMeta(handle, db) };
  } catch (e) {
    if (isEngineError(e) && e.code === 'ENG_DB_NOT_FOUND') return {};
    if (isEngineError(e) && (e.code === 'ENG_DB_CORRUPT' || e.code === 'ENG_DB_SCHEMA_UNSUPPORTED'))
      return { problem: `${e.code}: ${e.message}` };
    throw e;
  } finally {
    handle?.close();
  }
}

/**
 * Updates (or creates) the snapshot at `options.db`.
 * @throws ENG_DB_LOCKED (another update runs), ENG_ABORTED. On any throw the previous file is
 *   untouched. Failed feeds are outcomes (`status: 'failed'`), not throws.
 */
export async function updateSnapshot(options: UpdateSnapshotOptions): Promise<UpdateSnapshotResult> {
  const feeds = options.feeds ?? FEEDS;
  const lock = await acquireDbLock(options.db);
  try {
    const previous = previousSnapshot(options.db);
    const writer = await SnapshotWriter.create({
      target: options.db,
      base: previous.meta ? options.db : undefined,
      now: options.now,
    });
    const outcomes: FeedOutcome[] = [];
    try {
      for (const feed of feeds) outcomes.push(await syncFeed(feed, writer, options));
    } catch (e) {
      await writer.abort();
      throw e;
    }
    const meta = await writer.finalize();
    const final = new Map(meta.sources.map((s) => [s.name, s]));
    return {
      meta,
      ...(previous.meta ? { previousVersion: previous.meta.version } : {}),
      ...(previous.problem ? { rebuiltBecause: previous.problem } : {}),
      feeds: outcomes.map((o) => ({ ...o, source: final.get(o.name) })),
    };
  } finally {
    await lock.release();
  }
}

async function syncFeed(
  feed: Feed,
  writer: SnapshotWriter,
  options: UpdateSnapshotOptions,
): Promise<FeedOutcome> {
  const progress = (p: Omit<UpdateProgress, 'feed'>) => options.onProgress?.({ feed: feed.name, ...p });
  const prev = writer.source(feed.name);
  const checkpoint = prev?.feedVersion === feed.version ? prev.checkpoint : undefined;
  try {
    progress({ phase: 'fetch' });
    const result = await feed.fetch({
      checkpoint,
      baseUrl: options.baseUrls?.[feed.name],
      dispatcher: options.dispatcher,
      workDir: join(options.workDir, feed.name),
      credentials: options.credentials,
      signal: options.signal,
      now: options.now,
      onProgress: (done, total) => progress({ phase: 'fetch', done, total }),
    });
    if (result.status === 'unchanged') {
      writer.markChecked(feed);
      progress({ phase: 'unchanged' });
      return { name: feed.name, status: 'unchanged' };
    }
    const skipped: Unknown[] = [];
    const records = feedRecords(feed, result.bodies, {
      signal: options.signal,
      onSkipped: (p) => skipped.push(p),
      onBody: (done, total) => progress({ phase: 'apply', done, total }),
    });
    await writer.applySource(feed, result.mode, records, {
      checkpoint: result.checkpoint,
      signal: options.signal,
    });
    const error = skipped.length
      ? `${skipped.length} body(ies) skipped, first ${skipped[0]!.path}: ${skipped[0]!.message}`
      : undefined;
    if (error) writer.recordError(feed, error);
    progress({ phase: 'updated' });
    return { name: feed.name, status: 'updated', mode: result.mode, ...(error ? { error } : {}) };
  } catch (e) {
    if (options.signal?.aborted || (isEngineError(e) && e.code === 'ENG_ABORTED')) throw e;
    const message = errorMessage(e);
    progress({ phase: 'failed', message });
    writer.recordError(feed, message);
    return { name: feed.name, status: 'failed', error: message };
  }
}
