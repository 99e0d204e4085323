/**
 * OCI image layout source (https://github.com/opencontainers/image-spec/blob/main/image-layout.md):
 * a directory with oci-layout + index.json + blobs/<alg>/<hex>, or a tar (or gzipped tar) of one.
 * Manifest and config blobs are digest-checked when read; layer streams are checked as they stream.
 */
import { EngineError } from '../../errors.js';
import { DEFAULT_PLATFORM, parsePlatform, type ImageSource, type Platform } from '../types.js';
import { dirBlobStore, type BlobStore } from './blob-store.js';
import { blobPath } from './digest.js';
import { dockerSourceFromStore } from './docker-archive.js';
import { validateImageConfig } from './image-config.js';
import { parseImageManifest, parseIndex, type Descriptor } from './oci-manifest.js';
import { CONTAINERD_NAME, formatPlatform, platformMatches, selectManifest } from './oci-select.js';
import { prepareArchive, statSource } from './prepare.js';
import { MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, readJson } from './read-json.js';
import { makeSource, storedLayer } from './source.js';

export interface OciLayoutOptions {
  /** `os/arch[/variant]` or a Platform; default linux/amd64, else the only image. */
  platform?: Platform | string;
  /** Image to take, matched against `org.opencontainers.image.ref.name` (or `io.containerd.image.name`). */
  ref?: string;
  signal?: AbortSignal;
  /** Directory for the decompressed copy of a gzipped layout tar (default os.tmpdir()). */
  tmpDir?: string;
}

/**
 * Opens an OCI layout directory or tar.
 * Errors: ENG_IMAGE_SOURCE_NOT_FOUND (no path, or no image named `ref`), ENG_IMAGE_FORMAT_UNKNOWN
 * (no index.json, not a tar), ENG_IMAGE_ARCHIVE_CORRUPT, ENG_IMAGE_MANIFEST_INVALID,
 * ENG_IMAGE_MANIFEST_TOO_LARGE (over 4 MiB), ENG_IMAGE_MANIFEST_UNSUPPORTED, ENG_IMAGE_MEDIA_TYPE_UNSUPPORTED
 * (artifacts, unknown layer types), ENG_IMAGE_PLATFORM_NOT_FOUND, ENG_IMAGE_BLOB_MISSING (manifest
 * or config; a missing layer fails its open()), ENG_IMAGE_CONFIG_INVALID, ENG_DIGEST_INVALID,
 * ENG_DIGEST_MISMATCH, ENG_INVALID_ARGUMENT (bad platform text, several images and no ref), ENG_ABORTED.
 */
export async function openOciLayout(path: string, options: OciLayoutOptions = {}): Promise<ImageSource> {
  const st = await statSource(path);
  if (st.isDirectory()) {
    return ociSourceFromStore(await dirBlobStore(path, path), {
      ...options,
      name: path,
      cleanup: async () => {},
    });
  }
  const prepared = await prepareArchive(path, options);
  try {
    return await ociSourceFromStore(prepared.store, { ...options, name: path, cleanup: prepared.cleanup });
  } catch (error) {
    await prepared.cleanup();
    throw error;
  }
}

function toPlatform(value: Platform | string | undefined): Platform | undefined {
  if (typeof value !== 'string') return value;
  try {
    return parsePlatform(value);
  } catch (error) {
    throw new EngineError('ENG_INVALID_ARGUMENT', (error as Error).message, { cause: error });
  }
}

/** Builds an OCI layout source from a store. The caller owns `cleanup` until this resolves. */
export async function ociSourceFromStore(
  store: BlobStore,
  options: OciLayoutOptions & { name: string; cleanup: () => Promise<void> },
): Promise<ImageSource> {
  const where = store.label;
  const platform = toPlatform(options.platform);
  if ((await store.size('index.json')) === undefined) {
    throw new EngineError('ENG_IMAGE_FORMAT_UNKNOWN', `${where}: not an OCI image layout (no index.json)`);
  }
  const index = await readJson(store, 'index.json', {
    what: 'index.json',
    maxBytes: MAX_MANIFEST_BYTES,
    tooLarge: 'ENG_IMAGE_MANIFEST_TOO_LARGE',
    invalid: 'ENG_IMAGE_MANIFEST_INVALID',
  });
  const top = parseIndex(index.value, `${where}: index.json`);
  if (top.length === 0 && (await store.size('manifest.json')) !== undefined) {
    // A Docker 25+ `docker save` archive whose index.json lists nothing is still complete through manifest.json.
    return dockerSourceFromStore(store, { ...options, kind: 'oci-layout' });
  }

  const fetchJson = async (d: Descriptor, what: string) =>
    (
      await readJson(store, blobPath(d.digest), {
        what,
        maxBytes: MAX_MANIFEST_BYTES,
        tooLarge: 'ENG_IMAGE_MANIFEST_TOO_LARGE',
        invalid: 'ENG_IMAGE_MANIFEST_INVALID',
        digest: d.digest,
      })
    ).value;
  const selected = await selectManifest(top, {
    ...(options.ref !== undefined ? { ref: options.ref } : {}),
    ...(platform ? { platform } : {}),
    defaultPlatform: DEFAULT_PLATFORM,
    fetch: fetchJson,
    where,
  });
  const { descriptor } = selected;
  const manifestWhere = `${where}: manifest ${descriptor.digest}`;
  const manifest = parseImageManifest(
    await fetchJson(descriptor, 'manifest'),
    descriptor.mediaType,
    manifestWhere,
  );

  const configBlob = await readJson(store, blobPath(manifest.config.digest), {
    what: 'image config',
    maxBytes: MAX_CONFIG_BYTES,
    tooLarge: 'ENG_IMAGE_CONFIG_INVALID',
    invalid: 'ENG_IMAGE_CONFIG_INVALID',
    digest: manifest.config.digest,
  });
  const config = validateImageConfig(
    configBlob.value,
    `${where}: config ${manifest.config.digest}`,
    manifest.layers.length,
  );
  if (platform && !descriptor.platform && config.os && config.architecture) {
    const have: Platform = {
      os: config.os,
      architecture: config.architecture,
      ...(config.variant ? { variant: config.variant } : {}),
    };
    if (!platformMatches(have, platform)) {
      throw new EngineError(
        'ENG_IMAGE_PLATFORM_NOT_FOUND',
        `${where}: the image is ${formatPlatform(have)}, not ${formatPlatform(platform)}`,
      );
    }
  }

  const layers = manifest.layers.map((layer, i) =>
    storedLayer(
      store,
      blobPath(layer.digest),
      {
        diffId: config.rootfs.diff_ids[i]!,
        digest: layer.digest,
        mediaType: layer.mediaType,
        ...(layer.size >= 0 ? { size: layer.size } : {}),
      },
      {
        verify: true,
        onMissing: () =>
          new EngineError('ENG_IMAGE_BLOB_MISSING', `${where}: layer blob ${layer.digest} is missing`),
      },
    ),
  );
  const name = selected.top.annotations[CONTAINERD_NAME];
  return makeSource(
    {
      kind: 'oci-layout',
      name: options.name,
      digest: descriptor.digest,
      repoTags: name ? [name] : [],
      repoDigests: [],
      config,
      configDigest: manifest.config.digest,
      layers,
    },
    options.cleanup,
  );
}
