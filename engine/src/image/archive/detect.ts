/**
 * Content-based detection of a local image path and the dispatching opener used by the CLI's
 * `--input` and `scanImage({input})`. File names and extensions are never trusted.
 */
import { EngineError } from '../../errors.js';
import { openRootfs } from '../rootfs/index.js';
import type { ImageSource, Platform } from '../types.js';
import { dirBlobStore, type BlobStore } from './blob-store.js';
import { dockerSourceFromStore } from './docker-archive.js';
import { ociSourceFromStore } from './oci-layout.js';
import { prepareArchive, statSource, type PreparedArchive } from './prepare.js';

export type LocalSourceKind = 'docker-archive' | 'oci-layout' | 'rootfs';

export interface LocalImageOptions {
  /** Image inside a multi-image archive/layout: RepoTags for docker-archives, ref.name for OCI layouts. */
  ref?: string;
  /** For OCI layouts holding several platforms (default linux/amd64). */
  platform?: Platform | string;
  signal?: AbortSignal;
  tmpDir?: string;
}

async function kindOfStore(store: BlobStore): Promise<LocalSourceKind | undefined> {
  if ((await store.size('manifest.json')) !== undefined) return 'docker-archive';
  if ((await store.size('index.json')) !== undefined && (await store.size('oci-layout')) !== undefined)
    return 'oci-layout';
  return undefined;
}

type Probe =
  | { kind: 'rootfs' }
  | { kind: 'oci-dir'; store: BlobStore }
  | { kind: LocalSourceKind; archive: PreparedArchive };

async function probe(path: string, options: LocalImageOptions): Promise<Probe> {
  const st = await statSource(path);
  if (st.isDirectory()) {
    const store = await dirBlobStore(path, path);
    return (await store.size('oci-layout')) !== undefined ? { kind: 'oci-dir', store } : { kind: 'rootfs' };
  }
  const archive = await prepareArchive(path, options);
  const kind = await kindOfStore(archive.store);
  if (!kind) {
    await archive.cleanup();
    throw new EngineError(
      'ENG_IMAGE_FORMAT_UNKNOWN',
      `${path}: a tar archive, but neither a docker-archive (manifest.json) nor an OCI layout (oci-layout, index.json)`,
    );
  }
  return { kind, archive };
}

/**
 * Tells what a local path holds: a directory with an `oci-layout` file → 'oci-layout'; another
 * directory → 'rootfs'; a tar or gzipped tar with manifest.json → 'docker-archive' (Docker 25+
 * archives, which are also OCI layouts, count as docker-archives); with oci-layout and
 * index.json only → 'oci-layout'.
 * Errors: ENG_IMAGE_SOURCE_NOT_FOUND, ENG_IMAGE_FORMAT_UNKNOWN, ENG_IMAGE_ARCHIVE_CORRUPT, ENG_ABORTED.
 */
export async function detectLocalSource(
  path: string,
  options: Pick<LocalImageOptions, 'signal' | 'tmpDir'> = {},
): Promise<LocalSourceKind> {
  const found = await probe(path, options);
  if (found.kind === 'oci-dir') return 'oci-layout';
  if ('archive' in found) await found.archive.cleanup();
  return found.kind;
}

/**
 * Opens a local image path of any kind `detectLocalSource` knows, decompressing a gzipped
 * archive only once. Errors: those of detectLocalSource, openDockerArchive, openOciLayout and openRootfs.
 */
export async function openLocalImage(path: string, options: LocalImageOptions = {}): Promise<ImageSource> {
  const found = await probe(path, options);
  if (found.kind === 'rootfs') return openRootfs(path);
  if (found.kind === 'oci-dir')
    return ociSourceFromStore(found.store, { ...options, name: path, cleanup: async () => {} });
  const { archive } = found;
  try {
    if (found.kind === 'docker-archive') {
      return await dockerSourceFromStore(archive.store, {
        ...options,
        name: path,
        kind: 'docker-archive',
        cleanup: archive.cleanup,
      });
    }
    return await ociSourceFromStore(archive.store, { ...options, name: path, cleanup: archive.cleanup });
  } catch (error) {
    await archive.cleanup();
    throw error;
  }
}
