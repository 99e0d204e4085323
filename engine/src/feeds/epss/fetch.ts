/**
 * Online EPSS: one conditional GET of the current daily scores file (FIRST publishes no deltas). The raw bytes
 * are archived in `<workDir>/epss/`; the feed is unchanged when the server answers 304 to the
 * previous ETag / Last-Modified (and the archived copy is still there), or sends the same bytes
 * (sha256) again.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { download } from '../../net/download.js';
import type { FeedCheckpoint, FetchContext, FetchResult } from '../types.js';
import { MAX_EPSS_BYTES } from './parse.js';

/**
 * FIRST's current scores file (the default; `ctx.baseUrl` or `options.url` replace it). FIRST's EPSS
 * data is served by Empirical Security, EPSS's maintainer for FIRST; the URL redirects to the dated
 * `epss_scores-YYYY-MM-DD.csv.gz` of the day.
 */
export const EPSS_URL = 'https://epss.empiricalsecurity.com/epss_scores-current.csv.gz';
const FILE_NAME = 'epss_scores-current.csv.gz';

export interface EpssFetchOptions {
  /** the scores file's URL (default EPSS_URL) */
  url?: string;
  /** download retries (default: download's 5) */
  retries?: number;
  /** sleep between retries, injectable for tests */
  sleepMs?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * The URL to fetch: `ctx.baseUrl` is either the scores file's own URL or, ending in `/`, a mirror
 * directory holding `epss_scores-current.csv.gz`.
 */
export function epssUrl(ctx: Pick<FetchContext, 'baseUrl'>, options: EpssFetchOptions = {}): string {
  const base = ctx.baseUrl ?? options.url ?? EPSS_URL;
  return base.endsWith('/') ? `${base}${FILE_NAME}` : base;
}

async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash, { signal });
  return hash.digest('hex');
}

/**
 * Downloads the scores file if it changed since `ctx.checkpoint` (`etag`, `lastModified`, `sha256`).
 * @returns `unchanged`, or `updated` in `full` mode with one body and the new checkpoint
 * @throws the download's coded ENG_FEED_* errors, ENG_ABORTED
 */
export async function fetchEpss(ctx: FetchContext, options: EpssFetchOptions = {}): Promise<FetchResult> {
  const prev = ctx.checkpoint ?? {};
  const dest = join(ctx.workDir, 'epss', FILE_NAME);
  const prevSha = str(prev.sha256);
  const haveCopy =
    prevSha !== undefined &&
    (await access(dest).then(
      () => true,
      () => false,
    ));
  ctx.onProgress?.(0, 1);
  const res = await download({
    url: epssUrl(ctx, options),
    dest,
    etag: haveCopy ? str(prev.etag) : undefined,
    lastModified: haveCopy ? str(prev.lastModified) : undefined,
    dispatcher: ctx.dispatcher,
    signal: ctx.signal,
    maxBytes: MAX_EPSS_BYTES,
    ...(options.retries !== undefined ? { retries: options.retries } : {}),
    ...(options.sleepMs ? { sleepMs: options.sleepMs } : {}),
  });
  ctx.onProgress?.(1, 1);
  if (res.status === 'not-modified') return { status: 'unchanged' };
  const sha256 = await sha256File(res.path, ctx.signal);
  if (sha256 === prevSha) return { status: 'unchanged' };
  const checkpoint: FeedCheckpoint = { sha256 };
  if (res.etag) checkpoint.etag = res.etag;
  if (res.lastModified) checkpoint.lastModified = res.lastModified;
  const path = res.path;
  return {
    status: 'updated',
    checkpoint,
    mode: 'full',
    bodies: [{ name: path, open: async () => createReadStream(path) }],
  };
}
