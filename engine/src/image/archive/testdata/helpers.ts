/** Test helpers: hashing streams, hand-made docker archives, temp files. */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Readable } from 'node:stream';
import type { ImageSource } from '../../types.js';
import { tar, type RawEntry } from './tar-writer.js';

export const sha256 = (bytes: string | Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** sha256 of everything a stream yields (rejects with the stream's error). */
export async function hashStream(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/** The plain-data view of a source (functions dropped) for whole-structure comparisons. */
export function describeSource(source: ImageSource) {
  const { close: _close, config, layers, ...rest } = source;
  return {
    ...rest,
    arch: config?.architecture,
    diffIds: config?.rootfs.diff_ids,
    layers: layers.map(({ open: _open, ...l }) => l),
  };
}

/** Opens every layer and returns the sha256 of each stream. */
export async function hashLayers(source: ImageSource): Promise<string[]> {
  const out: string[] = [];
  for (const layer of source.layers) out.push(await hashStream(await layer.open()));
  return out;
}

/** A small uncompressed layer tar holding the given files. */
export function layerTar(files: Record<string, string>): Buffer {
  return tar(Object.entries(files).map(([name, body]) => ({ name, body })));
}

export interface HandImage {
  tags?: string[];
  layers: Record<string, string>[];
  /** Override config fields (e.g. a wrong diff_ids list). */
  config?: Record<string, unknown>;
}

/**
 * A legacy docker-archive (Docker < 25 layout) built by hand: `<config-hex>.json`,
 * `<n>/layer.tar`, manifest.json. `mutate` can change the entries before writing.
 */
export function handDockerArchive(images: HandImage[], mutate?: (entries: RawEntry[], manifest: unknown[]) => void): Buffer {
  const entries: RawEntry[] = [];
  const manifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  images.forEach((image, i) => {
    const layers = image.layers.map(layerTar);
    const config = JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l)) },
      ...image.config,
    });
    const configName = `${sha256(config).slice(7)}.json`;
    entries.push({ name: configName, body: config });
    const layerNames = layers.map((l, j) => {
      const name = `img${i}-layer${j}/layer.tar`;
      entries.push({ name, body: l });
      return name;
    });
    manifest.push({ Config: configName, RepoTags: image.tags ?? [], Layers: layerNames });
  });
  mutate?.(entries, manifest);
  if (!entries.some((e) => e.name === 'manifest.json')) entries.push({ name: 'manifest.json', body: JSON.stringify(manifest) });
  return tar(entries);
}

/** Copies a directory tree with fresh, writable files (realdata is read-only). */
export async function copyWritable(src: string, dst: string): Promise<void> {
  await mkdir(dst, { recursive: true });
  for (const entry of await readdir(src, { withFileTypes: true })) {
    if (entry.isDirectory()) await copyWritable(join(src, entry.name), join(dst, entry.name));
    else await writeFile(join(dst, entry.name), await readFile(join(src, entry.name)));
  }
}

export interface LayoutImage {
  manifest: Buffer;
  /** Descriptor of the manifest for index.json. */
  descriptor: { mediaType: string; digest: string; size: number; annotations?: Record<string, string>; platform?: Record<string, string> };
  blobs: Buffer[];
}

/** An OCI image (gzip layers) as blobs: config, manifest and layer blobs with consistent digests. */
export function ociImage(layerFiles: Record<string, string>[], options: { arch?: string; annotations?: Record<string, string>; platform?: Record<string, string> } = {}): LayoutImage {
  const plain = layerFiles.map(layerTar);
  const layers = plain.map((p) => gzipSync(p));
  const config = Buffer.from(JSON.stringify({ architecture: options.arch ?? 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: plain.map((p) => sha256(p)) } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(l), size: l.length })),
    }),
  );
  return {
    manifest,
    descriptor: {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: sha256(manifest),
      size: manifest.length,
      ...(options.annotations ? { annotations: options.annotations } : {}),
      ...(options.platform ? { platform: options.platform } : {}),
    },
    blobs: [config, manifest, ...layers],
  };
}

/** Writes an OCI layout directory: oci-layout, blobs/sha256/<hex> for each blob, index.json. */
export async function writeLayout(dir: string, index: unknown, blobs: Buffer[]): Promise<string> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  for (const blob of blobs) await writeFile(join(dir, 'blobs', 'sha256', sha256(blob).slice(7)), blob);
  await writeFile(join(dir, 'index.json'), typeof index === 'string' ? index : JSON.stringify(index));
  return dir;
}
