/**
 * Fetching the control plane's snapshot over HTTP (`GET /api/v1/db/snapshot`, `/db/snapshots/{version}`) with
 * the worker token. `fetchCurrentSnapshot` asks with `If-None-Match` naming the versions the worker has, so an
 * unchanged database costs one 304. A download goes to `<dir>/.<version>.part`, hashed as it is written, and is
 * accepted only when its size and SHA-256 are the ones the control plane announced (`Content-Length`,
 * `X-Vigil-Db-Sha256`); then it is renamed to `<dir>/<version>.db`. A connection cut short keeps its part and
 * resumes with `Range` + `If-Range`; a body that does not verify is discarded. Both are retried with
 * exponential backoff, pinned to the version first announced.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkerError, isWorkerError } from '../errors.js';

export interface DownloadOptions {
  /** the control plane's HTTP base URL (`http://control-plane:8080`) */
  url: string;
  /** the worker token */
  token: string;
  /** where snapshots are kept */
  dir: string;
  signal?: AbortSignal;
  /** attempts per download (default 6) */
  attempts?: number;
  /** wait before attempt n+1 (default 500 ms × 2^(n-1), at most 30 s) */
  backoffMs?: (attempt: number) => number;
  /** each retry, for logs */
  onRetry?: (info: { version: string | null; attempt: number; code: string; message: string }) => void;
}

/** A verified snapshot file in `dir`. */
export interface FetchedSnapshot {
  version: string;
  path: string;
}

const defaultBackoff = (attempt: number) => Math.min(500 * 2 ** (attempt - 1), 30_000);
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const unavailable = (message: string, cause?: unknown) =>
  new WorkerError('WRK_SNAPSHOT_UNAVAILABLE', message, cause === undefined ? undefined : { cause });
const invalid = (message: string) => new WorkerError('WRK_SNAPSHOT_INVALID', message);

/** `"v"` or `W/"v"` → `v`. */
const versionOfEtag = (etag: string | null): string | null => {
  const v =
    etag
      ?.trim()
      .replace(/^W\//, '')
      .replace(/^"(.*)"$/, '$1') ?? null;
  return v !== null && VERSION.test(v) && !v.includes('..') ? v : null;
};

/**
 * The current snapshot, downloaded and verified; null when it is one of `have` (the control plane answered 304)
 * together with its version. @throws WRK_SNAPSHOT_UNAVAILABLE, WRK_SNAPSHOT_INVALID after the last attempt
 */
export async function fetchCurrentSnapshot(
  options: DownloadOptions,
  have: readonly string[],
): Promise<{ unchanged: string } | FetchedSnapshot> {
  return withRetries(
    options,
    () => null,
    async (version) => {
      if (version !== null) return download(options, version);
      const res = await get(options, '/api/v1/db/snapshot', {
        ...(have.length ? { 'if-none-match': have.map((v) => `"${v}"`).join(', ') } : {}),
      });
      const announced = versionOfEtag(res.headers.get('etag'));
      if (!announced) {
        await res.body?.cancel();
        throw unavailable(`the control plane answered ${res.status} without a snapshot version (ETag)`);
      }
      if (res.status === 304) return { unchanged: announced };
      return receive(options, res, announced, 0);
    },
  );
}

/** One published version, downloaded and verified. @throws WRK_SNAPSHOT_UNAVAILABLE, WRK_SNAPSHOT_INVALID */
export function fetchSnapshot(options: DownloadOptions, version: string): Promise<FetchedSnapshot> {
  if (!VERSION.test(version))
    return Promise.reject(invalid(`${JSON.stringify(version)} is not a snapshot version`));
  return withRetries(
    options,
    () => version,
    () => download(options, version),
  );
}

/** Runs `attempt` until it succeeds, retrying failures with backoff; the version once known pins later attempts. */
async function withRetries<T>(
  options: DownloadOptions,
  initial: () => string | null,
  attempt: (version: string | null) => Promise<T>,
): Promise<T> {
  const attempts = options.attempts ?? 6;
  let version = initial();
  for (let n = 1; ; n++) {
    try {
      return await attempt(version);
    } catch (e) {
      if (options.signal?.aborted) throw e;
      const error = isWorkerError(e)
        ? e
        : unavailable(`snapshot download failed: ${(e as Error).message}`, e);
      version = (e as { version?: string }).version ?? version;
      if (n >= attempts) throw error;
      options.onRetry?.({ version, attempt: n, code: error.code, message: error.message });
      await sleep((options.backoffMs ?? defaultBackoff)(n), undefined, { signal: options.signal });
    }
  }
}

/** A GET with the worker token. @throws WRK_SNAPSHOT_UNAVAILABLE on a refused connection or an error status */
async function get(
  options: DownloadOptions,
  path: string,
  headers: Record<string, string>,
): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(new URL(path, options.url), {
      headers: { authorization: `Bearer ${options.token}`, ...headers },
      signal: options.signal,
    });
  } catch (e) {
    throw unavailable(`cannot reach ${options.url}: ${(e as Error).message}`, e);
  }
  if (res.status >= 400) {
    const text = await res.text().catch(() => '');
    throw unavailable(`${path} answered ${res.status}: ${text.slice(0, 300)}`);
  }
  return res;
}

const partOf = (dir: string, version: string) => join(dir, `.${version}.part`);

/** Downloads `version`, resuming a part left by a cut-short attempt. */
async function download(options: DownloadOptions, version: string): Promise<FetchedSnapshot> {
  const part = partOf(options.dir, version);
  const have = (await stat(part).catch(() => null))?.size ?? 0;
  const res = await get(options, `/api/v1/db/snapshots/${encodeURIComponent(version)}`, {
    ...(have > 0 ? { range: `bytes=${have}-`, 'if-range': `"${version}"` } : {}),
  });
  return receive(options, res, version, res.status === 206 ? have : 0);
}

/** Writes the body after `offset` bytes already in the part, then verifies the whole file. */
async function receive(
  options: DownloadOptions,
  res: Response,
  version: string,
  offset: number,
): Promise<FetchedSnapshot> {
  const pinned = <E extends Error>(e: E): E => Object.assign(e, { version });
  const sha256 = res.headers.get('x-vigil-db-sha256');
  const total = totalSize(res, offset);
  if (!sha256 || !/^[0-9a-f]{64}$/.test(sha256) || total === null || !res.body) {
    await res.body?.cancel();
    throw pinned(invalid(`the answer for snapshot ${version} lacks its SHA-256 or size`));
  }
  await mkdir(options.dir, { recursive: true });
  const part = partOf(options.dir, version);
  if (offset === 0) await rm(part, { force: true });
  const hash = createHash('sha256');
  if (offset > 0) await hashFile(part, hash);
  let size = offset;
  // written chunk by chunk and awaited: what arrived before a break is on disk for the resume
  const file = await open(part, offset > 0 ? 'a' : 'w');
  try {
    for await (const chunk of Readable.fromWeb(
      res.body as WebReadableStream<Uint8Array>,
    ) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
      await file.write(chunk);
    }
  } catch (e) {
    // cut short: the part stays, the next attempt resumes after it
    throw pinned(unavailable(`snapshot ${version} download broke off at ${size} of ${total} bytes`, e));
  } finally {
    await file.close();
  }
  if (size < total)
    throw pinned(unavailable(`snapshot ${version} download ended at ${size} of ${total} bytes`));
  const digest = hash.digest('hex');
  if (size !== total || digest !== sha256) {
    await rm(part, { force: true });
    throw pinned(
      invalid(
        `snapshot ${version}: ${size} bytes with SHA-256 ${digest}, announced ${total} bytes with ${sha256}`,
      ),
    );
  }
  const path = join(options.dir, `${version}.db`);
  await rename(part, path);
  return { version, path };
}

/** The whole file's size from `Content-Range` (206) or `Content-Length` (200). */
function totalSize(res: Response, offset: number): number | null {
  const range = res.headers.get('content-range');
  if (res.status === 206) {
    const m = /^bytes (\d+)-\d+\/(\d+)$/.exec(range ?? '');
    return m && Number(m[1]) === offset ? Number(m[2]) : null;
  }
  const length = res.headers.get('content-length');
  return length !== null && /^\d+$/.test(length) ? Number(length) : null;
}

async function hashFile(path: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) hash.update(chunk);
}
