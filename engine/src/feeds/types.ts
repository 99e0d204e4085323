/**
 * Feed plugin shape (claircore Updater = Fetcher + Parser, vunnel Provider, trivy-db VulnSrc).
 *
 * `fetch` talks to the network and archives the raw upstream bytes as they came (in the work
 * directory) before anything parses them; `parse` is pure and streaming: it reads one body and
 * yields normalised records. The same `parse` serves `db update` (online) and `db build --from`
 * (offline), where `detect` recognises a feed's files by content.
 */
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { AffectedPackage, EpssEntry, KevEntry, Vulnerability } from '../model/vulnerability.js';

/** One normalised record out of a feed. */
export type FeedRecord =
  /** upsert: replaces everything this source said about `vulnerability.id` */
  | { type: 'vulnerability'; vulnerability: Vulnerability; affected: AffectedPackage[] }
  /** the source withdrew or rejected the id: remove this source's data for it */
  | { type: 'withdrawn'; id: string }
  | { type: 'kev'; entry: KevEntry }
  | { type: 'epss'; entry: EpssEntry }
  /** a record that could not be read: counted, skipped, the feed goes on */
  | { type: 'malformed'; message: string; ref?: string };

/** Raw upstream bytes, archived on disk or a file of an offline feed directory. */
export interface FeedBody {
  /** file name or URL, for messages */
  name: string;
  /** bytes as stored (gzip/zip/plain: parsers handle what their format uses) */
  open(signal?: AbortSignal): Promise<Readable>;
}

/** Opaque per-feed state persisted in the snapshot metadata between runs (ETag, last-modified, cursor). */
export type FeedCheckpoint = Record<string, string | number | boolean | null>;

export interface FetchContext {
  /** the checkpoint of the previous successful run (undefined: first run → full download) */
  checkpoint?: FeedCheckpoint;
  /** base URL (mirror) for this feed; each feed documents its default */
  baseUrl?: string;
  /** HTTP client (retries, proxy, rate limits are composed by the caller); default: undici's global */
  dispatcher?: Dispatcher;
  /** directory to archive raw downloads and in-progress state (resume after a crash) */
  workDir: string;
  /** credentials: NVD_API_KEY, GITHUB_TOKEN */
  credentials?: { nvdApiKey?: string; githubToken?: string };
  signal?: AbortSignal;
  /** clock, injectable for tests */
  now?: () => Date;
  /** progress: units done / total (pages, files) */
  onProgress?: (done: number, total?: number) => void;
}

export type FetchResult =
  | { status: 'unchanged' }
  | {
      status: 'updated';
      /** state to persist when the bodies have been applied */
      checkpoint: FeedCheckpoint;
      /** `full`: the bodies hold the whole feed (replace this source); `delta`: upserts and withdrawals only */
      mode: 'full' | 'delta';
      bodies: FeedBody[];
    };

export interface Feed {
  /** unique: `nvd`, `osv`, `ghsa`, `debian`, `ubuntu`, `alpine`, `wolfi`, `chainguard`, `redhat`, `kev`, `epss`… */
  readonly name: string;
  /** integer; bump when parse output changes for the same input (forces a full re-fetch) */
  readonly version: number;
  readonly description: string;
  /** what a parse failure of one body does: `fail` the feed, or `skip` the body (counted) */
  readonly onError: 'fail' | 'skip';
  /** offline build: is this file (name and first bytes, already decompressed if gzip) one of mine? */
  detect(file: { name: string; head: Buffer }): boolean;
  /** online: download what changed since `ctx.checkpoint` */
  fetch(ctx: FetchContext): Promise<FetchResult>;
  /** pure streaming parse of one body */
  parse(body: FeedBody, options?: { signal?: AbortSignal }): AsyncIterable<FeedRecord>;
}
