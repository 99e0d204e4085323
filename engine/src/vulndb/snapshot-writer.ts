/**
 * SnapshotWriter: builds a new snapshot file, from scratch or from a base snapshot, and publishes
 * it atomically. Nothing is visible at the target path before `finalize()` renames the complete,
 * flushed file over it; `abort()` (or a crash) leaves the target as it was.
 *
 * Each `applySource` runs in ONE SQLite transaction: a source is applied completely or not at all,
 * so a feed that fails half-way (on-error `skip`) leaves its previous rows in place. Statements are
 * prepared once per application; one transaction is as fast as any batching and keeps memory
 * bounded by the page caches. Affected entries go to a staging database first (one entry per row,
 * affected-staging.ts) and are packed into the snapshot's one-row-per-package `affected` table by
 * `finalize()`, in the same ordered pass that hashes them; `finalize()` then rebuilds the
 * per-id `summaries` table (summary-table.ts).
 */
import Database from 'better-sqlite3';
import { constants } from 'node:fs';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EngineError, throwIfAborted } from '../errors.js';
import type { Feed, FeedCheckpoint, FeedRecord } from '../feeds/types.js';
import { AffectedStaging, stagingPathFor } from './affected-staging.js';
import { RecordApplier, type ApplyCounts } from './apply-records.js';
import { commitTemp, removeStaleTemps, tempPathFor } from './atomic-file.js';
import { AffectedHasher, snapshotVersion, sourceContentHashes } from './content-hash.js';
import { META_KEYS, SCHEMA_SQL } from './schema.js';
import { checkSnapshotHeader, guardSqlite, readSources } from './snapshot-file.js';
import { writeSummaries } from './summary-table.js';
import { SNAPSHOT_SCHEMA_VERSION, type SnapshotMeta, type SourceMeta } from './types.js';

/** The feed fields the writer records (a Feed satisfies it). */
export type FeedIdentity = Pick<Feed, 'name' | 'version'>;

export interface SnapshotWriterOptions {
  /** the snapshot file to produce (replaced atomically by `finalize`) */
  target: string;
  /** an existing snapshot to start from: copied next to the target, then changed; may be `target` */
  base?: string;
  /** clock for builtAt / updatedAt / checkedAt (tests) */
  now?: () => Date;
  /** SQLite page cache in MiB (default 64) of the snapshot and of the staging database each: bounds memory whatever the volume */
  cacheMiB?: number;
}

export interface ApplySourceOptions {
  /** stored with the source when the application succeeds (the next fetch starts from it) */
  checkpoint?: FeedCheckpoint;
  signal?: AbortSignal;
}

const ZERO: ApplyCounts = { vulnerabilities: 0, affected: 0, kev: 0, epss: 0, malformed: 0, withdrawn: 0 };

export class SnapshotWriter {
  private state: 'open' | 'busy' | 'closed' = 'open';
  private readonly touched = new Set<string>();
  private changedRows = false;
  private staging: AffectedStaging | undefined;

  private constructor(
    private readonly db: Database.Database,
    private readonly temp: string,
    private readonly target: string,
    private readonly sourceMetas: Map<string, SourceMeta>,
    private readonly now: () => Date,
    private readonly base: string | undefined,
    private readonly cacheMiB: number,
  ) {}

  /**
   * Opens a writer. With `base`, the base file is copied first and must be a snapshot of this schema.
   * @throws ENG_DB_NOT_FOUND (base missing), ENG_DB_CORRUPT, ENG_DB_SCHEMA_UNSUPPORTED (base unusable).
   */
  static async create(options: SnapshotWriterOptions): Promise<SnapshotWriter> {
    await mkdir(dirname(options.target), { recursive: true });
    await removeStaleTemps(options.target);
    const temp = tempPathFor(options.target);
    let db: Database.Database | undefined;
    try {
      if (options.base) {
        await copyFile(options.base, temp, constants.COPYFILE_FICLONE).catch((e: NodeJS.ErrnoException) => {
          if (e.code === 'ENOENT')
            throw new EngineError('ENG_DB_NOT_FOUND', `no snapshot at ${options.base}`, { cause: e });
          throw e;
        });
      }
      db = new Database(temp);
      const opened = db;
      if (options.base) checkSnapshotHeader(opened, options.base);
      guardSqlite(options.base ?? options.target, () => {
        opened.pragma('synchronous = OFF');
        opened.pragma('locking_mode = EXCLUSIVE');
        opened.pragma(`cache_size = ${-1024 * (options.cacheMiB ?? 64)}`);
        if (!options.base) opened.exec(SCHEMA_SQL);
      });
      const sources = new Map(
        options.base ? readSources(opened, options.base).map((s) => [s.name, s] as const) : [],
      );
      return new SnapshotWriter(
        db,
        temp,
        options.target,
        sources,
        options.now ?? (() => new Date()),
        options.base,
        options.cacheMiB ?? 64,
      );
    } catch (e) {
      db?.close();
      await rm(temp, { force: true });
      throw e;
    }
  }

  /** The metadata of a source as it stands in this writer (from the base or applied since). */
  source(name: string): SourceMeta | undefined {
    const s = this.sourceMetas.get(name);
    return s && structuredClone(s);
  }

  /** Every source's metadata, sorted by name. */
  sources(): SourceMeta[] {
    return [...this.sourceMetas.values()]
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((s) => structuredClone(s));
  }

  /**
   * Applies a feed's records. `full` replaces every row this source had; `delta` upserts per id and
   * removes withdrawn ids. All or nothing: when `records` throws (or the signal aborts), the source
   * keeps its previous rows and the error is rethrown.
   * @returns the source's metadata after the application (counts are the source's totals in the
   *   snapshot, except `malformed` and `withdrawn`, which are this application's)
   */
  async applySource(
    feed: FeedIdentity,
    mode: 'full' | 'delta',
    records: AsyncIterable<FeedRecord>,
    options: ApplySourceOptions = {},
  ): Promise<SourceMeta> {
    this.enter();
    let applier: RecordApplier;
    try {
      this.staging ??= guardSqlite(this.base ?? this.target, () =>
        AffectedStaging.attach(this.db, stagingPathFor(this.temp), this.cacheMiB, this.base),
      );
    } catch (e) {
      this.state = 'open';
      throw e;
    }
    this.db.exec('BEGIN');
    try {
      if (mode === 'full') RecordApplier.clearSource(this.db, feed.name);
      applier = new RecordApplier(this.db, feed.name, mode === 'full');
      let n = 0;
      for await (const record of records) {
        if ((++n & 1023) === 0) throwIfAborted(options.signal);
        applier.apply(record);
      }
      throwIfAborted(options.signal);
      this.db.exec('COMMIT');
    } catch (e) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      this.state = 'open';
      throw e;
    }
    this.state = 'open';
    this.changedRows = true;
    this.touched.add(feed.name);
    const previous = this.sourceMetas.get(feed.name);
    const meta: SourceMeta = {
      name: feed.name,
      feedVersion: feed.version,
      ...(previous?.updatedAt ? { updatedAt: previous.updatedAt } : {}),
      checkedAt: this.now().toISOString(),
      ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
      counts: {
        ...this.totals(feed.name),
        malformed: applier.counts.malformed,
        withdrawn: applier.counts.withdrawn,
      },
      ...(previous?.contentHash ? { contentHash: previous.contentHash } : {}),
    };
    this.sourceMetas.set(feed.name, meta);
    return structuredClone(meta);
  }

  /** The feed was checked and had not changed: only checkedAt (and the checkpoint, if given) move; a previous error clears. */
  markChecked(feed: FeedIdentity, checkpoint?: FeedCheckpoint): void {
    this.enter();
    this.state = 'open';
    const previous = this.sourceMetas.get(feed.name);
    const meta: SourceMeta = previous
      ? { ...previous }
      : { name: feed.name, feedVersion: feed.version, checkedAt: '', counts: { ...ZERO } };
    meta.checkedAt = this.now().toISOString();
    if (checkpoint) meta.checkpoint = checkpoint;
    delete meta.lastError;
    this.sourceMetas.set(feed.name, meta);
  }

  /** The feed failed and was skipped: its previous data stays, the error is recorded for `db status`. */
  recordError(feed: FeedIdentity, message: string): void {
    this.enter();
    this.state = 'open';
    const previous = this.sourceMetas.get(feed.name);
    const meta: SourceMeta = previous
      ? { ...previous }
      : {
          name: feed.name,
          feedVersion: feed.version,
          checkedAt: this.now().toISOString(),
          counts: { ...ZERO },
        };
    meta.lastError = message;
    this.sourceMetas.set(feed.name, meta);
  }

  /**
   * Computes content hashes and the version, writes the metadata, compacts, and atomically replaces
   * the target. The writer is closed afterwards.
   */
  async finalize(): Promise<SnapshotMeta> {
    this.enter();
    const builtAt = this.now().toISOString();
    try {
      // pack the staged entries (all of them, when any source was applied) and hash them on the way
      const hasher = new AffectedHasher(this.touched);
      this.staging?.pack(hasher);
      // summaries derive from every source's rows: rebuilt whole when any source was applied
      if (this.changedRows) writeSummaries(this.db);
      const hashes = sourceContentHashes(this.db, this.touched, hasher.digests());
      for (const name of this.touched) {
        const meta = this.sourceMetas.get(name)!;
        const hash = hashes.get(name)!;
        // content changed (or first data): it changed when it was applied
        if (hash !== meta.contentHash || !meta.updatedAt) meta.updatedAt = meta.checkedAt;
        meta.contentHash = hash;
      }
      const sources = this.sources();
      const version = snapshotVersion(SNAPSHOT_SCHEMA_VERSION, sources);
      const setMeta = this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
      const setSource = this.db.prepare('INSERT INTO sources (name, json) VALUES (?, ?)');
      this.db.transaction(() => {
        this.db.exec('DELETE FROM sources');
        for (const s of sources) setSource.run(s.name, JSON.stringify(s));
        setMeta.run(META_KEYS.schemaVersion, String(SNAPSHOT_SCHEMA_VERSION));
        setMeta.run(META_KEYS.version, version);
        setMeta.run(META_KEYS.builtAt, builtAt);
      })();
      await this.staging?.remove();
      this.staging = undefined;
      this.db.pragma('analysis_limit = 1000');
      this.db.exec('ANALYZE');
      // a fresh file has no free pages; a changed copy of a base may have many
      if (this.base && this.changedRows) this.db.exec('VACUUM');
      this.db.close();
      this.state = 'closed';
      await commitTemp(this.temp, this.target);
      return { schemaVersion: SNAPSHOT_SCHEMA_VERSION, version, builtAt, sources };
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  /** Discards the work: the target is left untouched. Safe to call more than once. */
  async abort(): Promise<void> {
    if (this.db.open) this.db.close();
    this.state = 'closed';
    await rm(this.temp, { force: true });
    await rm(`${this.temp}-journal`, { force: true });
    await rm(stagingPathFor(this.temp), { force: true });
    await rm(`${stagingPathFor(this.temp)}-journal`, { force: true });
  }

  private enter(): void {
    if (this.state !== 'open')
      throw new EngineError(
        'ENG_INVALID_ARGUMENT',
        this.state === 'busy' ? 'SnapshotWriter is busy (one call at a time)' : 'SnapshotWriter is closed',
      );
    this.state = 'busy';
  }

  private totals(source: string): Omit<ApplyCounts, 'malformed' | 'withdrawn'> {
    const count = (table: string) =>
      (this.db.prepare(`SELECT count(*) AS n FROM ${table} WHERE source = ?`).get(source) as { n: number }).n;
    return {
      vulnerabilities: count('vulnerabilities'),
      affected: this.staging?.count(source) ?? 0,
      kev: count('kev'),
      epss: count('epss'),
    };
  }
}
