/**
 * The Wolfi (`wolfi`) and Chainguard (`chainguard`) secdb feeds: one Alpine-shaped secdb
 * document each, without `distroversion` (both are rolling distributions: namespaces `wolfi`
 * and `chainguard`, no release), mapping shared with Alpine (../alpine/secdb.ts):
 * - https://packages.wolfi.dev/os/security.json
 * - https://packages.cgr.dev/chainguard/security.json
 *
 * Online: one conditional GET each, full replacement on change. Offline: `detect` recognises
 * the document by the publisher in its `urlprefix` (packages.wolfi.dev; *.cgr.dev or the
 * `chainguard` repository). Other Alpine-shaped secdbs (MinimOS's packages.mini.dev) are not
 * recognised. The CGA-* OSV advisories Chainguard also publishes belong to the OSV feed.
 */
import { join } from 'node:path';
import { EngineError } from '../../errors.js';
import { fetchFiles } from '../alpine/fetch-files.js';
import { readSecdbDocument } from '../alpine/read-document.js';
import { secdbRecords } from '../alpine/secdb.js';
import type { Feed, FeedBody, FeedRecord, FetchContext, FetchResult } from '../types.js';

/** Default base URLs; the document is `<base>security.json`. */
export const WOLFI_SECDB_BASE = 'https://packages.wolfi.dev/os/';
export const CHAINGUARD_SECDB_BASE = 'https://packages.cgr.dev/chainguard/';

interface SecdbDistro {
  name: 'wolfi' | 'chainguard';
  description: string;
  base: string;
  /** is this document's publisher (urlprefix host, reponame) this distro? */
  publisher: (host: string, reponame: string) => boolean;
}

const WOLFI: SecdbDistro = {
  name: 'wolfi',
  description: 'Wolfi secdb (fixed versions of Wolfi packages)',
  base: WOLFI_SECDB_BASE,
  publisher: (host) => host === 'packages.wolfi.dev' || host.endsWith('.wolfi.dev'),
};

const CHAINGUARD: SecdbDistro = {
  name: 'chainguard',
  description: 'Chainguard secdb (fixed versions of Chainguard OS packages)',
  base: CHAINGUARD_SECDB_BASE,
  publisher: (host, reponame) => host === 'cgr.dev' || host.endsWith('.cgr.dev') || reponame === 'chainguard',
};

function createSecdbDistroFeed(distro: SecdbDistro): Feed {
  return {
    name: distro.name,
    version: 1,
    description: distro.description,
    onError: 'fail',
    detect: ({ head }) => {
      const text = head.toString('utf8');
      if (!/^\uFEFF?\s*\{/.test(text) || /"distroversion"\s*:/.test(text)) return false;
      if (!/"(?:packages|apkurl)"\s*:/.test(text)) return false;
      const host = /"urlprefix"\s*:\s*"https?:\/\/([^/":]+)/i.exec(text)?.[1]?.toLowerCase() ?? '';
      const reponame = /"reponame"\s*:\s*"([^"]*)"/.exec(text)?.[1] ?? '';
      return (host !== '' || reponame !== '') && distro.publisher(host, reponame);
    },
    fetch: (ctx) => fetchSecdb(ctx, distro),
    parse: (body, opts) => parseSecdb(body, distro, opts?.signal),
  };
}

export const wolfiFeed: Feed = createSecdbDistroFeed(WOLFI);
export const chainguardFeed: Feed = createSecdbDistroFeed(CHAINGUARD);

async function fetchSecdb(ctx: FetchContext, distro: SecdbDistro): Promise<FetchResult> {
  const base = ctx.baseUrl ?? distro.base;
  const url = new URL('security.json', base.endsWith('/') ? base : `${base}/`).toString();
  const got = await fetchFiles(ctx, [
    { key: 'security.json', url, dest: join(ctx.workDir, distro.name, 'security.json') },
  ]);
  if (!got.changed) return { status: 'unchanged' };
  return { status: 'updated', mode: 'full', checkpoint: got.checkpoint, bodies: got.bodies };
}

async function* parseSecdb(
  body: FeedBody,
  distro: SecdbDistro,
  signal?: AbortSignal,
): AsyncGenerator<FeedRecord> {
  const doc = await readSecdbDocument(body, signal);
  if (typeof doc === 'object' && doc !== null && 'distroversion' in doc)
    throw new EngineError('ENG_FEED_FORMAT', `${body.name}: an Alpine release secdb, not ${distro.name}'s`);
  yield* secdbRecords(doc, { namespace: distro.name, name: body.name });
}
