/**
 * Keeps a worker on the control plane's current snapshot. Fleet (`http`): every `pollMs` it asks the control
 * plane with the version it has (a 304 when nothing changed), downloads and verifies a new one (download.ts)
 * and installs it in the pool; a job's ClaimJob naming another version (`nudge`) checks at once. All-in-one
 * (`shared`): it opens the control plane's own current file in place, nothing is downloaded. A failed check
 * keeps the snapshot in use and is tried again at the next poll.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { WorkerError } from '../errors.js';
import { fetchCurrentSnapshot, type DownloadOptions } from './download.js';
import { SnapshotPool } from './pool.js';

/** Where a worker's snapshots come from (besides a `dbPath` it starts with). */
export type SnapshotSource =
  | {
      kind: 'http';
      /** the control plane's HTTP base URL */
      url: string;
      /** where downloaded snapshots are kept */
      dir: string;
      /** default 30,000 ms */
      pollMs?: number;
      /** download retries (see DownloadOptions) */
      attempts?: number;
      backoffMs?: (attempt: number) => number;
    }
  | {
      kind: 'shared';
      /** the control plane's current snapshot file, opened in place */
      current: () => { version: string; path: string };
      /** default 1,000 ms */
      pollMs?: number;
    };

export interface FollowerOptions {
  /** a snapshot file to start with (VIGIL_DB); required without `source` */
  dbPath?: string | null;
  source?: SnapshotSource;
  /** the worker token (downloads) */
  token: string;
  logger: Logger;
}

export class SnapshotFollower {
  readonly pool: SnapshotPool;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | null = null;
  private readonly abort = new AbortController();
  private closed = false;

  private constructor(private readonly options: FollowerOptions) {
    this.pool = new SnapshotPool(options.logger);
  }

  /**
   * Installs the first snapshot (`dbPath`, else the source's current one) and starts following the source.
   * @throws WRK_CONFIG_INVALID (neither given), WRK_SNAPSHOT_UNAVAILABLE / WRK_SNAPSHOT_INVALID (no snapshot
   *   could be had), ENG_DB_* (the file cannot be opened)
   */
  static async start(options: FollowerOptions): Promise<SnapshotFollower> {
    const follower = new SnapshotFollower(options);
    await follower.first();
    follower.schedule();
    return follower;
  }

  /** A job was scheduled against `version`: check the source now unless it is the one in use. */
  nudge(version: string): void {
    if (!version || version === this.pool.version || this.closed) return;
    void this.check();
  }

  /** Checks the source now (at most one check at a time). */
  check(): Promise<void> {
    this.checking ??= this.follow()
      .catch((err: unknown) =>
        this.options.logger.warn({ err }, 'snapshot check failed; keeping the one in use'),
      )
      .finally(() => (this.checking = null));
    return this.checking;
  }

  /** Stops following and closes the snapshots once the jobs leasing them released them. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.abort.abort();
    await this.checking;
    this.pool.close();
  }

  private schedule(): void {
    const source = this.options.source;
    if (!source || this.closed) return;
    this.timer = setTimeout(
      () => void this.check().finally(() => this.schedule()),
      source.pollMs ?? (source.kind === 'http' ? 30_000 : 1_000),
    );
    this.timer.unref();
  }

  private async first(): Promise<void> {
    const { source, dbPath } = this.options;
    if (dbPath) {
      this.pool.install(dbPath, { owned: false });
      if (source) await this.check();
      return;
    }
    if (!source) {
      throw new WorkerError(
        'WRK_CONFIG_INVALID',
        'no vulnerability database: give dbPath or a snapshot source',
      );
    }
    if (source.kind === 'shared') return this.follow();
    const local = await this.localVersions(source.dir);
    let fetched;
    try {
      fetched = await fetchCurrentSnapshot(this.download(source), local);
    } catch (err) {
      // the control plane is out of reach: start on the snapshot downloaded last time, if any
      if (!local.length) throw err;
      this.options.logger.warn(
        { err, version: local[0] },
        'control plane unreachable; starting on the local snapshot',
      );
      this.pool.install(join(source.dir, `${local[0]}.db`), { owned: true, expected: local[0] });
      return;
    }
    const version = 'unchanged' in fetched ? fetched.unchanged : fetched.version;
    this.pool.install(join(source.dir, `${version}.db`), { owned: true, expected: version });
    // what earlier runs left: other versions and parts of broken downloads
    for (const name of await readdir(source.dir).catch(() => [] as string[])) {
      if (name !== `${version}.db` && (name.endsWith('.db') || name.endsWith('.part'))) {
        await rm(join(source.dir, name), { force: true });
      }
    }
  }

  private async follow(): Promise<void> {
    const source = this.options.source;
    if (!source || this.closed) return;
    if (source.kind === 'shared') {
      const { version, path } = source.current();
      if (version !== this.pool.version) this.pool.install(path, { owned: false, expected: version });
      return;
    }
    const have = this.pool.version;
    const fetched = await fetchCurrentSnapshot(this.download(source), have ? [have] : []);
    if ('unchanged' in fetched || this.closed) return;
    this.pool.install(fetched.path, { owned: true, expected: fetched.version });
  }

  private download(source: Extract<SnapshotSource, { kind: 'http' }>): DownloadOptions {
    return {
      url: source.url,
      token: this.options.token,
      dir: source.dir,
      signal: this.abort.signal,
      attempts: source.attempts,
      backoffMs: source.backoffMs,
      onRetry: (info) => this.options.logger.warn(info, 'snapshot download retried'),
    };
  }

  /** Versions downloaded by earlier runs, the newest file first. */
  private async localVersions(dir: string): Promise<string[]> {
    const names = await readdir(dir, { withFileTypes: true }).catch(() => []);
    const files = names.filter((d) => d.isFile() && d.name.endsWith('.db') && !d.name.startsWith('.'));
    const timed = await Promise.all(
      files.map(async (d) => ({
        version: d.name.slice(0, -3),
        mtime: (await stat(join(dir, d.name))).mtimeMs,
      })),
    );
    return timed.sort((a, b) => b.mtime - a.mtime).map((t) => t.version);
  }
}
