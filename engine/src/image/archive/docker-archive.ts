/**
 * docker-archive source: the output of `docker save` (plain or gzipped tar). Legacy archives
 * (`<id>/layer.tar`, Docker < 25) and Docker 25+ archives (an OCI layout plus manifest.json whose
 * Layers point at blobs/sha256/<hex>) are both read through manifest.json.
 */
import { createHash } from 'node:crypto';
import { EngineError, throwIfAborted } from '../../errors.js';
import type { ImageSource, LayerDescriptor } from '../types.js';
import type { BlobStore } from './blob-store.js';
import { parseDockerManifest, selectDockerEntry } from './docker-manifest.js';
import { validateImageConfig } from './image-config.js';
import { prepareArchive } from './prepare.js';
import { MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, readJson } from './read-json.js';
import { makeSource, storedLayer } from './source.js';

export interface DockerArchiveOptions {
  signal?: AbortSignal;
  /** Directory for the decompressed copy of a gzipped archive (default os.tmpdir()). */
  tmpDir?: string;
  /** Image to take from a multi-image archive, matched against RepoTags (`alpine:3.10`); default the first. */
  ref?: string;
}

/**
 * Opens a `docker save` archive.
 * Errors: ENG_IMAGE_SOURCE_NOT_FOUND (no file, or no image tagged `ref`), ENG_IMAGE_FORMAT_UNKNOWN
 * (not a tar, or no manifest.json), ENG_IMAGE_ARCHIVE_CORRUPT, ENG_IMAGE_MANIFEST_INVALID,
 * ENG_IMAGE_MANIFEST_TOO_LARGE, ENG_IMAGE_BLOB_MISSING (config or layer), ENG_IMAGE_CONFIG_INVALID,
 * ENG_DIGEST_MISMATCH (config), ENG_ABORTED. Layer streams fail with ENG_DIGEST_MISMATCH when
 * the layer does not hash to its digest. close() removes the temp copy of a gzipped archive.
 */
export async function openDockerArchive(
  path: string,
  options: DockerArchiveOptions = {},
): Promise<ImageSource> {
  const prepared = await prepareArchive(path, options);
  try {
    return await dockerSourceFromStore(prepared.store, {
      name: path,
      kind: 'docker-archive',
      ...options,
      cleanup: prepared.cleanup,
    });
  } catch (error) {
    await prepared.cleanup();
    throw error;
  }
}

/** Content digest implied by a content-addressed name (`blobs/sha256/<hex>` or `<hex>.json`). */
function digestFromName(name: string): string | undefined {
  const m = /^(?:blobs\/sha256\/([a-f0-9]{64})|([a-f0-9]{64})\.json)$/.exec(name);
  const hex = m?.[1] ?? m?.[2];
  return hex ? `sha256:${hex}` : undefined;
}

const isCompressed = (head: Buffer) =>
  (head[0] === 0x1f && head[1] === 0x8b) ||
  (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd);

/**
 * Builds a docker-archive source from an archive store (also used for Docker 25+ OCI layouts
 * whose index.json lists nothing). The caller owns `cleanup` until this resolves.
 */
export async function dockerSourceFromStore(
  store: BlobStore,
  options: {
    name: string;
    kind: ImageSource['kind'];
    ref?: string;
    signal?: AbortSignal;
    cleanup: () => Promise<void>;
  },
): Promise<ImageSource> {
  const where = store.label;
  if ((await store.size('manifest.json')) === undefined) {
    throw new EngineError('ENG_IMAGE_FORMAT_UNKNOWN', `${where}: not a docker-archive (no manifest.json)`);
  }
  const manifest = await readJson(store, 'manifest.json', {
    what: 'manifest.json',
    maxBytes: MAX_MANIFEST_BYTES,
    tooLarge: 'ENG_IMAGE_MANIFEST_TOO_LARGE',
    invalid: 'ENG_IMAGE_MANIFEST_INVALID',
  });
  const entry = selectDockerEntry(parseDockerManifest(manifest.value, where), where, options.ref);
  const configDigestHint = digestFromName(entry.config);
  const config = await readJson(store, entry.config, {
    what: 'image config',
    maxBytes: MAX_CONFIG_BYTES,
    tooLarge: 'ENG_IMAGE_CONFIG_INVALID',
    invalid: 'ENG_IMAGE_CONFIG_INVALID',
    ...(configDigestHint ? { digest: configDigestHint } : {}),
  });
  const imageConfig = validateImageConfig(config.value, `${where}: ${entry.config}`, entry.layers.length);

  const layers: LayerDescriptor[] = [];
  for (const [i, name] of entry.layers.entries()) {
    throwIfAborted(options.signal);
    const missing = () => new EngineError('ENG_IMAGE_BLOB_MISSING', `${where}: layer ${name} is missing`);
    const size = await store.size(name);
    if (size === undefined) throw missing();
    const diffId = imageConfig.rootfs.diff_ids[i]!;
    const source = entry.layerSources.get(diffId);
    let digest = source?.digest ?? diffId;
    let verify = true;
    // Classic archives hold uncompressed layers (blob = diffID); some tools store them compressed.
    if (!source && isCompressed(await store.head(name, 4))) {
      // The stored blob's digest is not recorded anywhere; hashing every layer at open would cost
      // a full read even when the layer cache answers. Take it from a content-addressed file name
      // (`blobs/sha256/<hex>`) when there is one, else leave it unknown (''): nothing keys on it.
      digest = digestFromName(name) ?? '';
      verify = false;
    }
    const fields = { diffId, digest, mediaType: source?.mediaType ?? '', size };
    layers.push(storedLayer(store, name, fields, { verify, onMissing: missing }));
  }
  return makeSource(
    {
      kind: options.kind,
      name: options.name,
      repoTags: entry.repoTags,
      repoDigests: [],
      config: imageConfig,
      configDigest: configDigestHint ?? `sha256:${createHash('sha256').update(config.bytes).digest('hex')}`,
      layers,
    },
    options.cleanup,
  );
}
