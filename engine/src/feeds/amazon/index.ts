/**
 * The Amazon Linux feed (`amzn`): the security advisories (ALAS) of Amazon Linux 2 and 2023 from
 * each release's yum repository `updateinfo.xml` (mapping in updateinfo.ts).
 *
 * Online, per release (default 2 and 2023): the CDN mirror list names the repository, its
 * `repodata/repomd.xml` names the updateinfo file (`<data type="updateinfo"><location href>`),
 * which is fetched conditionally; when any release's file changed every file is handed over for
 * a full replacement (updateinfo has no deltas). Offline: `detect` recognises updateinfo XML
 * (plain or gzipped) with ALAS ids and vuln-list's JSON form of one ALAS. The ALAS web pages
 * (HTML), the RSS feeds and repomd.xml are not data and are not recognised.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { EngineError, isEngineError, throwIfAborted } from '../../errors.js';
import { download } from '../../net/download.js';
import { fetchFiles, type FileSpec } from '../alpine/fetch-files.js';
import { maybeGunzip } from '../json-stream.js';
import type { Feed, FeedBody, FeedRecord, FetchContext, FetchResult } from '../types.js';
import { updateFromJson, updateFromXml, updateRecords } from './updateinfo.js';

/** Default base URL of the Amazon Linux CDN. */
export const AMAZON_CDN_BASE = 'https://cdn.amazonlinux.com/';

/** Mirror lists per release, relative to the CDN base. */
export const AMAZON_MIRROR_LISTS: Readonly<Record<string, string>> = {
  '2': '2/core/latest/x86_64/mirror.list',
  '2023': 'al2023/core/mirrors/latest/x86_64/mirror.list',
};

export interface AmazonFeedOptions {
  /** releases to fetch, keys of AMAZON_MIRROR_LISTS (default all) */
  releases?: readonly string[];
}

/** Largest single `<update>` element (a kernel advisory lists a few hundred packages). */
const MAX_UPDATE_CHARS = 16 * 1024 ** 2;

/** Builds the Amazon Linux feed (the default instance is `amazonFeed`). */
export function createAmazonFeed(options: AmazonFeedOptions = {}): Feed {
  return {
    name: 'amzn',
    version: 1,
    description: 'Amazon Linux security advisories (ALAS) from the repositories’ updateinfo',
    onError: 'fail',
    detect: ({ head }) => {
      const text = head.toString('utf8');
      if (/^\uFEFF?\s*\{/.test(text))
        return /"id"\s*:\s*"ALAS[0-9A-Z.-]*-\d{4}-\d+"/.test(text) && /"packages"\s*:/.test(text);
      return /<updates[\s>]/.test(text) && /<update[\s>]/.test(text) && /<id>\s*ALAS/.test(text);
    },
    fetch: (ctx) => fetchAmazon(ctx, options),
    parse: (body, opts) => parseAmazon(body, opts?.signal),
  };
}

export const amazonFeed: Feed = createAmazonFeed();

async function fetchAmazon(ctx: FetchContext, options: AmazonFeedOptions): Promise<FetchResult> {
  const base = withSlash(ctx.baseUrl ?? AMAZON_CDN_BASE);
  const releases = options.releases ?? Object.keys(AMAZON_MIRROR_LISTS);
  const files: FileSpec[] = [];
  for (const release of releases) {
    const list = AMAZON_MIRROR_LISTS[release];
    if (!list) throw new EngineError('ENG_INVALID_ARGUMENT', `amzn: unknown release ${release}`);
    const dir = join(ctx.workDir, 'amzn', release);
    const mirrors = await fetchText(ctx, new URL(list, base).toString(), join(dir, 'mirror.list'));
    const mirror = mirrors
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find((l) => /^https?:\/\//.test(l));
    if (!mirror) throw new EngineError('ENG_FEED_FORMAT', `${list}: no mirror listed`);
    const repomdUrl = new URL('repodata/repomd.xml', withSlash(mirror)).toString();
    const href = updateinfoHref(await fetchText(ctx, repomdUrl, join(dir, 'repomd.xml')));
    if (!href) throw new EngineError('ENG_FEED_FORMAT', `${repomdUrl}: no updateinfo listed`);
    files.push({
      key: `${release}/updateinfo`,
      url: new URL(href, withSlash(mirror)).toString(),
      dest: join(dir, href.endsWith('.gz') ? 'updateinfo.xml.gz' : 'updateinfo.xml'),
    });
  }
  const got = await fetchFiles(ctx, files);
  if (!got.changed) return { status: 'unchanged' };
  return { status: 'updated', mode: 'full', checkpoint: got.checkpoint, bodies: got.bodies };
}

/** The updateinfo location of a repomd.xml (https://github.com/rpm-software-management/createrepo_c, repomd). */
export function updateinfoHref(repomd: string): string | undefined {
  for (const m of repomd.matchAll(/<data\b[^>]*\btype\s*=\s*["']updateinfo["'][^>]*>([\s\S]*?)<\/data>/g)) {
    const href = /<location\b[^>]*\bhref\s*=\s*["']([^"']+)["']/.exec(m[1]!)?.[1];
    if (href && !href.includes('..')) return href;
  }
  return undefined;
}

async function fetchText(ctx: FetchContext, url: string, dest: string): Promise<string> {
  const res = await download({ url, dest, dispatcher: ctx.dispatcher, signal: ctx.signal });
  if (res.status !== 'ok') throw new EngineError('ENG_FEED_HTTP', `${url}: unexpected 304`);
  return readFile(res.path, 'utf8');
}

async function* parseAmazon(body: FeedBody, signal?: AbortSignal): AsyncGenerator<FeedRecord> {
  const stream = await maybeGunzip(await body.open(signal));
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let kind: 'json' | 'xml' | undefined;
  let rooted = false;
  try {
    for await (const chunk of stream) {
      throwIfAborted(signal);
      pending += decoder.write(chunk as Buffer);
      if (kind === undefined) {
        const first = /\S/.exec(pending.replace(/^\uFEFF/, ''))?.[0];
        if (first === undefined) continue;
        kind = first === '{' ? 'json' : first === '<' ? 'xml' : undefined;
        if (!kind) throw notAmazon(body.name);
      }
      if (kind === 'json') {
        if (pending.length > MAX_UPDATE_CHARS) throw notAmazon(body.name);
        continue;
      }
      for (;;) {
        const start = pending.search(/<update[\s>/]/);
        if (start === -1) {
          rooted ||= /<updates[\s>]/.test(pending);
          if (pending.length > MAX_UPDATE_CHARS) throw notAmazon(body.name);
          // keep a tail that may hold the start of the next tag
          if (pending.length > 64) pending = pending.slice(-64);
          break;
        }
        rooted ||= /<updates[\s>]/.test(pending.slice(0, start));
        if (!rooted) throw notAmazon(body.name);
        const end = pending.indexOf('</update>', start);
        if (end === -1) {
          if (pending.length - start > MAX_UPDATE_CHARS)
            throw new EngineError(
              'ENG_FEED_FORMAT',
              `${body.name}: an <update> larger than ${MAX_UPDATE_CHARS} characters`,
            );
          pending = pending.slice(start);
          break;
        }
        const block = pending.slice(start, end);
        pending = pending.slice(end + '</update>'.length);
        const update = updateFromXml(block);
        if (update) yield* updateRecords(update, body.name);
        else yield { type: 'malformed', message: '<update> without an id', ref: body.name };
      }
    }
    pending += decoder.end();
  } catch (e) {
    if (isEngineError(e)) throw e;
    if (signal?.aborted) throw new EngineError('ENG_ABORTED', `${body.name}: parse aborted`, { cause: e });
    throw new EngineError('ENG_FEED_FORMAT', `${body.name}: ${(e as Error).message}`, { cause: e });
  } finally {
    stream.destroy();
  }
  if (kind === 'json') {
    let doc: unknown;
    try {
      doc = JSON.parse(pending);
    } catch (e) {
      throw new EngineError('ENG_FEED_FORMAT', `${body.name}: invalid JSON: ${(e as Error).message}`);
    }
    const update = updateFromJson(doc);
    if (!update) throw notAmazon(body.name);
    yield* updateRecords(update, body.name);
    return;
  }
  if (!rooted || /<update[\s>/]/.test(pending) || !/<\/updates\s*>/.test(pending))
    throw new EngineError('ENG_FEED_FORMAT', `${body.name}: not a complete updateinfo document`);
}

function notAmazon(name: string): EngineError {
  return new EngineError('ENG_FEED_FORMAT', `${name}: not Amazon Linux updateinfo or an ALAS document`);
}

const withSlash = (u: string) => (u.endsWith('/') ? u : `${u}/`);
