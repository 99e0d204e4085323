/**
 * Online fetch of a feed published as one whole file with no deltas (CISA KEV, FIRST EPSS): one
 * conditional GET. The raw bytes are archived in `<workDir>/<feed>/`; the feed is unchanged when
 * the server answers 304 to the previous ETag / Last-Modified (and the archived copy is still
 * there), or sends the same bytes (sha256) again.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { download } from '../net/download.js';
import type { FeedCheckpoint, FetchContext, FetchResult } from './types.js';

export interface SingleFileFetchOptions {
  /** download retries (default: download's 5) */
  retries?: number;
  /** sleep between retries, injectable for tests */
  sleepMs?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface SingleFile {
  /** the feed's name: the archive folder under the work directory */
  feed: string;
  /** default URL of the file */
  url: string;
  /** file name, also looked up under a mirror directory */
  fileName: string;
  maxBytes: number;
}

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * The URL to fetch: `ctx.baseUrl` (else `url`, else the default) is either the file's own URL or,
 * ending in `/`, a mirror directory holding `fileName`.
 */
export function singleFileUrl(
  file: Pick<SingleFile, 'url' | 'fileName'>,
  baseUrl?: string,
  url?: string,
): string {
  const base = baseUrl ?? url ?? file.url;
  return base.endsWith('/') ? `${base}${file.fileName}` : base;
}

async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash, { signal });
  return hash.digest('hex');
}

/**
 * Downloads the file if it changed since `ctx.checkpoint` (`etag`, `lastModified`, `sha256`).
 * @returns `unchanged`, or `updated` in `full` mode with one body and the new checkpoint
 * @throws the download's coded ENG_FEED_* errors, ENG_ABORTED
 */
export async function fetchSingleFile(
  ctx: FetchContext,
  file: SingleFile,
  options: SingleFileFetchOptions & { url?: string } = {},
): Promise<FetchResult> {
  const prev = ctx.checkpoint ?? {};
  const dest = join(ctx.workDir, file.feed, file.fileName);
  const prevSha = str(prev.sha256);
  const haveCopy =
    prevSha !== undefined &&
    (await access(dest).then(
      () => true,
      () => false,
    ));
  ctx.onProgress?.(0, 1);
  const res = await download({
    url: singleFileUrl(file, ctx.baseUrl, options.url),
    dest,
    etag: haveCopy ? str(prev.etag) : undefined,
    lastModified: haveCopy ? str(prev.lastModified) : undefined,
    dispatcher: ctx.dispatcher,
    signal: ctx.signal,
    maxBytes: file.maxBytes,
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
