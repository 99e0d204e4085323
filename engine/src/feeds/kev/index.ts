/**
 * KEV feed: CISA's catalog of Known Exploited Vulnerabilities. Each entry marks a CVE as exploited
 * in the wild (`kev: true` in reports) with the date CISA added it and its remediation due date.
 * The catalog is small and published whole, so every fetch is a `full` replacement.
 *
 * On-error policy `skip`: a damaged body is skipped and counted; KEV only annotates findings, so a
 * snapshot without it is still worth building (and `db build --from` on a folder that also holds
 * broken copies goes on).
 */
import type { Feed } from '../types.js';
import { fetchKev, type KevFetchOptions } from './fetch.js';
import { detectKev, parseKevBody } from './parse.js';

export { KEV_URL, kevUrl, type KevFetchOptions } from './fetch.js';
export { detectKev, mapKevEntry, parseKevBody, MAX_KEV_BYTES } from './parse.js';

/** Builds the KEV feed; `options` set the URL, retries and sleep (tests, mirrors). */
export function createKevFeed(options: KevFetchOptions = {}): Feed {
  return {
    name: 'kev',
    version: 1,
    description: 'CISA Known Exploited Vulnerabilities catalog (JSON)',
    onError: 'skip',
    detect: detectKev,
    fetch: (ctx) => fetchKev(ctx, options),
    parse: (body, parseOptions) => parseKevBody(body, parseOptions),
  };
}

/** The KEV feed with default settings (CISA's URL). */
export const kevFeed: Feed = createKevFeed();
