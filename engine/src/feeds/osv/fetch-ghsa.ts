/**
 * Online fetch of GitHub's reviewed advisories through the REST API
 * (https://docs.github.com/en/rest/security-advisories/global-advisories#list-global-security-advisories):
 * `GET <base>/advisories?type=reviewed&per_page=100&sort=updated&direction=asc[&updated=>=<since>]`
 * with `Authorization: Bearer <GITHUB_TOKEN>`, following the `Link: <…>; rel="next"` cursor pages
 * (only on the base URL's origin, so the token never leaves it). Default base https://api.github.com.
 *
 * - Without a token the feed returns `unchanged` and sends no request: the GitHub advisories still
 *   arrive through the `osv` feed's OSV export; the API only makes them fresher.
 * - Checkpoint `{updatedSince}`: the newest `updated_at` seen. The next run asks for
 *   `updated>=updatedSince` (the boundary advisory comes again, harmlessly); when nothing newer
 *   comes back the feed is `unchanged`. Mode `delta` with a checkpoint (upserts and withdrawals:
 *   withdrawn advisories carry `withdrawn_at`), `full` on a first run (the listing is complete).
 * - Rate limits: 403/429 with `Retry-After`, or with `x-ratelimit-remaining: 0` and
 *   `x-ratelimit-reset`, are waited out when the wait is short (net/retry RETRY_AFTER_MAX_MS);
 *   a longer wait fails the run with ENG_FEED_RATE_LIMITED (the checkpoint does not move).
 * - Pages are archived as `<workDir>/ghsa/page-NNNNN.json`; a page that is not a JSON array fails
 *   the run with ENG_FEED_FORMAT before any checkpoint moves.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../../errors.js';
import { download } from '../../net/download.js';
import { parseRetryAfter } from '../../net/retry.js';
import type { FeedBody, FetchContext, FetchResult } from '../types.js';
import { fileBody } from './body.js';
import { isObject } from './shape.js';

export const DEFAULT_GITHUB_API_URL = 'https://api.github.com';
/** 100 advisories a page: 5,000 pages is 500,000 advisories, far beyond GitHub's ~25,000 reviewed ones. */
const MAX_PAGES = 5000;

type Headers = Record<string, string | string[] | undefined>;
const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/** The wait GitHub asks for on a 403/429, or undefined when the answer is not a rate limit. */
export function githubRateLimitWaitMs(status: number, headers: Headers, now: number): number | undefined {
  if (status !== 403 && status !== 429) return undefined;
  const retryAfter = parseRetryAfter(first(headers['retry-after']), now);
  if (retryAfter !== undefined) return retryAfter;
  const reset = Number(first(headers['x-ratelimit-reset']));
  if (first(headers['x-ratelimit-remaining']) === '0' && Number.isFinite(reset))
    return Math.max(0, reset * 1000 - now);
  return undefined;
}

/** The `rel="next"` target of a Link header (RFC 8288), if any. */
export function nextLink(link: string | string[] | undefined): string | undefined {
  for (const part of (first(link) ?? '').split(',')) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m && /(^|;)\s*rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?\s*(;|$)/.test(m[2]!)) return m[1];
  }
  return undefined;
}

export async function fetchGhsaAdvisories(ctx: FetchContext): Promise<FetchResult> {
  const token = ctx.credentials?.githubToken;
  if (!token) return { status: 'unchanged' };
  const base = (ctx.baseUrl ?? DEFAULT_GITHUB_API_URL).replace(/\/+$/, '');
  const origin = new URL(base).origin;
  const sinceRaw = ctx.checkpoint?.updatedSince;
  const since = typeof sinceRaw === 'string' && sinceRaw ? sinceRaw : undefined;
  const now = () => (ctx.now ? ctx.now() : new Date()).getTime();

  const params = new URLSearchParams({
    type: 'reviewed',
    per_page: '100',
    sort: 'updated',
    direction: 'asc',
  });
  if (since) params.set('updated', `>=${since}`);
  let url: string | undefined = `${base}/advisories?${params}`;

  const dir = join(ctx.workDir, 'ghsa');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const bodies: FeedBody[] = [];
  const seen = new Set<string>();
  let newest: string | undefined;
  let newestMs = -Infinity;
  let fresh = 0;
  const sinceMs = since ? Date.parse(since) : -Infinity;

  while (url) {
    if (seen.has(url) || bodies.length >= MAX_PAGES)
      throw new EngineError('ENG_FEED_FORMAT', `${url}: pagination does not end`);
    seen.add(url);
    let link: string | string[] | undefined;
    const dest = join(dir, `page-${String(bodies.length + 1).padStart(5, '0')}.json`);
    const result = await download({
      url,
      dest,
      headers: {
        accept: 'application/vnd.github+json',
        authorization: `Bearer ${token}`,
        'x-github-api-version': '2022-11-28',
      },
      rateLimitWaitMs: (status, headers) => githubRateLimitWaitMs(status, headers, now()),
      onHeaders: (headers) => (link = headers.link),
      dispatcher: ctx.dispatcher,
      signal: ctx.signal,
    });
    if (result.status !== 'ok')
      throw new EngineError('ENG_FEED_HTTP', `${url}: unexpected 304 without a conditional request`);
    let page: unknown;
    try {
      page = JSON.parse(await readFile(dest, 'utf8'));
    } catch (e) {
      throw new EngineError('ENG_FEED_FORMAT', `${url}: not JSON: ${(e as Error).message}`, { cause: e });
    }
    if (!Array.isArray(page)) throw new EngineError('ENG_FEED_FORMAT', `${url}: not a list of advisories`);
    for (const adv of page) {
      const updated = isObject(adv) && typeof adv.updated_at === 'string' ? adv.updated_at : undefined;
      const ms = updated ? Date.parse(updated) : NaN;
      if (Number.isNaN(ms)) continue;
      if (ms > sinceMs) fresh++;
      if (ms > newestMs) [newest, newestMs] = [updated, ms];
    }
    bodies.push(fileBody(dest, url));
    ctx.onProgress?.(bodies.length);
    const next = nextLink(link);
    if (next !== undefined && new URL(next, url).origin !== origin)
      throw new EngineError('ENG_FEED_FORMAT', `${url}: next page ${next} is on another origin`);
    url = next === undefined ? undefined : new URL(next, url).toString();
  }

  if (since && fresh === 0) return { status: 'unchanged' };
  const updatedSince = newest ?? since;
  return {
    status: 'updated',
    checkpoint: updatedSince ? { updatedSince } : {},
    mode: since ? 'delta' : 'full',
    bodies,
  };
}
