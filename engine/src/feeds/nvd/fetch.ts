/**
 * Online sync with the NVD CVE API 2.0 (https://nvd.nist.gov/developers/vulnerabilities).
 *
 * - First run (no checkpoint): a full sync, paging the unfiltered collection with `startIndex`
 *   and `resultsPerPage` (2,000, the API's maximum).
 * - Later runs: the CVEs modified since the checkpoint, with `lastModStartDate`/`lastModEndDate`
 *   in windows of at most 120 days (the API refuses longer ranges) up to now.
 * - Dates are sent as `2026-01-01T00:00:00.000+00:00` (the `+` encoded as `%2B`): since July 2025
 *   the API answers 404 "Invalid ISO 8601 date/time format" to dates without a UTC offset
 *   (aquasecurity/vuln-list-update#361, vehemont/nvdlib#63); the documented examples use
 *   `±hh:mm` offsets, so that is the form used rather than a bare `Z`.
 * - Requests go through a sliding-window limiter (5 per 30 s, 50 with an `apiKey` header) and
 *   download() retries 403 (NVD's rate-limit answer), 429 and 5xx honouring Retry-After; each
 *   retry takes a limiter slot too.
 * - Every page is archived in `<workDir>/nvd/` as it arrives and the progress file rewritten
 *   after it, so a killed run resumes at the next page (the run is keyed by mode and starting
 *   checkpoint; its windows and end are kept, so a resumed run finishes the same windows). A
 *   completed run whose checkpoint was never persisted is handed out again without a request.
 */
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError, isEngineError } from '../../errors.js';
import { download } from '../../net/download.js';
import { RETRY_STATUSES } from '../../net/retry.js';
import type { FeedBody, FetchContext, FetchResult } from '../types.js';
import { readPageSummary } from './parse.js';
import { PROGRESS_VERSION, readProgress, writeProgress, type NvdProgress, type Window } from './progress.js';
import { SlidingWindowLimiter, systemClock, type Clock } from './rate-limit.js';

/** The API endpoint; `ctx.baseUrl` replaces it (a mirror or a test server). */
export const NVD_API_URL = 'https://services.nvd.nist.gov/rest/json/cves/2.0';
/** The API's longest lastModified range. */
export const MAX_WINDOW_DAYS = 120;
const DAY_MS = 86_400_000;
const PROGRESS_FILE = 'progress.json';
/** NVD answers 403 (not 429) when a client exceeds its rate limit. */
const NVD_RETRY_STATUSES: ReadonlySet<number> = new Set([...RETRY_STATUSES, 403]);

export interface NvdFetchOptions {
  /** time for the rate limiter and retry waits (default: wall clock) */
  clock?: Clock;
  /** page size asked for (default 2000, the API maximum) */
  resultsPerPage?: number;
  /** retries per request after the first attempt (default 6) */
  retries?: number;
  /** header and body timeout per request (default 180 s) */
  timeoutMs?: number;
  /** requests per window: without / with an API key (default 5 / 50 per 30 s) */
  rateLimit?: { withoutKey: number; withKey: number; windowMs: number };
}

/** `lastModStartDate`-style timestamp: ISO 8601 with milliseconds and an explicit +00:00 offset. */
export function nvdDate(d: Date): string {
  return d.toISOString().replace(/Z$/, '+00:00');
}

/** Splits [from, to) into consecutive windows of at most MAX_WINDOW_DAYS; none when from ≥ to. */
export function planWindows(from: Date, to: Date): Window[] {
  const out: Window[] = [];
  for (let t = from.getTime(); t < to.getTime();) {
    const end = Math.min(t + MAX_WINDOW_DAYS * DAY_MS, to.getTime());
    out.push({ start: new Date(t).toISOString(), end: new Date(end).toISOString() });
    t = end;
  }
  return out;
}

function pageUrl(base: string, w: Window, startIndex: number, perPage: number): string {
  let q = `resultsPerPage=${perPage}&startIndex=${startIndex}`;
  if (w.start && w.end) {
    const enc = (iso: string) => nvdDate(new Date(iso)).replace('+', '%2B');
    q += `&lastModStartDate=${enc(w.start)}&lastModEndDate=${enc(w.end)}`;
  }
  return `${base}${base.includes('?') ? '&' : '?'}${q}`;
}

function checkpointDate(value: unknown): Date | undefined {
  if (typeof value !== 'string') return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Removes the archived pages and state of an earlier run. */
async function clearRun(dir: string): Promise<void> {
  for (const f of await readdir(dir)) {
    if (f.startsWith('page-') || f.startsWith(PROGRESS_FILE)) await rm(join(dir, f), { force: true });
  }
}

const fileBody = (path: string): FeedBody => ({
  name: path,
  open: async () => createReadStream(path),
});

/**
 * Fetches what changed since `ctx.checkpoint` (see the module comment). Returns `unchanged`
 * when an incremental run finds no modified CVE, else `updated` with the archived pages that
 * hold CVEs and the checkpoint `{lastModified}` to persist once they are applied. Throws the
 * ENG_FEED_* codes of download() (ENG_FEED_RATE_LIMITED for a 403 or 429 that outlasted the retries),
 * ENG_FEED_FORMAT for a page that is not an NVD_CVE page, ENG_ABORTED on `ctx.signal` (the
 * pages done so far are kept for the next run).
 */
export async function fetchNvd(ctx: FetchContext, options: NvdFetchOptions = {}): Promise<FetchResult> {
  const clock = options.clock ?? systemClock;
  const perPage = options.resultsPerPage ?? 2000;
  const limits = options.rateLimit ?? { withoutKey: 5, withKey: 50, windowMs: 30_000 };
  const apiKey = ctx.credentials?.nvdApiKey;
  const base = ctx.baseUrl ?? NVD_API_URL;
  const dir = join(ctx.workDir, 'nvd');
  const progressPath = join(dir, PROGRESS_FILE);
  await mkdir(dir, { recursive: true });

  const from = checkpointDate(ctx.checkpoint?.lastModified);
  const mode = from ? 'delta' : 'full';
  const key = `${mode}|${from?.toISOString() ?? ''}`;
  let p = await readProgress(progressPath);
  if (!p || p.key !== key) {
    await clearRun(dir);
    const now = ctx.now?.() ?? new Date(clock.now());
    const windows = from ? planWindows(from, now) : [{}];
    p = {
      version: PROGRESS_VERSION,
      key,
      mode,
      end: now.toISOString(),
      windows,
      window: 0,
      startIndex: 0,
      totalResults: null,
      pages: [],
      complete: windows.length === 0,
    } satisfies NvdProgress;
    await writeProgress(progressPath, p);
  }

  const limiter = new SlidingWindowLimiter(
    apiKey ? limits.withKey : limits.withoutKey,
    limits.windowMs,
    clock,
  );
  while (!p.complete) {
    const w = p.windows[p.window];
    if (!w) break; // every window done (readProgress refuses a window past the plan)
    const file = `page-${p.window}-${p.startIndex}.json`;
    await limiter.acquire(ctx.signal);
    const res = await download({
      url: pageUrl(base, w, p.startIndex, perPage),
      // NVD can take well over a minute to start answering a 2,000-CVE page
      timeoutMs: options.timeoutMs ?? 180_000,
      dest: join(dir, file),
      headers: apiKey ? { apiKey } : {},
      dispatcher: ctx.dispatcher,
      signal: ctx.signal,
      retries: options.retries ?? 6,
      retryStatuses: NVD_RETRY_STATUSES,
      sleepMs: async (ms, signal) => {
        await clock.sleep(ms, signal);
        await limiter.acquire(signal);
      },
    }).catch((e: unknown) => {
      // NVD's 403 is its rate-limit answer (an unknown API key gets one too)
      if (isEngineError(e) && e.code === 'ENG_FEED_HTTP' && / HTTP 403\b/.test(e.message))
        throw new EngineError('ENG_FEED_RATE_LIMITED', `${e.message} (NVD rate limit; check NVD_API_KEY)`, {
          cause: e,
        });
      throw e;
    });
    if (res.status !== 'ok') throw new EngineError('ENG_FEED_HTTP', `${base}: unexpected 304 Not Modified`);
    const page = await readPageSummary(fileBody(res.path), ctx.signal);
    p.pages.push({ file, window: p.window, startIndex: p.startIndex, count: page.count });
    const next = p.startIndex + page.count;
    if (page.count === 0 || next >= page.totalResults) {
      p.window++;
      p.startIndex = 0;
      p.totalResults = null;
      p.complete = p.window >= p.windows.length;
    } else {
      p.startIndex = next;
      p.totalResults = page.totalResults;
    }
    await writeProgress(progressPath, p);
    // pages still to come: the rest of this window when known, at least one per window not begun
    const windowsLeft = p.windows.length - p.window;
    const left =
      p.totalResults === null
        ? windowsLeft
        : Math.ceil((p.totalResults - p.startIndex) / perPage) + windowsLeft - 1;
    ctx.onProgress?.(p.pages.length, p.pages.length + left);
  }

  const pages = p.pages.filter((pg) => pg.count > 0);
  if (p.mode === 'delta' && pages.length === 0) {
    await clearRun(dir);
    return { status: 'unchanged' };
  }
  return {
    status: 'updated',
    mode: p.mode,
    checkpoint: { lastModified: p.end },
    bodies: pages.map((pg) => fileBody(join(dir, pg.file))),
  };
}
