/**
 * Turns a local archive path into an indexed plain tar: a gzip-compressed archive (detected by
 * its magic bytes, never by its name) is decompressed once into a private temp directory that
 * `cleanup()` removes; a plain tar is indexed in place.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { EngineError, isEngineError, throwIfAborted } from '../../errors.js';
import { tarBlobStore, type BlobStore } from './blob-store.js';
import { indexTar, type TarIndex } from './tar-index.js';

export interface PrepareOptions {
  signal?: AbortSignal;
  /** Where a decompressed copy goes (default os.tmpdir()). */
  tmpDir?: string;
}

export interface PreparedArchive {
  index: TarIndex;
  store: BlobStore;
  /** Removes the decompressed copy, if any. Idempotent. */
  cleanup(): Promise<void>;
}

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

async function sniff(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(4);
    const { bytesRead } = await fh.read(buf, 0, 4, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

const startsWith = (buf: Buffer, magic: number[]) => magic.every((b, i) => buf[i] === b);

/** Throws ENG_IMAGE_SOURCE_NOT_FOUND unless `path` exists; returns its stat. */
export async function statSource(path: string) {
  try {
    return await stat(path);
  } catch (error) {
    throw new EngineError('ENG_IMAGE_SOURCE_NOT_FOUND', `${path}: no such file or directory`, {
      cause: error,
    });
  }
}

/**
 * Indexes the tar (or gzipped tar) file at `path`.
 * Errors: ENG_IMAGE_SOURCE_NOT_FOUND, ENG_IMAGE_FORMAT_UNKNOWN (not a tar, or zstd-compressed),
 * ENG_IMAGE_ARCHIVE_CORRUPT (truncated tar or broken gzip stream), ENG_ABORTED.
 */
export async function prepareArchive(path: string, options: PrepareOptions = {}): Promise<PreparedArchive> {
  const st = await statSource(path);
  if (!st.isFile()) throw new EngineError('ENG_IMAGE_FORMAT_UNKNOWN', `${path}: not a regular file`);
  throwIfAborted(options.signal);
  const magic = await sniff(path);
  if (startsWith(magic, ZSTD_MAGIC)) {
    throw new EngineError(
      'ENG_IMAGE_FORMAT_UNKNOWN',
      `${path}: zstd-compressed archives are not supported; decompress it first`,
    );
  }
  if (!startsWith(magic, GZIP_MAGIC)) {
    const index = await indexTar(path, options.signal);
    return { index, store: tarBlobStore(index, path), cleanup: async () => {} };
  }

  const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'vigil-archive-'));
  let removed = false;
  const cleanup = async () => {
    if (removed) return;
    removed = true;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const tarPath = join(dir, 'archive.tar');
    try {
      await pipeline(createReadStream(path), createGunzip(), createWriteStream(tarPath), {
        signal: options.signal,
      });
    } catch (error) {
      throwIfAborted(options.signal);
      throw new EngineError(
        'ENG_IMAGE_ARCHIVE_CORRUPT',
        `${path}: gzip stream is corrupt: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    const index = await indexTar(tarPath, options.signal).catch((error: unknown) => {
      // messages should name the user's file, not our temp copy
      if (isEngineError(error))
        throw new EngineError(error.code, error.message.replace(tarPath, `${path} (decompressed)`), {
          cause: error,
        });
      throw error;
    });
    return { index, store: tarBlobStore(index, path), cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
