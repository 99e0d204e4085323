/**
 * The control plane's snapshot directory. Every published vulnerability-database snapshot is kept as
 * `<version>.db` (the version is the engine's content hash, so a name never changes meaning) with a
 * `<version>.json` manifest beside it (size and SHA-256 of the file bytes, build time, origin), and
 * `current.json` names the snapshot scans are scheduled against and workers fetch. Named files are never
 * written again: every change is a complete temporary file renamed into place, so a reader sees the old
 * state or the new one, never half of either. Control-plane replicas may share the directory (a shared
 * volume); only the holder of the sync lock writes to it (db-sync.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readSnapshotMeta, verifySnapshot, type SnapshotMeta } from '@vigil/engine/db';

/** How a snapshot reached the directory. */
export type SnapshotOrigin = 'seed' | 'update' | 'import' | 'upload';

/** What the directory records of one published snapshot (`<version>.json`). */
export interface SnapshotManifest {
  /** the engine's content hash: also the file name and the HTTP ETag */
  version: string;
  /** SHA-256 (hex) of the file's bytes, what a download is checked against */
  sha256: string;
  size: number;
  schemaVersion: number;
  builtAt: string;
  origin: SnapshotOrigin;
  publishedAt: string;
}

/** A snapshot as the control plane serves it: its manifest, its file and its metadata. */
export interface PublishedSnapshot {
  manifest: SnapshotManifest;
  path: string;
  meta: SnapshotMeta;
}

export interface PublishOptions {
  origin: SnapshotOrigin;
  /** `always` (an update, an upload), or only when its build is newer than the current one (a seed, a drop) */
  makeCurrent: 'always' | 'if-newer';
  /** recompute the version from the rows (files from outside: drops, uploads) instead of reading it */
  verify: boolean;
  /** move the file into the directory instead of linking or copying it (a drop, an upload's temporary file) */
  move?: boolean;
}

const VERSION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const CURRENT = 'current.json';

/** True for a string that can be a published version (and so a file name). */
export function isVersion(value: string): boolean {
  return VERSION.test(value) && !value.includes('..');
}

/** SHA-256 (hex) and size of a file's bytes. */
export async function fileDigest(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest('hex'), size };
}

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** The snapshot directory. Methods that write are called by the sync lock's holder only. */
export class SnapshotStore {
  constructor(readonly dir: string) {}

  /** A fresh temporary path inside the directory (ignored by readers and by the drop intake). */
  tempPath(label: string): string {
    return join(this.dir, `.${label}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  }

  pathOf(version: string): string {
    return join(this.dir, `${version}.db`);
  }

  async manifest(version: string): Promise<SnapshotManifest | null> {
    if (!isVersion(version)) return null;
    const manifest = await readJson<SnapshotManifest>(join(this.dir, `${version}.json`));
    // other JSON files of the directory (current.json, sync-status.json) are no manifests
    return manifest?.version === version ? manifest : null;
  }

  /** The version `current.json` names, or null before the first publication. */
  async currentVersion(): Promise<string | null> {
    return (await readJson<{ version: string }>(join(this.dir, CURRENT)))?.version ?? null;
  }

  /** The current snapshot with its metadata, or null when there is none. @throws ENG_DB_* when its file is damaged */
  async current(): Promise<PublishedSnapshot | null> {
    const version = await this.currentVersion();
    return version === null ? null : this.published(version);
  }

  /** A published snapshot by version, or null when the directory has none of that version. */
  async published(version: string): Promise<PublishedSnapshot | null> {
    const manifest = await this.manifest(version);
    if (!manifest) return null;
    const path = this.pathOf(version);
    return { manifest, path, meta: readSnapshotMeta(path) };
  }

  /** Every published manifest, newest build first. */
  async list(): Promise<SnapshotManifest[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const manifests = await Promise.all(
      names
        .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
        .map((n) => this.manifest(n.slice(0, -'.json'.length))),
    );
    return manifests
      .filter((m): m is SnapshotManifest => m !== null)
      .sort((a, b) => b.builtAt.localeCompare(a.builtAt) || b.publishedAt.localeCompare(a.publishedAt));
  }

  /**
   * Publishes the snapshot file `source` under its version (a version already published keeps its file: names
   * are immutable) and makes it current as `options.makeCurrent` says.
   * @throws ENG_DB_NOT_FOUND, ENG_DB_CORRUPT, ENG_DB_SCHEMA_UNSUPPORTED when `source` is not a usable snapshot
   */
  async publish(
    source: string,
    options: PublishOptions,
  ): Promise<{ manifest: SnapshotManifest; current: boolean; added: boolean }> {
    await mkdir(this.dir, { recursive: true });
    const meta = options.verify ? verifySnapshot(source) : readSnapshotMeta(source);
    if (!isVersion(meta.version)) {
      throw new Error(`snapshot version ${JSON.stringify(meta.version)} cannot name a file`);
    }
    let manifest = await this.manifest(meta.version);
    const added = manifest === null;
    if (manifest === null) {
      const temp = this.tempPath('publish');
      try {
        await this.place(source, temp, options.move === true);
        const digest = await fileDigest(temp);
        manifest = {
          version: meta.version,
          ...digest,
          schemaVersion: meta.schemaVersion,
          builtAt: meta.builtAt,
          origin: options.origin,
          publishedAt: new Date().toISOString(),
        };
        await rename(temp, this.pathOf(meta.version));
        await this.writeAtomically(`${meta.version}.json`, manifest);
      } finally {
        await rm(temp, { force: true });
      }
    } else if (options.move) {
      await rm(source, { force: true });
    }
    const current = await this.currentManifest();
    const makeCurrent =
      options.makeCurrent === 'always' || current === null || manifest.builtAt > current.builtAt;
    if (makeCurrent && current?.version !== manifest.version) await this.setCurrent(manifest.version);
    return { manifest, current: makeCurrent || current?.version === manifest.version, added };
  }

  /** Names `version` (published) as the current snapshot. */
  async setCurrent(version: string): Promise<void> {
    await this.writeAtomically(CURRENT, { version, since: new Date().toISOString() });
  }

  /**
   * Removes published snapshots beyond the `keep` newest builds, never the current one. Workers still matching
   * with a removed file keep their open copy; one still downloading it fails and fetches the current one.
   */
  async prune(keep: number): Promise<string[]> {
    const current = await this.currentVersion();
    const removed: string[] = [];
    for (const m of (await this.list()).slice(keep)) {
      if (m.version === current) continue;
      await rm(join(this.dir, `${m.version}.json`), { force: true });
      await rm(this.pathOf(m.version), { force: true });
      removed.push(m.version);
    }
    return removed;
  }

  private async currentManifest(): Promise<SnapshotManifest | null> {
    const version = await this.currentVersion();
    return version === null ? null : this.manifest(version);
  }

  /** Puts `source`'s bytes at `target`: a rename (move), else a hard link, else a copy (another filesystem). */
  private async place(source: string, target: string, move: boolean): Promise<void> {
    if (move) {
      try {
        return await rename(source, target);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
        await copyFile(source, target);
        return void (await rm(source, { force: true }));
      }
    }
    try {
      await link(source, target);
    } catch {
      await copyFile(source, target);
    }
  }

  private async writeAtomically(name: string, value: unknown): Promise<void> {
    const temp = this.tempPath(name);
    try {
      await writeFile(temp, JSON.stringify(value, null, 2) + '\n');
      await rename(temp, join(this.dir, name));
    } finally {
      await rm(temp, { force: true });
    }
  }

  /** Size and modification time of a file in the directory, or null when it is gone. */
  async statOf(name: string): Promise<{ size: number; mtimeMs: number } | null> {
    const s = await stat(join(this.dir, name)).catch(() => null);
    return s?.isFile() ? { size: s.size, mtimeMs: s.mtimeMs } : null;
  }
}
