/**
 * Air-gapped intake: a snapshot file dropped into the snapshot directory (the output of `vigil db build --out`,
 * a copy carried across) under any name ending in `.db` that is not a published `<version>.db` is picked up.
 * A file is taken once its size and modification time held still between two scans, so a copy in progress is
 * left alone; it is verified (the version recomputed from its rows), moved to `<version>.db`, and becomes
 * current when its build is newer than the current snapshot's. A file that is not a usable snapshot is renamed
 * `<name>.rejected`, so it is not tried again, and the failure is reported to the caller.
 */
import { readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { SnapshotStore } from './snapshot-store.js';
import { errorOf, type SyncError } from './sync-status.js';

/** What became of one dropped file. */
export interface IntakeResult {
  file: string;
  /** the published version (absent when the file was rejected) */
  version?: string;
  /** true when it became the current snapshot */
  current?: boolean;
  error?: SyncError;
}

/** Watches the directory for drops; `scan()` is called under the sync lock. */
export class DropIntake {
  /** name → `size:mtime` at the previous scan */
  private previous = new Map<string, string>();

  constructor(private readonly store: SnapshotStore) {}

  /** Publishes the drops that held still since the previous scan. */
  async scan(): Promise<IntakeResult[]> {
    const names = await readdir(this.store.dir).catch(() => [] as string[]);
    const seen = new Map<string, string>();
    const results: IntakeResult[] = [];
    for (const name of names) {
      if (!name.endsWith('.db') || name.startsWith('.')) continue;
      if (await this.store.manifest(name.slice(0, -'.db'.length))) continue;
      const s = await this.store.statOf(name);
      if (!s) continue;
      const state = `${s.size}:${s.mtimeMs}`;
      if (this.previous.get(name) !== state) {
        seen.set(name, state);
        continue;
      }
      results.push(await this.take(name));
    }
    this.previous = seen;
    return results;
  }

  private async take(name: string): Promise<IntakeResult> {
    const path = join(this.store.dir, name);
    try {
      const { manifest, current } = await this.store.publish(path, {
        origin: 'import',
        makeCurrent: 'if-newer',
        verify: true,
        move: true,
      });
      return { file: name, version: manifest.version, current };
    } catch (e) {
      await rename(path, `${path}.rejected`).catch(() => undefined);
      return { file: name, error: errorOf(e) };
    }
  }
}
