/**
 * EPSS feed: FIRST's Exploit Prediction Scoring System, the daily probability (and its percentile)
 * that each CVE is exploited in the next 30 days. Published whole every day, so every fetch is a
 * `full` replacement; the score date travels with each record.
 *
 * On-error policy `skip`: a damaged body (bad header, no score date) is skipped and counted; EPSS
 * only annotates findings, so a snapshot without it is still worth building.
 */
import type { Feed } from '../types.js';
import { fetchEpss, type EpssFetchOptions } from './fetch.js';
import { detectEpss, parseEpssBody } from './parse.js';

export { EPSS_URL, epssUrl, type EpssFetchOptions } from './fetch.js';
export { detectEpss, parseEpssBody, parseEpssComment, MAX_EPSS_BYTES } from './parse.js';

/** Builds the EPSS feed; `options` set the URL, retries and sleep (tests, mirrors). */
export function createEpssFeed(options: EpssFetchOptions = {}): Feed {
  return {
    name: 'epss',
    version: 1,
    description: 'FIRST EPSS daily exploit-prediction scores (gzipped CSV)',
    onError: 'skip',
    detect: detectEpss,
    fetch: (ctx) => fetchEpss(ctx, options),
    parse: (body, parseOptions) => parseEpssBody(body, parseOptions),
  };
}

/** The EPSS feed with default settings (FIRST's current scores URL). */
export const epssFeed: Feed = createEpssFeed();
