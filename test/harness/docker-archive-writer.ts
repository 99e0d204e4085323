/**
 * Writes a `docker save`-style archive from layer tarballs we already have (for example the
 * debootstrap rootfs of debian.ts plus a node_modules tree), without Docker, skopeo or umoci,
 * so large images (GBs) can be assembled in one streaming pass.
 *
 * ```ts
 * import { writeDockerArchive } from '../../test/harness/docker-archive-writer.js';
 * const image = await writeDockerArchive({
 *   out: '/tmp/b1.tar',
 *   layers: [{ tar: rootfsTar, createdBy: 'debootstrap' }, { tar: nodeModulesTar }],
 *   compression: 'gzip',            // or 'none', or { gzipLevel: 1 }
 *   repoTag: 'vigil-bench/b1:latest',
 * });
 * image.layers[0].diffId;           // sha256 of the uncompressed layer
 * ```
 *
 * Archive layout (Docker's legacy format,
 * https://github.com/moby/moby/blob/master/image/spec/v1.2.md#combined-image-json--filesystem-changeset-format):
 * - `<i>/layer.tar` (plain) or `<i>/layer.tar.gz` (gzip): the layers, bottom-up;
 * - `<config-hex>.json`: the image config (`architecture`, `os`, `created`, `config`,
 *   `rootfs.diff_ids` = sha256 of each uncompressed layer, one `history` entry per layer);
 * - `manifest.json`: `[{Config, RepoTags, Layers}]`, written last as `docker save` does.
 *
 * Streaming: each input tar is read once. A plain layer goes straight into the archive while it is
 * hashed (its size comes from stat). A gzip layer is hashed (diffID) while compressed into a temp
 * file beside `out` (the outer tar header needs the compressed size first), then copied into the
 * archive and deleted. Memory stays flat whatever the layer sizes.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { Transform, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack as tarPack, type Pack } from 'tar-stream';

/** One layer: a plain (uncompressed) tar file. */
export interface LayerInput {
  tar: string;
  /** `history[].created_by` for this layer (default `vigil harness layer <i>`). */
  createdBy?: string;
}

/** How layers are stored in the archive: `none` (plain tar), `gzip` (level 6) or gzip at a given level. */
export type LayerCompression = 'none' | 'gzip' | { gzipLevel: number };

export interface DockerArchiveSpec {
  /** Archive path to write (overwritten). */
  out: string;
  /** Layers, bottom-up. */
  layers: readonly LayerInput[];
  compression?: LayerCompression;
  /** RepoTags entry (default `vigil-test/image:latest`). */
  repoTag?: string;
  os?: string;
  architecture?: string;
  /** `created` timestamps (default 2024-01-01T00:00:00Z, so configs are reproducible). */
  created?: string;
}

export interface WrittenLayer {
  /** Archive path of the stored layer. */
  path: string;
  /** sha256 of the uncompressed tar. */
  diffId: string;
  /** sha256 of the stored bytes (equals diffId when stored plain). */
  digest: string;
  uncompressedSize: number;
  storedSize: number;
}

export interface WrittenArchive {
  path: string;
  configDigest: string;
  layers: WrittenLayer[];
}

/** A pass-through stream that hashes and counts what goes through it. */
class Digester extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

function addEntry(
  pack: Pack,
  name: string,
  size: number,
  fill: (entry: Writable) => Promise<void>,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const entry = pack.entry({ name, size, mode: 0o644, mtime: new Date(0), type: 'file' }, (error) =>
      error ? reject(error) : resolve(),
    );
    fill(entry).catch(reject);
  });
}

async function addLayer(
  pack: Pack,
  layer: LayerInput,
  i: number,
  compression: LayerCompression,
  out: string,
): Promise<WrittenLayer> {
  if (compression === 'none') {
    const size = (await stat(layer.tar)).size;
    const digester = new Digester();
    const path = `${i}/layer.tar`;
    await addEntry(pack, path, size, (entry) => pipeline(createReadStream(layer.tar), digester, entry));
    const diffId = digester.digest();
    return { path, diffId, digest: diffId, uncompressedSize: size, storedSize: size };
  }
  const level = compression === 'gzip' ? 6 : compression.gzipLevel;
  const temp = `${out}.layer-${i}.gz.tmp`;
  const raw = new Digester();
  const stored = new Digester();
  try {
    await pipeline(
      createReadStream(layer.tar, { highWaterMark: 1 << 20 }),
      raw,
      createGzip({ level }),
      stored,
      createWriteStream(temp),
    );
    const path = `${i}/layer.tar.gz`;
    await addEntry(pack, path, stored.bytes, (entry) =>
      pipeline(createReadStream(temp, { highWaterMark: 1 << 20 }), entry),
    );
    return {
      path,
      diffId: raw.digest(),
      digest: stored.digest(),
      uncompressedSize: raw.bytes,
      storedSize: stored.bytes,
    };
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * Writes the archive described by `spec` and returns what it wrote (paths, diffIDs, digests, sizes).
 * Throws the underlying fs/zlib error when an input cannot be read or `out` cannot be written
 * (a partial `out` may remain).
 */
export async function writeDockerArchive(spec: DockerArchiveSpec): Promise<WrittenArchive> {
  const compression = spec.compression ?? 'gzip';
  const created = spec.created ?? '2024-01-01T00:00:00Z';
  const pack = tarPack();
  const written = pipeline(pack, createWriteStream(spec.out));
  try {
    const layers: WrittenLayer[] = [];
    for (const [i, layer] of spec.layers.entries())
      layers.push(await addLayer(pack, layer, i, compression, spec.out));
    const config = Buffer.from(
      JSON.stringify({
        architecture: spec.architecture ?? 'amd64',
        os: spec.os ?? 'linux',
        created,
        config: {
          Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
          Cmd: ['/bin/bash'],
        },
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
        history: spec.layers.map((l, i) => ({
          created,
          created_by: l.createdBy ?? `vigil harness layer ${i}`,
        })),
      }),
    );
    const configHex = createHash('sha256').update(config).digest('hex');
    pack.entry({ name: `${configHex}.json`, mtime: new Date(0) }, config);
    const manifest = [
      {
        Config: `${configHex}.json`,
        RepoTags: [spec.repoTag ?? 'vigil-test/image:latest'],
        Layers: layers.map((l) => l.path),
      },
    ];
    pack.entry({ name: 'manifest.json', mtime: new Date(0) }, JSON.stringify(manifest));
    pack.finalize();
    await written;
    return { path: spec.out, configDigest: `sha256:${configHex}`, layers };
  } catch (error) {
    pack.destroy(error as Error);
    await written.catch(() => undefined);
    throw error;
  }
}
