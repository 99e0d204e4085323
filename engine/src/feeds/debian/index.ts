/**
 * The Debian security tracker feed (`debian`): one JSON document with every source package's
 * CVEs per release, https://security-tracker.debian.org/tracker/data/json (≈ 70 MB, streamed
 * member by member; see parse-tracker.ts for the mapping).
 *
 * Online: one conditional GET (ETag / Last-Modified); the tracker has no deltas, so every
 * change is a full replacement of the source. Offline: `detect` recognises the document by its
 * shape `{ "<package>": { "CVE-…": {…} } }`. The vuln-list-debian intermediate files (one CVE
 * per file, parsed from data/CVE/list, plus distributions.json) are NOT recognised: turning
 * their annotations into per-release states needs every release's package versions (what
 * trivy-db does with extra inputs), so they are left to `detect` = false.
 *
 * Memory: one package member at a time (the tracker lists a CVE under every package it touches;
 * each package's part is a record the snapshot merges by id). Measured on a synthetic 140 MB
 * document (30k packages, 150k CVEs, 750k release rows): 2.9 s, peak RSS 120 MB.
 */
import { join } from 'node:path';
import { EngineError, isEngineError, throwIfAborted } from '../../errors.js';
import { fetchFiles } from '../alpine/fetch-files.js';
import { maybeGunzip, streamObjectMembers } from '../json-stream.js';
import type { Feed, FeedBody, FeedRecord, FetchContext, FetchResult } from '../types.js';
import { DEBIAN_RELEASES, TrackerMapper } from './parse-tracker.js';

/** Default base URL; the document is `<base>data/json`. */
export const DEBIAN_TRACKER_BASE = 'https://security-tracker.debian.org/tracker/';

export interface DebianFeedOptions {
  /** codename → release number (namespace `debian:<n>`); default DEBIAN_RELEASES */
  releases?: Readonly<Record<string, string>>;
}

/** `{ "<package>": { "<CVE|TEMP id>": { "<a tracker field>":` (Echo's look-alike has `fixed_version` only) */
const SHAPE =
  /^\uFEFF?\s*\{\s*"(?:[^"\\]|\\.)*"\s*:\s*\{\s*"(?:CVE|TEMP)-[^"]*"\s*:\s*\{\s*"(?:description|scope|debianbug|releases)"\s*:/;

/** Builds the Debian feed (the default instance is `debianFeed`). */
export function createDebianFeed(options: DebianFeedOptions = {}): Feed {
  const releases = options.releases ?? DEBIAN_RELEASES;
  return {
    name: 'debian',
    version: 1,
    description: 'Debian security tracker (per-release fix states of source packages)',
    onError: 'fail',
    detect: ({ head }) => SHAPE.test(head.toString('utf8')),
    fetch: (ctx) => fetchTracker(ctx),
    parse: (body, opts) => parseTracker(body, releases, opts?.signal),
  };
}

export const debianFeed: Feed = createDebianFeed();

async function fetchTracker(ctx: FetchContext): Promise<FetchResult> {
  const base = ctx.baseUrl ?? DEBIAN_TRACKER_BASE;
  const url = new URL('data/json', base.endsWith('/') ? base : `${base}/`).toString();
  const dest = join(ctx.workDir, 'debian', 'tracker.json');
  const got = await fetchFiles(ctx, [{ key: 'data/json', url, dest }]);
  if (!got.changed) return { status: 'unchanged' };
  return { status: 'updated', mode: 'full', checkpoint: got.checkpoint, bodies: got.bodies };
}

/**
 * Streams one tracker document. Malformed package/CVE/release entries are yielded as such;
 * a document that is not the tracker's (or is cut short) throws ENG_FEED_FORMAT.
 */
async function* parseTracker(
  body: FeedBody,
  releases: Readonly<Record<string, string>>,
  signal?: AbortSignal,
): AsyncGenerator<FeedRecord> {
  const mapper = new TrackerMapper(releases);
  const stream = await maybeGunzip(await body.open(signal));
  try {
    let checked = false;
    for await (const m of streamObjectMembers(stream, { name: body.name })) {
      throwIfAborted(signal);
      if ('bad' in m) {
        yield { type: 'malformed', message: `package entry is not valid JSON: ${m.bad}`, ref: m.key };
        continue;
      }
      if (!checked) {
        // the first readable member decides whether this is the tracker at all: CVE entries
        // with per-release states (Echo's look-alike {package: {CVE: {fixed_version}}} has none)
        if (!looksLikeTracker(m.value)) throw notTracker(body.name);
        checked = true;
      }
      const records = mapper.package(m.key, m.value);
      yield* records;
    }
  } catch (e) {
    if (isEngineError(e)) throw e;
    if (signal?.aborted) throw new EngineError('ENG_ABORTED', `${body.name}: parse aborted`, { cause: e });
    throw new EngineError('ENG_FEED_FORMAT', `${body.name}: ${(e as Error).message}`, { cause: e });
  } finally {
    stream.destroy();
  }
  if (mapper.idsSeen === 0) throw notTracker(body.name);
}

function looksLikeTracker(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.entries(value).some(
    ([id, entry]) =>
      /^(?:CVE|TEMP)-/.test(id) && typeof entry === 'object' && entry !== null && 'releases' in entry,
  );
}

function notTracker(name: string): EngineError {
  return new EngineError('ENG_FEED_FORMAT', `${name}: not a Debian security tracker document`);
}
