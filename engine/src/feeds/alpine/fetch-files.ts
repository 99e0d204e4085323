/**
 * Conditional download of a fixed set of feed files (the distro feeds publish whole documents,
 * no deltas): each file is fetched with the ETag / Last-Modified of the previous run and archived
 * in the work directory. The set is unchanged when every file answered 304 or came back with the
 * same bytes (sha256) as before; otherwise the caller gets every file again (the archived copy of
 * an unchanged one) for a full replacement of its source.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { isEngineError } from '../../errors.js';
import { download } from '../../net/download.js';
import type { FeedBody, FeedCheckpoint, FetchContext } from '../types.js';

export interface FileSpec {
  /** stable key in the checkpoint, e.g. `v3.19/main.json` */
  key: string;
  url: string;
  /** where the raw bytes are archived */
  dest: string;
  /** a 404 means "not published" (skipped) instead of an error */
  optional?: boolean;
}

export interface FetchedFiles {
  changed: boolean;
  checkpoint: FeedCheckpoint;
  /** the files present upstream, in the order given */
  bodies: FeedBody[];
}

/** sha256 (hex) of a file's bytes. */
export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash, { signal });
  return hash.digest('hex');
}

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Downloads `files` conditionally against `ctx.checkpoint`. Throws the download's coded
 * ENG_FEED_* errors (a 404 of an optional file excepted).
 */
export async function fetchFiles(ctx: FetchContext, files: readonly FileSpec[]): Promise<FetchedFiles> {
  const prev = ctx.checkpoint ?? {};
  const checkpoint: FeedCheckpoint = {};
  const bodies: FeedBody[] = [];
  let changed = false;
  let done = 0;
  ctx.onProgress?.(0, files.length);
  for (const f of files) {
    const sha = str(prev[`${f.key}#sha256`]);
    // a 304 is only usable when the archived copy is still there
    const haveCopy =
      sha !== undefined &&
      (await access(f.dest).then(
        () => true,
        () => false,
      ));
    let res;
    try {
      res = await download({
        url: f.url,
        dest: f.dest,
        etag: haveCopy ? str(prev[`${f.key}#etag`]) : undefined,
        lastModified: haveCopy ? str(prev[`${f.key}#lastModified`]) : undefined,
        dispatcher: ctx.dispatcher,
        signal: ctx.signal,
      });
    } catch (e) {
      if (f.optional && isEngineError(e) && e.code === 'ENG_FEED_HTTP' && / HTTP 404\b/.test(e.message)) {
        if (sha !== undefined) changed = true; // it was there last time
        ctx.onProgress?.(++done, files.length);
        continue;
      }
      throw e;
    }
    let digest: string;
    if (res.status === 'not-modified') {
      digest = sha!;
      copy(prev, checkpoint, f.key);
    } else {
      digest = await sha256File(res.path, ctx.signal);
      if (digest !== sha) changed = true;
      if (res.etag) checkpoint[`${f.key}#etag`] = res.etag;
      if (res.lastModified) checkpoint[`${f.key}#lastModified`] = res.lastModified;
    }
    checkpoint[`${f.key}#sha256`] = digest;
    const path = f.dest;
    bodies.push({ name: path, open: async () => createReadStream(path) });
    ctx.onProgress?.(++done, files.length);
  }
  // a file that disappeared from the set is a change too
  for (const k of Object.keys(prev)) if (k.endsWith('#sha256') && !(k in checkpoint)) changed = true;
  return { changed, checkpoint, bodies };
}

function copy(from: FeedCheckpoint, to: FeedCheckpoint, key: string): void {
  for (const field of ['etag', 'lastModified']) {
    const v = from[`${key}#${field}`];
    if (v !== undefined) to[`${key}#${field}`] = v;
  }
}
