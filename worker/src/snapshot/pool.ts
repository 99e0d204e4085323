/**
 * The snapshots a worker has open. One is current: a job leases it when it starts and matches and reports with
 * that lease to the end, whatever is installed meanwhile. Installing a new snapshot makes it current for the
 * jobs that start afterwards; the one it replaces is closed (and its file removed, when the worker downloaded
 * it) as soon as the last job leasing it releases it.
 */
import { rm } from 'node:fs/promises';
import { openSnapshot, type AdvisoryReader } from '@vigil/engine/db';
import type { Logger } from 'pino';
import { WorkerError } from '../errors.js';

/** A job's hold on one snapshot: what `ScanJobContext.db` takes. Release it once, when the job ends. */
export interface SnapshotLease {
  readonly reader: AdvisoryReader;
  readonly version: string;
  release(): void;
}

interface Entry {
  reader: AdvisoryReader;
  version: string;
  path: string;
  /** downloaded by this worker: removed once retired and released */
  owned: boolean;
  leases: number;
  retired: boolean;
}

export class SnapshotPool {
  private current: Entry | null = null;
  private readonly retiring = new Set<Entry>();

  constructor(private readonly logger: Logger) {}

  /** The version new jobs get; null before the first install. */
  get version(): string | null {
    return this.current?.version ?? null;
  }

  /** Snapshots replaced but still leased by running jobs. */
  get retiringVersions(): string[] {
    return [...this.retiring].map((e) => e.version);
  }

  /**
   * Opens the snapshot at `path` and makes it current.
   * @throws WRK_SNAPSHOT_INVALID when it is not the `expected` version; ENG_DB_* when it cannot be opened
   */
  install(path: string, options: { owned: boolean; expected?: string }): string {
    const reader = openSnapshot(path);
    const version = reader.meta().version;
    if (options.expected !== undefined && version !== options.expected) {
      reader.close();
      throw new WorkerError(
        'WRK_SNAPSHOT_INVALID',
        `${path} holds snapshot ${version}, not the ${options.expected} it was fetched as`,
      );
    }
    const previous = this.current;
    this.current = { reader, version, path, owned: options.owned, leases: 0, retired: false };
    if (previous) {
      this.logger.info(
        { from: previous.version, to: version, inFlight: previous.leases },
        'snapshot swapped',
      );
      this.retire(previous);
    }
    return version;
  }

  /** The current snapshot, held until `release()`. @throws WRK_SNAPSHOT_UNAVAILABLE before the first install */
  acquire(): SnapshotLease {
    const entry = this.current;
    if (!entry)
      throw new WorkerError('WRK_SNAPSHOT_UNAVAILABLE', 'no vulnerability database is installed yet');
    entry.leases++;
    let released = false;
    return {
      reader: entry.reader,
      version: entry.version,
      release: () => {
        if (released) return;
        released = true;
        entry.leases--;
        if (entry.retired && entry.leases === 0) this.dispose(entry);
      },
    };
  }

  /** Closes the current snapshot once released (call after the jobs ended); its file stays for the next start. */
  close(): void {
    if (!this.current) return;
    this.current.owned = false;
    this.retire(this.current);
    this.current = null;
  }

  private retire(entry: Entry): void {
    entry.retired = true;
    if (entry.leases === 0) this.dispose(entry);
    else this.retiring.add(entry);
  }

  private dispose(entry: Entry): void {
    this.retiring.delete(entry);
    entry.reader.close();
    if (!entry.owned) return;
    rm(entry.path, { force: true }).catch((err: unknown) =>
      this.logger.warn({ err, path: entry.path }, 'old snapshot not removed'),
    );
  }
}
