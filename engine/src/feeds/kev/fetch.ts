/**
 * Online KEV: one conditional GET of the whole catalog (CISA publishes no deltas); see
 * ../single-file.ts for the unchanged rules.
 */
import { fetchSingleFile, singleFileUrl, type SingleFileFetchOptions } from '../single-file.js';
import type { FetchContext, FetchResult } from '../types.js';
import { MAX_KEV_BYTES } from './parse.js';

/** CISA's catalog URL (the default; `ctx.baseUrl` or `options.url` replace it). */
export const KEV_URL = 'https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json';
const FILE = {
  feed: 'kev',
  url: KEV_URL,
  fileName: 'known_exploited_vulnerabilities.json',
  maxBytes: MAX_KEV_BYTES,
};

export interface KevFetchOptions extends SingleFileFetchOptions {
  /** the catalog's URL (default KEV_URL) */
  url?: string;
}

/**
 * The URL to fetch: `ctx.baseUrl` is either the catalog file's own URL or, ending in `/`, a mirror
 * directory holding `known_exploited_vulnerabilities.json`.
 */
export function kevUrl(ctx: Pick<FetchContext, 'baseUrl'>, options: KevFetchOptions = {}): string {
  return singleFileUrl(FILE, ctx.baseUrl, options.url);
}

/**
 * Downloads the catalog if it changed since `ctx.checkpoint` (`etag`, `lastModified`, `sha256`).
 * @returns `unchanged`, or `updated` in `full` mode with one body and the new checkpoint
 * @throws the download's coded ENG_FEED_* errors, ENG_ABORTED
 */
export function fetchKev(ctx: FetchContext, options: KevFetchOptions = {}): Promise<FetchResult> {
  return fetchSingleFile(ctx, FILE, options);
}
