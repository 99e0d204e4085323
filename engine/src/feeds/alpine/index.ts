/**
 * The Alpine secdb feed (`alpine`): per release and repository, the CVEs fixed in each origin
 * package, https://secdb.alpinelinux.org/v3.19/main.json and community.json (mapping in
 * secdb.ts). Namespace `alpine:<major.minor>` from the document's `distroversion`.
 *
 * Online: the releases come from the secdb index page (or a configured list), then every
 * release's main.json and community.json by conditional GET; when anything changed, every
 * file is handed over for a full replacement of the source (secdb publishes no deltas).
 * Offline: `detect` recognises a secdb document (JSON or YAML) by its `distroversion`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../../errors.js';
import { download } from '../../net/download.js';
import type { Feed, FeedBody, FeedRecord, FetchContext, FetchResult } from '../types.js';
import { fetchFiles, type FileSpec } from './fetch-files.js';
import { readSecdbDocument } from './read-document.js';
import { parseReleaseIndex } from './releases.js';
import { alpineNamespace, secdbRecords } from './secdb.js';

/** Default base URL of the secdb. */
export const ALPINE_SECDB_BASE = 'https://secdb.alpinelinux.org/';

export interface AlpineFeedOptions {
  /** releases to fetch (`3.19`, `edge`) instead of those listed on the index page */
  releases?: readonly string[];
}

const JSON_SHAPE = /"distroversion"\s*:\s*"(?:v\d+\.\d+|edge)"/;
const JSON_KEYS = /"(?:packages|apkurl|reponame|urlprefix)"\s*:/;
const YAML_SHAPE = /^distroversion:\s*['"]?(?:v\d+\.\d+|edge)['"]?\s*$/m;
const YAML_KEYS = /^(?:packages|apkurl|reponame|urlprefix):/m;

/** Builds the Alpine feed (the default instance is `alpineFeed`). */
export function createAlpineFeed(options: AlpineFeedOptions = {}): Feed {
  return {
    name: 'alpine',
    version: 1,
    description: 'Alpine Linux secdb (fixed versions of origin packages per release)',
    onError: 'fail',
    detect: ({ head }) => {
      const text = head.toString('utf8');
      return /^\uFEFF?\s*\{/.test(text)
        ? JSON_SHAPE.test(text) && JSON_KEYS.test(text)
        : YAML_SHAPE.test(text) && YAML_KEYS.test(text);
    },
    fetch: (ctx) => fetchAlpine(ctx, options),
    parse: (body, opts) => parseAlpine(body, opts?.signal),
  };
}

export const alpineFeed: Feed = createAlpineFeed();

async function fetchAlpine(ctx: FetchContext, options: AlpineFeedOptions): Promise<FetchResult> {
  const base = withSlash(ctx.baseUrl ?? ALPINE_SECDB_BASE);
  let releases = options.releases;
  if (!releases) {
    // the index is small and not cached: it decides which files to ask for
    const index = await download({
      url: base,
      dest: join(ctx.workDir, 'alpine', 'index.html'),
      dispatcher: ctx.dispatcher,
      signal: ctx.signal,
    });
    if (index.status !== 'ok') throw new EngineError('ENG_FEED_HTTP', `${base}: unexpected 304`);
    releases = parseReleaseIndex(await readFile(index.path, 'utf8'));
    if (releases.length === 0) throw new EngineError('ENG_FEED_FORMAT', `${base}: no releases listed`);
  }
  const files: FileSpec[] = releases.flatMap((r) => {
    const dir = r === 'edge' ? 'edge' : `v${r.replace(/^v/, '')}`;
    return ['main', 'community'].map((repo) => ({
      key: `${dir}/${repo}.json`,
      url: new URL(`${dir}/${repo}.json`, base).toString(),
      dest: join(ctx.workDir, 'alpine', dir, `${repo}.json`),
      // old releases have no community repository
      optional: repo === 'community',
    }));
  });
  const got = await fetchFiles(ctx, files);
  if (!got.changed) return { status: 'unchanged' };
  return { status: 'updated', mode: 'full', checkpoint: got.checkpoint, bodies: got.bodies };
}

async function* parseAlpine(body: FeedBody, signal?: AbortSignal): AsyncGenerator<FeedRecord> {
  const doc = await readSecdbDocument(body, signal);
  const namespace = alpineNamespace(doc, body.name);
  yield* secdbRecords(doc, { namespace, name: body.name });
}

const withSlash = (u: string) => (u.endsWith('/') ? u : `${u}/`);
