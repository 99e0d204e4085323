/**
 * HTTP downloads for feeds: conditional GET (ETag / Last-Modified), bounded retries with backoff
 * that honour Retry-After, timeouts, a size cap, streaming to a file (raw bytes archived as they
 * came, written atomically), AbortSignal throughout. Errors are coded ENG_FEED_*.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { request, type Dispatcher } from 'undici';
import { EngineError, isEngineError } from '../errors.js';
import { errorCode, isRetryableError, retryDelayMs, RETRY_AFTER_MAX_MS, RETRY_STATUSES } from './retry.js';

export interface DownloadOptions {
  url: string;
  /** file to write; written to `dest.part` first, renamed when complete */
  dest: string;
  headers?: Record<string, string>;
  /** from the previous download, for a conditional GET */
  etag?: string;
  lastModified?: string;
  dispatcher?: Dispatcher;
  signal?: AbortSignal;
  /** retries after the first attempt (default 5) */
  retries?: number;
  /** header and body timeouts (default 60 s) */
  timeoutMs?: number;
  /** refuse bodies past this many bytes (default 4 GiB) */
  maxBytes?: number;
  /** called before each retry wait (status or error code, delay) */
  onRetry?: (info: { attempt: number; status?: number; code?: string; delayMs: number }) => void;
  /** sleep, injectable for tests */
  sleepMs?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /**
   * Rate-limit rule for answers the default policy does not retry (GitHub answers 403 with
   * `x-ratelimit-remaining: 0`): return the wait in ms before retrying, or undefined for the default
   * handling. A wait past RETRY_AFTER_MAX_MS, or after the last retry, throws ENG_FEED_RATE_LIMITED.
   */
  rateLimitWaitMs?: (status: number, headers: Record<string, string | string[] | undefined>) => number | undefined;
  /** called with the headers of the 2xx answer whose body is saved (e.g. a `Link` header for pagination) */
  onHeaders?: (headers: Record<string, string | string[] | undefined>) => void;
  /** statuses worth another try (default RETRY_STATUSES; NVD adds 403, its rate-limit answer) */
  retryStatuses?: ReadonlySet<number>;
}

export type DownloadResult =
  | { status: 'not-modified' }
  | { status: 'ok'; path: string; bytes: number; etag?: string; lastModified?: string; contentType?: string };

const header = (h: Record<string, string | string[] | undefined>, name: string) => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

/** Downloads `url` to `dest`. Throws ENG_FEED_HTTP / _RATE_LIMITED / _TIMEOUT / _UNREACHABLE / _TOO_LARGE or ENG_ABORTED. */
export async function download(options: DownloadOptions): Promise<DownloadResult> {
  const retries = options.retries ?? 5;
  const timeout = options.timeoutMs ?? 60_000;
  const maxBytes = options.maxBytes ?? 4 * 1024 ** 3;
  const wait = options.sleepMs ?? ((ms: number, signal?: AbortSignal) => sleep(ms, undefined, { signal }));
  const headers: Record<string, string> = { 'user-agent': 'vigil', ...options.headers };
  if (options.etag) headers['if-none-match'] = options.etag;
  if (options.lastModified) headers['if-modified-since'] = options.lastModified;
  await mkdir(dirname(options.dest), { recursive: true });
  const part = `${options.dest}.part`;

  let url = options.url;
  let redirects = 0;
  for (let attempt = 0; ; attempt++) {
    if (options.signal?.aborted)
      throw new EngineError('ENG_ABORTED', `download of ${options.url} aborted`, {
        cause: options.signal.reason,
      });
    let res: Dispatcher.ResponseData<unknown>;
    try {
      res = await request(url, {
        method: 'GET',
        headers,
        dispatcher: options.dispatcher,
        signal: options.signal,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
    } catch (e) {
      if (options.signal?.aborted)
        throw new EngineError('ENG_ABORTED', `download of ${options.url} aborted`, { cause: e });
      const code = errorCode(e);
      const timedOut =
        code === 'UND_ERR_HEADERS_TIMEOUT' ||
        code === 'UND_ERR_BODY_TIMEOUT' ||
        code === 'UND_ERR_CONNECT_TIMEOUT';
      if ((isRetryableError(e) || timedOut) && attempt < retries) {
        const delayMs = retryDelayMs(attempt, undefined);
        options.onRetry?.({ attempt, code, delayMs });
        await wait(delayMs, options.signal);
        continue;
      }
      if (timedOut)
        throw new EngineError('ENG_FEED_TIMEOUT', `${options.url}: no answer within ${timeout} ms`, {
          cause: e,
        });
      throw new EngineError('ENG_FEED_UNREACHABLE', `${options.url}: ${code ?? (e as Error).message}`, {
        cause: e,
      });
    }
    const status = res.statusCode;
    const location = header(res.headers, 'location');
    if ([301, 302, 303, 307, 308].includes(status) && location && redirects < 5) {
      await res.body.dump();
      url = new URL(location, url).toString();
      redirects++;
      attempt--;
      continue;
    }
    const limitedMs = options.rateLimitWaitMs?.(status, res.headers);
    if (limitedMs !== undefined) {
      await res.body.dump();
      if (attempt < retries && limitedMs <= RETRY_AFTER_MAX_MS) {
        options.onRetry?.({ attempt, status, delayMs: limitedMs });
        await wait(limitedMs, options.signal);
        continue;
      }
      throw new EngineError(
        'ENG_FEED_RATE_LIMITED',
        `${url}: HTTP ${status}: rate limited, next try possible in ${Math.ceil(limitedMs / 1000)} s`,
      );
    }
    if (status === 304) {
      await res.body.dump();
      return { status: 'not-modified' };
    }
    if ((options.retryStatuses ?? RETRY_STATUSES).has(status) && attempt < retries) {
      await res.body.dump();
      const delayMs = retryDelayMs(attempt, header(res.headers, 'retry-after'));
      options.onRetry?.({ attempt, status, delayMs });
      await wait(delayMs, options.signal);
      continue;
    }
    if (status < 200 || status >= 300) {
      const text = (await res.body.text().catch(() => '')).slice(0, 300);
      const code = status === 429 ? 'ENG_FEED_RATE_LIMITED' : 'ENG_FEED_HTTP';
      throw new EngineError(code, `${url}: HTTP ${status}${text ? `: ${text}` : ''}`);
    }
    options.onHeaders?.(res.headers);
    const declared = Number(header(res.headers, 'content-length') ?? NaN);
    if (declared > maxBytes) {
      await res.body.dump();
      throw new EngineError(
        'ENG_FEED_TOO_LARGE',
        `${options.url}: ${declared} bytes exceeds the ${maxBytes}-byte cap`,
      );
    }
    let bytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        if (bytes > maxBytes)
          cb(new EngineError('ENG_FEED_TOO_LARGE', `${options.url}: body exceeds the ${maxBytes}-byte cap`));
        else cb(null, chunk);
      },
    });
    try {
      await pipeline(res.body, counter, createWriteStream(part), { signal: options.signal });
    } catch (e) {
      await rm(part, { force: true });
      if (options.signal?.aborted)
        throw new EngineError('ENG_ABORTED', `download of ${options.url} aborted`, { cause: e });
      if (isEngineError(e)) throw e;
      if (attempt < retries) {
        const delayMs = retryDelayMs(attempt, undefined);
        options.onRetry?.({ attempt, code: errorCode(e), delayMs });
        await wait(delayMs, options.signal);
        continue;
      }
      throw new EngineError('ENG_FEED_HTTP', `${options.url}: body broke off: ${(e as Error).message}`, {
        cause: e,
      });
    }
    await rename(part, options.dest);
    const result: DownloadResult = { status: 'ok', path: options.dest, bytes };
    const etag = header(res.headers, 'etag');
    const lastModified = header(res.headers, 'last-modified');
    const contentType = header(res.headers, 'content-type');
    if (etag) result.etag = etag;
    if (lastModified) result.lastModified = lastModified;
    if (contentType) result.contentType = contentType;
    return result;
  }
}
