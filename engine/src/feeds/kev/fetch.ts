/**
 * Online KEV: one conditional GET of the whole catalog (CISA publishes no deltas). The raw bytes
 * are archived in `<workDir>/kev/`; the feed is unchanged when the server answers 304 to the
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
import { MAX_KEV_BYTES } from './parse.js';

/** CISA's catalog URL (the default; `ctx.baseUrl` or `options.url` replace it). */
export const KEV_URL = 'https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json';
const FILE_NAME = 'known_exploited_vulnerabilities.json';

export interface KevFetchOptions {
  /** the catalog's URL (default KEV_URL) */
  url?: string;
  /** download retries (default: download's 5) */
  retries?: number;
  /** sleep between retries, injectable for tests */
  sleepMs?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * The URL to fetch: `ctx.baseUrl` is either the catalog file's own URL or, ending in `/`, a mirror
 * directory holding `known_exploited_vulnerabilities.json`.
 */
export function kevUrl(ctx: Pick<FetchContext, 'baseUrl'>, options: KevFetchOptions = {}): string {
  const base = ctx.baseUrl ?? options.url ?? KEV_URL;
  return base.endsWith('/') ? `${base}${FILE_NAME}` : base;
}

async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash, { signal });
  return hash.digest('hex');
}

/**
 * Downloads the catalog if it changed since `ctx.checkpoint` (`etag`, `lastModified`, `sha256`).
 * @returns `unchanged`, or `updated` in `full` mode with one body and the new checkpoint
 * @throws the download's coded ENG_FEED_* errors, ENG_ABORTED
 */
export async function fetchKev(ctx: FetchContext, options: KevFetchOptions = {}): Promise<FetchResult> {
  const prev = ctx.checkpoint ?? {};
  const dest = join(ctx.workDir, 'kev', FILE_NAME);
  const prevSha = str(prev.sha256);
  const haveCopy =
    prevSha !== undefined &&
    (await access(dest).then(
      () => true,
      () => false,
    ));
  ctx.onProgress?.(0, 1);
  const res = await download({
    url: kevUrl(ctx, options),
    dest,
    etag: haveCopy ? str(prev.etag) : undefined,
    lastModified: haveCopy ? str(prev.lastModified) : undefined,
    dispatcher: ctx.dispatcher,
    signal: ctx.signal,
    maxBytes: MAX_KEV_BYTES,
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
