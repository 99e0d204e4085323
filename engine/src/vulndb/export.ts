/**
 * Air-gapped transfer: `db export` packs a snapshot and a manifest into a .tar.gz; `db import`
 * unpacks it next to the target, verifies it, and swaps it in atomically.
 *
 * Archive layout (tar, gzip): `manifest.json` first, then `vigil.db`.
 * Manifest: { format: "vigil-db-export", formatVersion: 1, file: "vigil.db", version (the
 * snapshot's content hash), schemaVersion, builtAt, size, sha256 (of the file bytes) }.
 * Import checks the file's size and sha256 against the manifest, that the snapshot's stored version
 * equals the manifest's, that the version recomputed from the rows equals both, and that the
 * derived data (package key filter, clear-above versions, vulnerability summaries) is what its
 * rows give.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { EngineError, isEngineError } from '../errors.js';
import { commitTemp, tempPathFor } from './atomic-file.js';
import { clearAboveMatches, keyFilterMatches } from './affected-pack.js';
import { recomputeVersion } from './content-hash.js';
import { acquireDbLock } from './lock.js';
import { guardSqlite, openSnapshotDatabase, readMeta } from './snapshot-file.js';
import { summariesMatch } from './summary-table.js';
import type { SnapshotMeta } from './types.js';

export const EXPORT_FORMAT = 'vigil-db-export';
const DB_ENTRY = 'vigil.db';
const MANIFEST_ENTRY = 'manifest.json';
const MAX_MANIFEST = 1 << 20;

export interface ExportManifest {
  format: typeof EXPORT_FORMAT;
  formatVersion: 1;
  file: typeof DB_ENTRY;
  version: string;
  schemaVersion: number;
  builtAt: string;
  size: number;
  sha256: string;
}

async function fileDigest(path: string): Promise<{ sha256: string; size: number; ino: number }> {
  const handle = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of handle.createReadStream({ autoClose: false }) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
    }
    return { sha256: hash.digest('hex'), size, ino: (await handle.stat()).ino };
  } finally {
    await handle.close();
  }
}

/** Reads and checks a snapshot's metadata, recomputing the version from its rows. @throws ENG_DB_* */
export function verifySnapshot(path: string): SnapshotMeta {
  const db = openSnapshotDatabase(path);
  try {
    const meta = readMeta(db, path);
    const { version, mismatched } = guardSqlite(path, () =>
      recomputeVersion(db, path, meta.schemaVersion, meta.sources),
    );
    if (version !== meta.version || mismatched.length)
      throw new EngineError(
        'ENG_DB_CORRUPT',
        `${path}: content does not match its version ${meta.version}${mismatched.length ? ` (sources ${mismatched.join(', ')})` : ''}`,
      );
    if (!guardSqlite(path, () => keyFilterMatches(db, path)))
      throw new EngineError('ENG_DB_CORRUPT', `${path}: its package key filter does not match its rows`);
    if (!guardSqlite(path, () => clearAboveMatches(db)))
      throw new EngineError(
        'ENG_DB_CORRUPT',
        `${path}: its open entries or clear-above versions do not match its rows`,
      );
    if (!guardSqlite(path, () => summariesMatch(db)))
      throw new EngineError('ENG_DB_CORRUPT', `${path}: its vulnerability summaries do not match its rows`);
    return meta;
  } finally {
    db.close();
  }
}

/**
 * Writes `out` (.tar.gz) holding the snapshot `db` and its manifest; `out` is replaced atomically.
 * @throws ENG_DB_NOT_FOUND, ENG_DB_CORRUPT, ENG_DB_SCHEMA_UNSUPPORTED (db unusable)
 */
export async function exportSnapshot(options: { db: string; out: string }): Promise<ExportManifest> {
  const db = openSnapshotDatabase(options.db);
  let meta: SnapshotMeta;
  try {
    meta = readMeta(db, options.db);
  } finally {
    db.close();
  }
  const digest = await fileDigest(options.db);
  // an update renamed a new file over the path meanwhile: export that one instead
  if ((await stat(options.db)).ino !== digest.ino) return exportSnapshot(options);
  const manifest: ExportManifest = {
    format: EXPORT_FORMAT,
    formatVersion: 1,
    file: DB_ENTRY,
    version: meta.version,
    schemaVersion: meta.schemaVersion,
    builtAt: meta.builtAt,
    size: digest.size,
    sha256: digest.sha256,
  };
  await mkdir(dirname(options.out), { recursive: true });
  const temp = tempPathFor(options.out);
  try {
    const pack = tar.pack();
    const written = pipeline(pack, createGzip(), createWriteStream(temp));
    pack.entry({ name: MANIFEST_ENTRY, mode: 0o644 }, JSON.stringify(manifest, null, 2) + '\n');
    const entry = pack.entry({ name: DB_ENTRY, size: digest.size, mode: 0o644 });
    await pipeline(createReadStream(options.db), entry);
    pack.finalize();
    await written;
    await commitTemp(temp, options.out);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
  return manifest;
}

function parseManifest(text: string, archive: string): ExportManifest {
  let m: Partial<ExportManifest>;
  try {
    m = JSON.parse(text) as Partial<ExportManifest>;
  } catch (e) {
    throw new EngineError('ENG_DB_CORRUPT', `${archive}: manifest.json is not JSON`, { cause: e });
  }
  if (
    m?.format !== EXPORT_FORMAT ||
    m.formatVersion !== 1 ||
    typeof m.sha256 !== 'string' ||
    typeof m.version !== 'string' ||
    typeof m.size !== 'number'
  )
    throw new EngineError('ENG_DB_CORRUPT', `${archive}: not a Vigil database export (manifest)`);
  return m as ExportManifest;
}

/**
 * Verifies the export `archive` and installs its snapshot at `db` (atomically, under the update lock).
 * @throws ENG_DB_NOT_FOUND (no archive), ENG_DB_CORRUPT (not an export, hash or size mismatch,
 *   damaged snapshot), ENG_DB_SCHEMA_UNSUPPORTED, ENG_DB_LOCKED
 */
export async function importSnapshot(options: { archive: string; db: string }): Promise<SnapshotMeta> {
  if (!(await stat(options.archive).catch(() => undefined))?.isFile())
    throw new EngineError('ENG_DB_NOT_FOUND', `no export archive at ${options.archive}`);
  await mkdir(dirname(options.db), { recursive: true });
  const temp = tempPathFor(options.db);
  try {
    let manifest: ExportManifest | undefined;
    let file: { sha256: string; size: number } | undefined;
    const extract = tar.extract();
    const input = pipeline(createReadStream(options.archive), createGunzip(), extract);
    // its failure surfaces through the entry loop too; awaited below
    input.catch(() => undefined);
    try {
      for await (const entry of extract) {
        const stream = entry as unknown as Readable;
        if (entry.header.name === MANIFEST_ENTRY && (entry.header.size ?? 0) <= MAX_MANIFEST) {
          const chunks: Buffer[] = [];
          for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
          manifest = parseManifest(Buffer.concat(chunks).toString('utf8'), options.archive);
        } else if (entry.header.name === DB_ENTRY && entry.header.type === 'file') {
          const hash = createHash('sha256');
          let size = 0;
          const tap = new Transform({
            transform(chunk: Buffer, _enc, cb) {
              hash.update(chunk);
              size += chunk.length;
              cb(null, chunk);
            },
          });
          await pipeline(stream, tap, createWriteStream(temp));
          file = { sha256: hash.digest('hex'), size };
        } else {
          stream.resume();
        }
      }
      await input;
    } catch (e) {
      if (e instanceof EngineError) throw e;
      throw new EngineError(
        'ENG_DB_CORRUPT',
        `${options.archive}: not a readable .tar.gz (${(e as Error).message})`,
        {
          cause: e,
        },
      );
    }
    if (!manifest || !file)
      throw new EngineError(
        'ENG_DB_CORRUPT',
        `${options.archive}: missing ${manifest ? DB_ENTRY : MANIFEST_ENTRY}`,
      );
    if (file.size !== manifest.size || file.sha256 !== manifest.sha256)
      throw new EngineError(
        'ENG_DB_CORRUPT',
        `${options.archive}: ${DB_ENTRY} has sha256 ${file.sha256} (${file.size} bytes), the manifest says ${manifest.sha256} (${manifest.size} bytes)`,
      );
    let meta: SnapshotMeta;
    try {
      meta = verifySnapshot(temp);
    } catch (e) {
      if (!isEngineError(e)) throw e;
      throw new EngineError(e.code, `${options.archive}: ${e.message.split(temp).join(DB_ENTRY)}`, {
        cause: e,
      });
    }
    if (meta.version !== manifest.version)
      throw new EngineError(
        'ENG_DB_CORRUPT',
        `${options.archive}: snapshot version ${meta.version} differs from the manifest's ${manifest.version}`,
      );
    const lock = await acquireDbLock(options.db);
    try {
      await commitTemp(temp, options.db);
    } finally {
      await lock.release();
    }
    return meta;
  } finally {
    await rm(temp, { force: true });
  }
}
