/**
 * The Red Hat feed (`redhat`): CSAF VEX documents, one per CVE, with every RHEL release's state
 * of every package (https://security.access.redhat.com/data/csaf/v2/vex/; mapping in csaf.ts).
 *
 * Online (as vunnel's rhel provider and Red Hat's guide describe):
 * - first run: `archive_latest.txt` names the full archive (`csaf_vex_<date>.tar.zst`, streamed
 *   through zstd and tar, never unpacked on disk); the documents changed or deleted since that
 *   day (from `changes.csv` / `deletions.csv`) are fetched on top → a full replacement;
 * - later runs: `changes.csv` and `deletions.csv` by conditional GET; the documents changed since
 *   the checkpoint are fetched one by one and the deleted ones withdrawn → a delta (deletions
 *   first, then upserts; a document changed after its deletion is fetched, not withdrawn). Past
 *   `maxDeltaDocuments` changes the archive is cheaper: a full run again.
 * The checkpoint holds the newest index time applied (`since`) and the indexes' validators.
 *
 * Offline: `detect` recognises a Red Hat CSAF VEX or security advisory document and a Security
 * Data API CVE document by content; the zstd archive by its magic plus a csaf/vex file name (a
 * zstd frame cannot be opened in part to look inside). `changes.csv`, `deletions.csv` and
 * `archive_latest.txt` are indexes, not data: not recognised (`deletions` bodies are only made by
 * `fetch`, which filters the index to the rows since its checkpoint).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { EngineError, isEngineError } from '../../errors.js';
import { download } from '../../net/download.js';
import type { Feed, FeedBody, FeedCheckpoint, FetchContext, FetchResult } from '../types.js';
import { redhatRecords } from './body.js';
import { idFromPath, parseArchiveLatest, parseIndexCsv, type IndexRow } from './changes.js';

/** Default base URL of the VEX directory. */
export const REDHAT_VEX_BASE = 'https://security.access.redhat.com/data/csaf/v2/vex/';

export interface RedhatFeedOptions {
  /** changed documents beyond which a full archive download is made instead (default 5,000) */
  maxDeltaDocuments?: number;
  /** parallel document downloads in a delta (default 4) */
  concurrency?: number;
}

const CSAF = /"category"\s*:\s*"csaf_(?:vex|security_advisory)"/;
const HYDRA = /"threat_severity"\s*:/;
const HYDRA_KEYS = /"(?:affected_release|package_state|bugzilla|public_date)"\s*:/;

/** Builds the Red Hat feed (the default instance is `redhatFeed`). */
export function createRedhatFeed(options: RedhatFeedOptions = {}): Feed {
  return {
    name: 'redhat',
    version: 1,
    description: 'Red Hat CSAF VEX (per-release fix states of RHEL packages)',
    // documents are independent: a broken one is skipped, the others still count
    onError: 'skip',
    detect: ({ name, head }) => {
      if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528)
        return /(?:csaf|vex)[^/]*\.tar\.zst$/i.test(name);
      const text = head.toString('utf8');
      if (!/^\uFEFF?\s*\{/.test(text)) return false;
      return (CSAF.test(text) && /Red Hat/.test(text)) || (HYDRA.test(text) && HYDRA_KEYS.test(text));
    },
    fetch: (ctx) => fetchRedhat(ctx, options),
    parse: (body, opts) => redhatRecords(body, opts?.signal),
  };
}

export const redhatFeed: Feed = createRedhatFeed();

const fileBody = (path: string): FeedBody => ({ name: path, open: async () => createReadStream(path) });
const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

async function fetchRedhat(ctx: FetchContext, options: RedhatFeedOptions): Promise<FetchResult> {
  const base = withSlash(ctx.baseUrl ?? REDHAT_VEX_BASE);
  const dir = join(ctx.workDir, 'redhat');
  const prev = ctx.checkpoint ?? {};
  const since = typeof prev.since === 'string' ? Date.parse(prev.since) : NaN;
  const get = (file: string, validators?: { etag?: string; lastModified?: string }) =>
    download({
      url: new URL(file, base).toString(),
      dest: join(dir, file),
      etag: validators?.etag,
      lastModified: validators?.lastModified,
      dispatcher: ctx.dispatcher,
      signal: ctx.signal,
    });

  if (!Number.isNaN(since)) {
    const changes = await get('changes.csv', {
      etag: str(prev.changesEtag),
      lastModified: str(prev.changesLastModified),
    });
    const deletions = await get('deletions.csv', {
      etag: str(prev.deletionsEtag),
      lastModified: str(prev.deletionsLastModified),
    });
    if (changes.status === 'not-modified' && deletions.status === 'not-modified')
      return { status: 'unchanged' };
    const checkpoint: FeedCheckpoint = {
      ...prev,
      ...validators('changes', changes),
      ...validators('deletions', deletions),
    };
    const plan = planDelta(
      changes.status === 'ok' ? await readRows(changes.path) : [],
      deletions.status === 'ok' ? await readRows(deletions.path) : [],
      since,
    );
    if (plan.fetch.length + plan.withdraw.length === 0) return { status: 'unchanged' };
    if (plan.fetch.length <= (options.maxDeltaDocuments ?? 5000)) {
      const bodies = await fetchDocuments(ctx, base, dir, plan, options.concurrency ?? 4);
      checkpoint.since = new Date(plan.newest).toISOString();
      return { status: 'updated', mode: 'delta', checkpoint, bodies };
    }
  }

  // full: the archive, then what changed since the day it was cut
  const latest = await get('archive_latest.txt');
  if (latest.status !== 'ok')
    throw new EngineError('ENG_FEED_HTTP', `${base}archive_latest.txt: unexpected 304`);
  const named = parseArchiveLatest(await readFile(latest.path, 'utf8'));
  if (!named) throw new EngineError('ENG_FEED_FORMAT', `${base}archive_latest.txt: no archive file name`);
  const archive = await get(named.file);
  if (archive.status !== 'ok') throw new EngineError('ENG_FEED_HTTP', `${base}${named.file}: unexpected 304`);
  const changes = await get('changes.csv');
  const deletions = await get('deletions.csv');
  if (changes.status !== 'ok' || deletions.status !== 'ok')
    throw new EngineError('ENG_FEED_HTTP', `${base}: unexpected 304 for an index`);
  // documents changed on the archive's day may or may not be in it: fetch them again
  const from = named.day ?? 0;
  const plan = planDelta(await readRows(changes.path), await readRows(deletions.path), from - 1);
  const bodies = [
    fileBody(archive.path),
    ...(await fetchDocuments(ctx, base, dir, plan, options.concurrency ?? 4)),
  ];
  return {
    status: 'updated',
    mode: 'full',
    checkpoint: {
      archive: named.file,
      since: new Date(Math.max(plan.newest, from)).toISOString(),
      ...validators('changes', changes),
      ...validators('deletions', deletions),
    },
    bodies,
  };
}

interface Plan {
  fetch: string[];
  withdraw: IndexRow[];
  /** newest index time seen past `since` (or `since`) */
  newest: number;
}

/** What changed after `since`: each path's latest event decides (a change wins over an older deletion). */
export function planDelta(changes: IndexRow[], deletions: IndexRow[], since: number): Plan {
  const latest = new Map<string, { time: number; deleted: boolean }>();
  let newest = since;
  for (const [rows, deleted] of [
    [changes, false],
    [deletions, true],
  ] as const) {
    for (const r of rows) {
      if (r.time <= since) continue;
      newest = Math.max(newest, r.time);
      const cur = latest.get(r.path);
      if (!cur || r.time > cur.time || (r.time === cur.time && deleted))
        latest.set(r.path, { time: r.time, deleted });
    }
  }
  const plan: Plan = { fetch: [], withdraw: [], newest };
  for (const [path, e] of latest) {
    if (e.deleted) plan.withdraw.push({ path, time: e.time });
    else plan.fetch.push(path);
  }
  return plan;
}

/** Downloads the planned documents; a document gone meanwhile (404) is withdrawn instead. */
async function fetchDocuments(
  ctx: FetchContext,
  base: string,
  dir: string,
  plan: Plan,
  concurrency: number,
): Promise<FeedBody[]> {
  const got: (FeedBody | undefined)[] = new Array(plan.fetch.length);
  const gone: IndexRow[] = [];
  let next = 0;
  let done = 0;
  ctx.onProgress?.(0, plan.fetch.length);
  const worker = async () => {
    while (next < plan.fetch.length) {
      const i = next++;
      const path = plan.fetch[i]!;
      try {
        const res = await download({
          url: new URL(path, base).toString(),
          dest: join(dir, 'documents', path),
          dispatcher: ctx.dispatcher,
          signal: ctx.signal,
        });
        if (res.status === 'ok') got[i] = fileBody(res.path);
      } catch (e) {
        if (!(isEngineError(e) && e.code === 'ENG_FEED_HTTP' && / HTTP 404\b/.test(e.message))) throw e;
        gone.push({ path, time: 0 });
      }
      ctx.onProgress?.(++done, plan.fetch.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, plan.fetch.length)) }, worker));
  const withdraw = [...plan.withdraw, ...gone].filter((r) => idFromPath(r.path));
  const bodies: FeedBody[] = [];
  if (withdraw.length) {
    // the rows to withdraw, in the index's own format (a `deletions` body, see body.ts)
    const path = join(dir, `deletions-since-${plan.newest}.csv`);
    await writeFile(path, withdraw.map((r) => `"${r.path}","${new Date(r.time).toISOString()}"\n`).join(''));
    bodies.push(fileBody(path));
  }
  for (const b of got) if (b) bodies.push(b);
  return bodies;
}

async function readRows(path: string): Promise<IndexRow[]> {
  return parseIndexCsv(await readFile(path, 'utf8')).rows;
}

function validators(prefix: string, res: Awaited<ReturnType<typeof download>>): FeedCheckpoint {
  if (res.status !== 'ok') return {};
  const out: FeedCheckpoint = {
    [`${prefix}Etag`]: res.etag ?? null,
    [`${prefix}LastModified`]: res.lastModified ?? null,
  };
  return out;
}

const withSlash = (u: string) => (u.endsWith('/') ? u : `${u}/`);
