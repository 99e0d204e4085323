/**
 * Central vulnerability-database sync: the control plane keeps the current snapshot in its snapshot directory
 * (snapshot-store.ts) and produces new ones. Every `pollMs` it re-reads the directory (another replica may have
 * published), publishes dropped files (intake.ts) and, when the interval since the last update has passed, runs
 * the engine's `db update`. `requestUpdate` runs one on demand, `upload` publishes a snapshot sent over HTTP.
 * All of that runs under the sync lock (sync-lock.ts): one control plane at a time, across replicas.
 *
 * An update works on `.work/vigil.db` (the current snapshot, hard-linked, plus the feeds' checkpoints), so the
 * served files are never touched; a new version is linked to `<version>.db` and made current. A failed update,
 * or failed feeds, leave the current snapshot as it is; the attempt, its error and each feed's outcome are
 * recorded (sync-status.ts) for `GET /db`.
 */
import { createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { readSnapshotMeta, selectFeeds, updateSnapshot, type FetchContext } from '@vigil/engine/db';
import { ControlPlaneError } from '../errors.js';
import { SILENT_LOGGER, type ServiceLogger } from '../services/logger.js';
import { DropIntake } from './intake.js';
import { SnapshotStore, type PublishedSnapshot, type SnapshotManifest } from './snapshot-store.js';
import type { HeldLock, SyncLock } from './sync-lock.js';
import {
  errorOf,
  feedError,
  SyncStatusFile,
  type SyncAttempt,
  type SyncRecord,
  type SyncTrigger,
} from './sync-status.js';

export interface DbSyncOptions {
  /** the snapshot directory (VIGIL_DB_DIR) */
  dir: string;
  lock: SyncLock;
  /** a snapshot file published at start unless the directory has its version (VIGIL_DB, the all-in-one's) */
  seed?: string | null;
  /** time between scheduled updates; 0: no schedule (requests, drops and uploads still work) */
  intervalMs: number;
  /** feeds to update (default every feed) */
  sources?: readonly string[];
  /** base URL per feed name */
  mirrors?: Readonly<Record<string, string>>;
  credentials?: FetchContext['credentials'];
  /** how often the directory is re-read and the schedule checked (default 5,000 ms) */
  pollMs?: number;
  /** published snapshots kept, the current one included (default 3) */
  keep?: number;
  logger?: ServiceLogger;
  now?: () => Date;
}

/** What `GET /db` shows of the sync. */
export interface DbSyncStatus {
  /** an update (or intake) holds the lock right now, here or on another control plane */
  running: boolean;
  intervalSeconds: number | null;
  /** when the next scheduled update is due (null: no schedule) */
  nextRunAt: string | null;
  lastAttempt: SyncAttempt | null;
  lastSuccessAt: string | null;
}

export interface DbSync {
  /** the current snapshot (kept in memory, re-read every poll) */
  current(): PublishedSnapshot;
  /** the current snapshot as the directory names it right now (another control plane may have published) */
  latest(): Promise<PublishedSnapshot>;
  /** a published snapshot by version; null when the directory has none of it */
  published(version: string): Promise<PublishedSnapshot | null>;
  /**
   * Starts an update now; resolves once it runs, with its outcome to come.
   * @throws CP_CONFLICT when an update or intake runs already (here or on another control plane)
   */
  requestUpdate(): Promise<{ done: Promise<SyncAttempt> }>;
  /**
   * Publishes an uploaded snapshot file and makes it current.
   * @throws CP_CONFLICT (the lock is busy), CP_INVALID_ARGUMENT (not a usable snapshot),
   *   CP_PAYLOAD_TOO_LARGE (over `maxBytes`)
   */
  upload(body: AsyncIterable<Buffer>, maxBytes: number): Promise<SnapshotManifest>;
  status(): Promise<DbSyncStatus>;
  /** One poll now: re-read the directory, take drops, run a due update (awaited). */
  poll(): Promise<void>;
  /** Stops polling and aborts a running update (the current snapshot stays). */
  close(): Promise<void>;
}

const WORK_DIR = '.work';

/** Publishes the seed, reads the current snapshot and starts polling. @throws CP_INVALID_ARGUMENT with no snapshot at all */
export async function startDbSync(options: DbSyncOptions): Promise<DbSync> {
  const sync = new Sync(options);
  await sync.start();
  return sync;
}

class Sync implements DbSync {
  private readonly store: SnapshotStore;
  private readonly statusFile: SyncStatusFile;
  private readonly intake: DropIntake;
  private readonly log: ServiceLogger;
  private readonly now: () => Date;
  private snapshot!: PublishedSnapshot;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  private readonly abort = new AbortController();
  private closed = false;

  constructor(private readonly options: DbSyncOptions) {
    this.store = new SnapshotStore(options.dir);
    this.statusFile = new SyncStatusFile(options.dir);
    this.intake = new DropIntake(this.store);
    this.log = options.logger ?? SILENT_LOGGER;
    this.now = options.now ?? (() => new Date());
    if (options.sources?.length) selectFeeds(options.sources);
  }

  async start(): Promise<void> {
    await mkdir(join(this.options.dir, WORK_DIR), { recursive: true });
    if (this.options.seed) await this.publishSeed(this.options.seed);
    const current = await this.store.current();
    if (!current) {
      throw new ControlPlaneError(
        'CP_INVALID_ARGUMENT',
        `no vulnerability database: set VIGIL_DB or put a snapshot (vigil db build --out) into ${this.options.dir}`,
      );
    }
    this.snapshot = current;
    this.schedule();
  }

  current(): PublishedSnapshot {
    return this.snapshot;
  }

  async latest(): Promise<PublishedSnapshot> {
    await this.reload();
    return this.snapshot;
  }

  published(version: string): Promise<PublishedSnapshot | null> {
    return this.store.published(version);
  }

  async requestUpdate(): Promise<{ done: Promise<SyncAttempt> }> {
    const lock = await this.acquire();
    const done = this.update('request', lock);
    this.ticking = this.ticking.then(() => done.then(() => undefined));
    return { done };
  }

  async upload(body: AsyncIterable<Buffer>, maxBytes: number): Promise<SnapshotManifest> {
    const lock = await this.acquire();
    await this.reload().catch(() => undefined);
    const temp = this.store.tempPath('upload');
    const attempt = this.attempt('upload');
    try {
      let size = 0;
      const cap = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          size += chunk.length;
          if (size > maxBytes) {
            callback(
              new ControlPlaneError(
                'CP_PAYLOAD_TOO_LARGE',
                `a snapshot upload is limited to ${maxBytes} bytes`,
              ),
            );
          } else callback(null, chunk);
        },
      });
      await pipeline(body, cap, createWriteStream(temp));
      let published;
      try {
        published = await this.store.publish(temp, {
          origin: 'upload',
          makeCurrent: 'always',
          verify: true,
          move: true,
        });
      } catch (e) {
        const { code, message } = errorOf(e);
        throw new ControlPlaneError(
          'CP_INVALID_ARGUMENT',
          `the upload is not a usable snapshot (${code}): ${message}`,
          {
            cause: e,
          },
        );
      }
      await this.finish(attempt, 'updated', null, published.manifest.version);
      return published.manifest;
    } catch (e) {
      await this.finish(attempt, 'failed', errorOf(e), attempt.previousVersion);
      throw e;
    } finally {
      await rm(temp, { force: true });
      await lock.release();
    }
  }

  async status(): Promise<DbSyncStatus> {
    const [record, running] = await Promise.all([this.record(), this.options.lock.isHeld()]);
    const last = record.lastAttempt;
    return {
      running,
      intervalSeconds: this.options.intervalMs > 0 ? Math.round(this.options.intervalMs / 1000) : null,
      nextRunAt: this.options.intervalMs > 0 ? this.nextRunAt(record).toISOString() : null,
      // an attempt still `running` with nobody holding the lock was cut short (a crash, a kill)
      lastAttempt:
        last?.outcome === 'running' && !running
          ? {
              ...last,
              outcome: 'failed',
              error: { code: 'CP_UNAVAILABLE', message: 'the attempt was interrupted' },
            }
          : last,
      lastSuccessAt: record.lastSuccessAt,
    };
  }

  poll(): Promise<void> {
    const tick = this.ticking.then(() => this.tick());
    this.ticking = tick.catch(() => undefined);
    return tick;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.abort.abort();
    await this.ticking;
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.poll()
        .catch((err: unknown) => this.log.warn({ err }, 'vulnerability database poll failed'))
        .finally(() => this.schedule());
    }, this.options.pollMs ?? 5_000);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    await this.reload();
    const lock = await this.options.lock.tryAcquire();
    if (!lock) return;
    let handed = false;
    try {
      for (const result of await this.intake.scan()) {
        const attempt = this.attempt('drop');
        if (result.error) {
          this.log.warn(
            { file: result.file, code: result.error.code, err: result.error.message },
            'dropped snapshot rejected',
          );
          await this.finish(attempt, 'failed', result.error, attempt.previousVersion);
        } else {
          this.log.info(
            { file: result.file, version: result.version, current: result.current },
            'dropped snapshot published',
          );
          await this.finish(
            attempt,
            result.current ? 'updated' : 'unchanged',
            null,
            await this.store.currentVersion(),
          );
        }
        await this.reload();
      }
      if (this.options.intervalMs > 0 && this.now() >= this.nextRunAt(await this.record())) {
        handed = true;
        await this.update('schedule', lock);
      }
    } finally {
      if (!handed) await lock.release();
    }
  }

  /** One `db update` under `lock` (released at the end). Never throws: the outcome is the attempt. */
  private async update(trigger: SyncTrigger, lock: HeldLock): Promise<SyncAttempt> {
    // another control plane may have published since this one last looked
    await this.reload().catch(() => undefined);
    const attempt = this.attempt(trigger);
    try {
      await this.statusFile.write(attempt);
      const work = join(this.options.dir, WORK_DIR, 'vigil.db');
      await this.prepareWork(work);
      this.log.info({ trigger, version: attempt.previousVersion }, 'vulnerability database update start');
      const result = await updateSnapshot({
        db: work,
        ...(this.options.sources?.length ? { feeds: selectFeeds(this.options.sources) } : {}),
        baseUrls: this.options.mirrors,
        credentials: this.options.credentials,
        workDir: join(this.options.dir, WORK_DIR, 'feeds'),
        signal: this.abort.signal,
        now: this.now,
      });
      attempt.feeds = result.feeds.map((f) => ({ name: f.name, status: f.status, error: f.error ?? null }));
      const failed = attempt.feeds.filter((f) => f.status === 'failed');
      const error = failed[0] ? feedError(failed[0].name, failed[0].error ?? '') : null;
      let version = this.snapshot.manifest.version;
      if (result.meta.version !== version) {
        version = (await this.store.publish(work, { origin: 'update', makeCurrent: 'always', verify: false }))
          .manifest.version;
      }
      const outcome =
        version !== attempt.previousVersion
          ? failed.length
            ? 'partial'
            : 'updated'
          : failed.length === 0
            ? 'unchanged'
            : failed.length === attempt.feeds.length
              ? 'failed'
              : 'partial';
      await this.finish(attempt, outcome, error, version);
      await this.store.prune(this.options.keep ?? 3);
    } catch (e) {
      await this.finish(attempt, 'failed', errorOf(e), attempt.previousVersion).catch(() => undefined);
    } finally {
      await lock.release();
    }
    await this.reload().catch((err: unknown) =>
      this.log.warn({ err }, 'vulnerability database reload failed'),
    );
    const level = attempt.outcome === 'failed' || attempt.outcome === 'partial' ? 'warn' : 'info';
    this.log[level](
      {
        trigger,
        outcome: attempt.outcome,
        version: attempt.version,
        code: attempt.error?.code,
        err: attempt.error?.message,
      },
      'vulnerability database update end',
    );
    return attempt;
  }

  /**
   * The work file holds the current snapshot (an update builds on what is served, drops included). An engine
   * update lock left beside it is stale by construction (this control plane holds the sync lock): one left by a
   * control plane that died on another host would otherwise block every later update.
   */
  private async prepareWork(work: string): Promise<void> {
    await rm(`${work}.lock`, { force: true });
    let version: string | null = null;
    try {
      version = readSnapshotMeta(work).version;
    } catch {
      // missing or damaged: replaced below
    }
    if (version === this.snapshot.manifest.version) return;
    await rm(work, { force: true });
    await link(this.snapshot.path, work).catch(() => copyFile(this.snapshot.path, work));
  }

  private attempt(trigger: SyncTrigger): SyncAttempt {
    const version = this.snapshot?.manifest.version ?? null;
    return {
      trigger,
      startedAt: this.now().toISOString(),
      finishedAt: null,
      outcome: 'running',
      previousVersion: version,
      version,
      error: null,
      feeds: [],
    };
  }

  private async finish(
    attempt: SyncAttempt,
    outcome: SyncAttempt['outcome'],
    error: SyncAttempt['error'],
    version: string | null,
  ): Promise<void> {
    Object.assign(attempt, { outcome, error, version, finishedAt: this.now().toISOString() });
    await this.statusFile.write(attempt);
  }

  private async acquire(): Promise<HeldLock> {
    const lock = await this.options.lock.tryAcquire();
    if (!lock) {
      throw new ControlPlaneError(
        'CP_CONFLICT',
        'a vulnerability database update is running already (on this or another control plane)',
      );
    }
    return lock;
  }

  private record(): Promise<SyncRecord> {
    return this.statusFile.read();
  }

  private nextRunAt(record: SyncRecord): Date {
    const from = Date.parse(record.lastUpdateStartedAt ?? this.snapshot.meta.builtAt);
    return new Date((Number.isNaN(from) ? 0 : from) + this.options.intervalMs);
  }

  /** Re-reads which snapshot is current (another replica, a drop, an update may have changed it). */
  private async reload(): Promise<void> {
    const version = await this.store.currentVersion();
    if (version === null || version === this.snapshot.manifest.version) return;
    const next = await this.store.published(version);
    if (!next) return;
    this.snapshot = next;
    this.log.info({ version, builtAt: next.meta.builtAt }, 'vulnerability database changed');
  }

  private async publishSeed(seed: string): Promise<void> {
    const version = readSnapshotMeta(seed).version;
    if (await this.store.manifest(version)) return;
    for (let i = 0; ; i++) {
      const lock = await this.options.lock.tryAcquire();
      if (lock) {
        try {
          const { current } = await this.store.publish(seed, {
            origin: 'seed',
            makeCurrent: 'if-newer',
            verify: false,
          });
          this.log.info({ version, current }, 'vulnerability database seed published');
          return;
        } finally {
          await lock.release();
        }
      }
      // another control plane is writing the directory: without any snapshot yet, wait for it
      if ((await this.store.currentVersion()) !== null || i >= 120) return;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}
