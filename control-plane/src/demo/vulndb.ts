/**
 * The all-in-one server's vulnerability database: `VIGIL_DB` when given; otherwise a snapshot built once into
 * `<data dir>/db/vigil.db` (later starts reuse it) with the engine's offline build (`vigil db build`), from
 * `VIGIL_FEEDS_DIR`, else `../shared/realdata/feeds` when that exists beside the checkout, else the demo feeds
 * of this folder. The demo feeds (feeds/) are written for the demo images, not copied from upstream: an Alpine
 * secdb of fixes in 3.11 (musl, busybox, openssl, zlib, apk-tools), an NVD CVE API 2.0 page with the CVSS v3.1
 * vectors of those CVEs, and OSV records of npm `semver`, npm `minimist` and PyPI `requests` advisories.
 */
import { mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSnapshot, readSnapshotMeta } from '@vigil/engine/db';
import { ControlPlaneError } from '../errors.js';

/** The demo feeds; relative to the package root, so the same from src/demo and dist/demo. */
export const DEMO_FEEDS_DIR = fileURLToPath(new URL('../../src/demo/feeds/', import.meta.url));
/** Real feed fixtures beside a checkout (relative to the working directory). */
export const REALDATA_FEEDS_DIR = '../shared/realdata/feeds';

export interface VulnDbChoice {
  path: string;
  version: string;
  /** `configured`: VIGIL_DB; `existing`: built on an earlier start; `built`: built now from `from` */
  origin: 'configured' | 'existing' | 'built';
  from?: string;
}

/** Finds or builds the database (see the module comment). CP_INVALID_ARGUMENT for a missing VIGIL_DB file. */
export async function ensureVulnDb(
  options: { dbPath: string | null; feedsDir: string | null; dataDir: string },
  cwd = process.cwd(),
): Promise<VulnDbChoice> {
  if (options.dbPath !== null) {
    if (!(await isFile(options.dbPath))) {
      throw new ControlPlaneError('CP_INVALID_ARGUMENT', `VIGIL_DB ${options.dbPath} is not a file`);
    }
    return { path: options.dbPath, version: readSnapshotMeta(options.dbPath).version, origin: 'configured' };
  }
  const path = join(options.dataDir, 'db', 'vigil.db');
  if (await isFile(path)) return { path, version: readSnapshotMeta(path).version, origin: 'existing' };
  const realdata = resolve(cwd, REALDATA_FEEDS_DIR);
  const from = options.feedsDir ?? ((await isDirectory(realdata)) ? realdata : DEMO_FEEDS_DIR);
  await mkdir(join(options.dataDir, 'db'), { recursive: true });
  const result = await buildSnapshot({ from, out: path });
  return { path, version: result.meta.version, origin: 'built', from };
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() ?? false;
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}
