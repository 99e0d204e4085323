/**
 * Online fetch of the OSV exports: `<base>/<Ecosystem>/all.zip` per ecosystem from the public
 * bucket (https://google.github.io/osv.dev/data/#data-dumps), default base
 * https://osv-vulnerabilities.storage.googleapis.com. Each zip is a conditional GET on the ETag /
 * Last-Modified kept in the checkpoint (`<Ecosystem>.etag`, `<Ecosystem>.lastModified`); the zips
 * are archived in `<workDir>/<feed>/`. When every zip answers 304 the feed is `unchanged`;
 * otherwise the result is `full` and lists every ecosystem's zip (the unchanged ones from the
 * archive), since a full body set replaces the source. A zip missing from the archive is
 * downloaded without conditions.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { download } from '../../net/download.js';
import type { FeedCheckpoint, FetchContext, FetchResult } from '../types.js';
import { fileBody } from './body.js';

export const DEFAULT_OSV_BASE_URL = 'https://osv-vulnerabilities.storage.googleapis.com';

export interface OsvExportOptions {
  /** feed name: the archive sub-directory */
  feed: string;
  /** bucket folder names (`npm`, `PyPI`, `crates.io`, `Rocky Linux`, …) */
  ecosystems: readonly string[];
}

const fileName = (ecosystem: string) => `${ecosystem.replace(/[^A-Za-z0-9.-]+/g, '_')}-all.zip`;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** Downloads what changed. Throws the ENG_FEED_* errors of net/download.ts. */
export async function fetchOsvExports(ctx: FetchContext, options: OsvExportOptions): Promise<FetchResult> {
  const base = (ctx.baseUrl ?? DEFAULT_OSV_BASE_URL).replace(/\/+$/, '');
  const dir = join(ctx.workDir, options.feed);
  const previous = ctx.checkpoint ?? {};
  const checkpoint: FeedCheckpoint = {};
  const bodies = [];
  let changed = false;
  let done = 0;
  ctx.onProgress?.(0, options.ecosystems.length);
  for (const ecosystem of options.ecosystems) {
    const url = `${base}/${encodeURIComponent(ecosystem)}/all.zip`;
    const dest = join(dir, fileName(ecosystem));
    const archived = await exists(dest);
    const etag = archived ? previous[`${ecosystem}.etag`] : undefined;
    const lastModified = archived ? previous[`${ecosystem}.lastModified`] : undefined;
    const result = await download({
      url,
      dest,
      etag: typeof etag === 'string' ? etag : undefined,
      lastModified: typeof lastModified === 'string' ? lastModified : undefined,
      dispatcher: ctx.dispatcher,
      signal: ctx.signal,
    });
    if (result.status === 'ok') {
      changed = true;
      if (result.etag) checkpoint[`${ecosystem}.etag`] = result.etag;
      if (result.lastModified) checkpoint[`${ecosystem}.lastModified`] = result.lastModified;
    } else {
      for (const key of [`${ecosystem}.etag`, `${ecosystem}.lastModified`])
        if (previous[key] !== undefined) checkpoint[key] = previous[key]!;
    }
    bodies.push(fileBody(dest, url));
    ctx.onProgress?.(++done, options.ecosystems.length);
  }
  if (!changed) return { status: 'unchanged' };
  return { status: 'updated', checkpoint, mode: 'full', bodies };
}
