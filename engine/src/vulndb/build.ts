/**
 * `db build --from DIR`: an offline snapshot from native feed files, recognised by content.
 * Every feed with files is applied in full mode, in the order of the feed list.
 */
import { stat } from 'node:fs/promises';
import { EngineError } from '../errors.js';
import { FEEDS } from '../feeds/index.js';
import type { Feed } from '../feeds/types.js';
import type { Unknown } from '../model/unknown.js';
import { feedRecords } from './feed-records.js';
import { readOfflineInput } from './offline-input.js';
import { SnapshotWriter } from './snapshot-writer.js';
import type { SnapshotMeta, SourceMeta } from './types.js';

export interface BuildProgress {
  feed: string;
  /** bodies parsed so far / bodies of this feed */
  done: number;
  total: number;
}

export interface BuildSnapshotOptions {
  /** directory of native feed files (walked recursively; .gz and .zip opened) */
  from: string;
  /** snapshot file to write (replaced atomically; left as it was on failure) */
  out: string;
  /** feeds to recognise files with (default: every feed, FEEDS) */
  feeds?: readonly Feed[];
  signal?: AbortSignal;
  now?: () => Date;
  onProgress?: (progress: BuildProgress) => void;
}

export interface BuildSnapshotResult {
  meta: SnapshotMeta;
  /** the sources applied by this build (a subset of meta.sources order) */
  applied: SourceMeta[];
  /** files and zip entries looked at */
  files: number;
  /** files no feed recognised, or that could not be read */
  unrecognized: Unknown[];
  /** recognised files whose parse failed and were skipped (feeds with on-error `skip`) */
  skipped: Unknown[];
}

/**
 * Builds a snapshot from a directory of feed files.
 * @throws ENG_INVALID_ARGUMENT (`from` is not a directory), ENG_DB_EMPTY_INPUT (no file recognised),
 *   ENG_DB_BUILD_FAILED (a body of an on-error `fail` feed did not parse), ENG_ABORTED
 */
export async function buildSnapshot(options: BuildSnapshotOptions): Promise<BuildSnapshotResult> {
  const feeds = options.feeds ?? FEEDS;
  const info = await stat(options.from).catch(() => undefined);
  if (!info?.isDirectory())
    throw new EngineError('ENG_INVALID_ARGUMENT', `db build --from: ${options.from} is not a directory`);
  const input = await readOfflineInput(options.from, feeds, options.signal);
  try {
    if (input.bodies.size === 0)
      throw new EngineError(
        'ENG_DB_EMPTY_INPUT',
        `no file under ${options.from} is in a format of the feeds ${feeds.map((f) => f.name).join(', ')} (${input.files} files looked at)`,
      );
    const writer = await SnapshotWriter.create({ target: options.out, now: options.now });
    const skipped: Unknown[] = [];
    const applied: SourceMeta[] = [];
    try {
      for (const feed of feeds) {
        const bodies = input.bodies.get(feed);
        if (!bodies) continue;
        const records = feedRecords(feed, bodies, {
          signal: options.signal,
          onSkipped: (p) => skipped.push(p),
          onBody: (done, total) => options.onProgress?.({ feed: feed.name, done, total }),
        });
        const before = skipped.length;
        applied.push(await writer.applySource(feed, 'full', records, { signal: options.signal }));
        const mine = skipped.slice(before);
        if (mine.length)
          writer.recordError(
            feed,
            `${mine.length} file(s) skipped, first ${mine[0]!.path}: ${mine[0]!.message}`,
          );
      }
    } catch (e) {
      await writer.abort();
      throw e;
    }
    const meta = await writer.finalize();
    const final = new Map(meta.sources.map((s) => [s.name, s]));
    return {
      meta,
      applied: applied.map((s) => final.get(s.name) ?? s),
      files: input.files,
      unrecognized: input.unrecognized,
      skipped,
    };
  } finally {
    await input.close();
  }
}
