/**
 * NVD feed: the National Vulnerability Database's CVE API 2.0. NVD contributes CVSS (v2, v3.0,
 * v3.1, v4.0, each with its source and Primary/Secondary type), CWE ids, descriptions,
 * references and CPE configurations (kept as published). It names no packages: OS packages are
 * matched against the distro trackers and language packages against GHSA/OSV, never against NVD
 * CPEs (backport false positives). Rejected CVEs are withdrawals.
 *
 * On-error policy `skip`: a damaged page is skipped and counted; NVD only enriches findings, so
 * the rest of the snapshot is still worth building.
 */
import type { Feed } from '../types.js';
import { fetchNvd, type NvdFetchOptions } from './fetch.js';
import { detectNvd, parseNvdBody } from './parse.js';

export type { NvdFetchOptions } from './fetch.js';
export { MAX_WINDOW_DAYS, NVD_API_URL, nvdDate, planWindows } from './fetch.js';
export { SlidingWindowLimiter, systemClock, type Clock } from './rate-limit.js';

/** Builds the NVD feed; `options` inject the clock, page size, retries and rate limits (tests, mirrors). */
export function createNvdFeed(options: NvdFetchOptions = {}): Feed {
  return {
    name: 'nvd',
    version: 1,
    description: 'NVD CVE API 2.0: CVSS v2/v3.0/v3.1/v4.0 with sources, CWE, references, CPE configurations',
    onError: 'skip',
    detect: detectNvd,
    fetch: (ctx) => fetchNvd(ctx, options),
    parse: (body, parseOptions) => parseNvdBody(body, parseOptions),
  };
}

/** The NVD feed with default settings (services.nvd.nist.gov, 2,000 per page, wall clock). */
export const nvdFeed: Feed = createNvdFeed();
