/**
 * Online EPSS: one conditional GET of the current daily scores file (FIRST publishes no deltas);
 * see ../single-file.ts for the unchanged rules.
 */
import { fetchSingleFile, singleFileUrl, type SingleFileFetchOptions } from '../single-file.js';
import type { FetchContext, FetchResult } from '../types.js';
import { MAX_EPSS_BYTES } from './parse.js';

/**
 * FIRST's current scores file (the default; `ctx.baseUrl` or `options.url` replace it). FIRST's EPSS
 * data is served by Empirical Security, EPSS's maintainer for FIRST; the URL redirects to the dated
 * `epss_scores-YYYY-MM-DD.csv.gz` of the day.
 */
export const EPSS_URL = 'https://epss.empiricalsecurity.com/epss_scores-current.csv.gz';
const FILE = {
  feed: 'epss',
  url: EPSS_URL,
  fileName: 'epss_scores-current.csv.gz',
  maxBytes: MAX_EPSS_BYTES,
};

export interface EpssFetchOptions extends SingleFileFetchOptions {
  /** the scores file's URL (default EPSS_URL) */
  url?: string;
}

/**
 * The URL to fetch: `ctx.baseUrl` is either the scores file's own URL or, ending in `/`, a mirror
 * directory holding `epss_scores-current.csv.gz`.
 */
export function epssUrl(ctx: Pick<FetchContext, 'baseUrl'>, options: EpssFetchOptions = {}): string {
  return singleFileUrl(FILE, ctx.baseUrl, options.url);
}

/**
 * Downloads the scores file if it changed since `ctx.checkpoint` (`etag`, `lastModified`, `sha256`).
 * @returns `unchanged`, or `updated` in `full` mode with one body and the new checkpoint
 * @throws the download's coded ENG_FEED_* errors, ENG_ABORTED
 */
export function fetchEpss(ctx: FetchContext, options: EpssFetchOptions = {}): Promise<FetchResult> {
  return fetchSingleFile(ctx, FILE, options);
}
