/**
 * The fleet's vulnerability database for a CLI scan with `--server` (and no `--db`): the control plane's current
 * snapshot (`GET /api/v1/db/snapshot`), downloaded once and kept under `<cache dir>/fleet-db/<version>.db` with its
 * SHA-256 beside it (`<version>.sha256`). Each run asks with `If-None-Match` naming the cached versions, so an
 * unchanged database costs one 304; the cached file is hashed before use and must match the SHA-256 the server
 * announces (`X-Vigil-Db-Sha256`), else it is deleted and downloaded again. A download is written to a part file,
 * hashed as it arrives, and kept only when its size and SHA-256 are the announced ones (the approach of
 * worker/src/snapshot/download.ts, without its resume: a CLI run starts over).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { answerError, send, type FleetTarget } from './client.js';
import { FleetError } from './errors.js';

export interface FleetDb {
  version: string;
  path: string;
  /** how this run got it */
  origin: 'downloaded' | 'cached';
  /** a cached file that failed its hash check and was downloaded again */
  rejectedCache: boolean;
}

const VERSION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const SHA256 = /^[0-9a-f]{64}$/;
/** a download may take long (a large database over a slow link); only a stalled start is cut short here */
const DOWNLOAD_TIMEOUT_MS = 30 * 60_000;

const versionOfEtag = (etag: string | null): string | null => {
  const v =
    etag
      ?.trim()
      .replace(/^W\//, '')
      .replace(/^"(.*)"$/, '$1') ?? null;
  return v !== null && VERSION.test(v) && !v.includes('..') ? v : null;
};

/** The directory of the fleet's snapshots under the CLI cache dir. */
export const fleetDbDir = (cacheDir: string): string => join(cacheDir, 'fleet-db');

/**
 * The fleet's current snapshot as a verified local file.
 * @throws CLI_SNAPSHOT_INVALID (a download that does not verify, twice), CLI_SERVER_* for refusals and failures
 */
export async function fleetDb(target: FleetTarget, cacheDir: string): Promise<FleetDb> {
  const dir = fleetDbDir(cacheDir);
  const cached = await cachedVersions(dir);
  let rejectedCache = false;
  for (let attempt = 1; ; attempt++) {
    const have = rejectedCache ? [] : cached;
    const res = await send(target, 'GET', '/db/snapshot', {
      headers: {
        accept: 'application/vnd.sqlite3',
        ...(have.length ? { 'if-none-match': have.map((v) => `"${v}"`).join(', ') } : {}),
      },
      timeoutMs: DOWNLOAD_TIMEOUT_MS,
    });
    if (res.status >= 400) {
      const body: unknown = await res.json().catch(() => undefined);
      throw answerError(target, 'GET', '/db/snapshot', res.status, body);
    }
    const version = versionOfEtag(res.headers.get('etag'));
    const sha256 = res.headers.get('x-vigil-db-sha256') ?? '';
    if (!version || !SHA256.test(sha256)) {
      await res.body?.cancel();
      throw new FleetError(
        'CLI_SERVER_ERROR',
        `GET ${target.server}/api/v1/db/snapshot answered ${res.status} without a snapshot version and SHA-256 (is --server a Vigil control plane?)`,
      );
    }
    if (res.status === 304) {
      const path = join(dir, `${version}.db`);
      if ((await sha256Of(path)) === sha256) return { version, path, origin: 'cached', rejectedCache };
      // altered or truncated since it was downloaded: never match with it
      await removeVersion(dir, version);
      rejectedCache = true;
      continue;
    }
    try {
      const path = await receive(target, res, dir, version, sha256);
      await writeFile(join(dir, `${version}.sha256`), `${sha256}\n`);
      for (const old of cached) if (old !== version) await removeVersion(dir, old);
      return { version, path, origin: 'downloaded', rejectedCache };
    } catch (e) {
      if (!(e instanceof FleetError) || e.code !== 'CLI_SNAPSHOT_INVALID' || attempt >= 2) throw e;
    }
  }
}

/** Cached versions: `<version>.db` files with their `<version>.sha256`. */
async function cachedVersions(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: string[] = [];
  for (const name of names) {
    const version = name.endsWith('.db') ? name.slice(0, -3) : null;
    if (version && VERSION.test(version) && names.includes(`${version}.sha256`)) {
      const recorded = (await readFile(join(dir, `${version}.sha256`), 'utf8').catch(() => '')).trim();
      if (SHA256.test(recorded)) out.push(version);
    }
  }
  return out;
}

async function removeVersion(dir: string, version: string): Promise<void> {
  await rm(join(dir, `${version}.db`), { force: true });
  await rm(join(dir, `${version}.sha256`), { force: true });
}

/** Writes the body to a part file while hashing it; renames it to `<version>.db` once it verifies. */
async function receive(
  target: FleetTarget,
  res: Response,
  dir: string,
  version: string,
  sha256: string,
): Promise<string> {
  const length = res.headers.get('content-length');
  const total = length !== null && /^\d+$/.test(length) ? Number(length) : null;
  if (res.status !== 200 || total === null || !res.body) {
    await res.body?.cancel();
    throw new FleetError(
      'CLI_SERVER_ERROR',
      `GET ${target.server}/api/v1/db/snapshot answered ${res.status} without the whole file and its length`,
    );
  }
  await mkdir(dir, { recursive: true });
  const part = join(dir, `.${version}.${process.pid}.part`);
  const hash = createHash('sha256');
  let size = 0;
  const file = await open(part, 'w');
  try {
    for await (const chunk of Readable.fromWeb(
      res.body as WebReadableStream<Uint8Array>,
    ) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
      await file.write(chunk);
    }
  } catch (e) {
    await file.close();
    await rm(part, { force: true });
    throw new FleetError(
      'CLI_SERVER_UNREACHABLE',
      `the snapshot ${version} download from ${target.server} broke off at ${size} of ${total} bytes`,
      { cause: e },
    );
  }
  await file.close();
  const digest = hash.digest('hex');
  if (size !== total || digest !== sha256) {
    await rm(part, { force: true });
    throw new FleetError(
      'CLI_SNAPSHOT_INVALID',
      `the snapshot ${version} downloaded from ${target.server} does not verify: ${size} bytes with SHA-256 ${digest}, announced ${total} bytes with ${sha256}; it was discarded`,
    );
  }
  const path = join(dir, `${version}.db`);
  await rename(part, path);
  return path;
}

/** SHA-256 of a file in hex; null when it cannot be read. */
async function sha256Of(path: string): Promise<string | null> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) hash.update(chunk);
  } catch {
    return null;
  }
  return hash.digest('hex');
}
