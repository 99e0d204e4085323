/**
 * Registry test images: one OCI layout holding several single-platform images (each built with
 * images.ts `buildOciLayout`, i.e. umoci unpack/repack, so layers are well-formed gzip tars),
 * optionally an OCI image index over them, and `pushOciLayout` (skopeo copy) to put them in a
 * registry. See README.md in this folder.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildOciLayout, makeTempDir, type FileTree, type LayerSpec } from './images.js';
import { run } from './process.js';

export interface PlatformImageSpec {
  /** Tag inside the combined layout. */
  tag: string;
  platform: { os: string; architecture: string; variant?: string };
  /** First layer's files (see images.ts FileTree). */
  files: FileTree;
  /** Further layers (see images.ts LayerSpec). */
  layers?: LayerSpec[];
}

export interface BuiltImage {
  tag: string;
  manifestDigest: string;
  manifestSize: number;
  manifest: {
    mediaType?: string;
    config: { digest: string; size: number };
    layers: { mediaType: string; digest: string; size: number }[];
  };
  configDigest: string;
  config: { architecture: string; os: string; rootfs: { diff_ids: string[] } };
}

export interface MultiPlatformLayout {
  /** The OCI layout directory (inside a `vigil-img-*` temp dir: remove with images.ts removeTemp). */
  dir: string;
  images: Record<string, BuiltImage>;
  /** The OCI index (when asked for): its tag in the layout, digest and bytes. */
  index?: { tag: string; digest: string; size: number; bytes: Buffer };
  /** A blob's bytes as stored in the layout. */
  blob(digest: string): Promise<Buffer>;
}

type IndexJson = {
  schemaVersion: 2;
  manifests: { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }[];
};

const REF_NAME = 'org.opencontainers.image.ref.name';

/** A tiny Alpine-looking root filesystem: etc/os-release and an apk installed db. */
export function alpineLikeFiles(version = '3.19.1', arch = 'x86_64'): FileTree {
  return {
    'etc/os-release': `NAME="Alpine Linux"\nID=alpine\nVERSION_ID=${version}\nPRETTY_NAME="Alpine Linux v3.19"\n`,
    'lib/apk/db/installed': `C:Q1abc=\nP:musl\nV:1.2.4_git20230717-r4\nA:${arch}\nS:407574\nI:667648\nT:the musl c library\no:musl\n\n`,
  };
}

/**
 * Builds each image in its own layout, merges them into one layout (tags kept) and, when `index`
 * is given, adds an OCI image index tagged `index.tag` listing `index.of` with their platforms
 * (variant included: umoci cannot write one into the config).
 */
export async function buildMultiPlatformLayout(
  images: PlatformImageSpec[],
  index?: { tag: string; of: string[] },
): Promise<MultiPlatformLayout> {
  const work = await makeTempDir();
  const dir = join(work, 'layout');
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const merged: IndexJson = { schemaVersion: 2, manifests: [] };
  for (const spec of images) {
    const part = await buildOciLayout({
      files: spec.files,
      ...(spec.layers ? { layers: spec.layers } : {}),
      tag: spec.tag,
      platform: { os: spec.platform.os, architecture: spec.platform.architecture },
      dir: join(work, `part-${spec.tag}`, 'layout'),
    });
    for (const name of await readdir(join(part, 'blobs', 'sha256')))
      await copyFile(join(part, 'blobs', 'sha256', name), join(blobs, name));
    const partIndex = JSON.parse(await readFile(join(part, 'index.json'), 'utf8')) as IndexJson;
    merged.manifests.push(...partIndex.manifests);
  }
  const blob = (digest: string) => readFile(join(dir, 'blobs', ...digest.split(':')));
  const built: Record<string, BuiltImage> = {};
  for (const spec of images) {
    const entry = merged.manifests.find((m) => m.annotations?.[REF_NAME] === spec.tag)!;
    const manifest = JSON.parse((await blob(entry.digest)).toString('utf8')) as BuiltImage['manifest'];
    const config = JSON.parse((await blob(manifest.config.digest)).toString('utf8')) as BuiltImage['config'];
    built[spec.tag] = {
      tag: spec.tag,
      manifestDigest: entry.digest,
      manifestSize: entry.size,
      manifest,
      configDigest: manifest.config.digest,
      config,
    };
  }
  const result: MultiPlatformLayout = { dir, images: built, blob };
  if (index) {
    const bytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: index.of.map((tag) => ({
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: built[tag]!.manifestDigest,
          size: built[tag]!.manifestSize,
          platform: images.find((s) => s.tag === tag)!.platform,
        })),
      }),
    );
    const hex = createHash('sha256').update(bytes).digest('hex');
    await writeFile(join(blobs, hex), bytes);
    merged.manifests.push({
      mediaType: 'application/vnd.oci.image.index.v1+json',
      digest: `sha256:${hex}`,
      size: bytes.length,
      annotations: { [REF_NAME]: index.tag },
    });
    result.index = { tag: index.tag, digest: `sha256:${hex}`, size: bytes.length, bytes };
  }
  await writeFile(join(dir, 'index.json'), JSON.stringify(merged));
  return result;
}

/**
 * Pushes `layout:tag` to `<registryHost>/<destination>` with skopeo (TLS verification off, so it
 * also works against a self-signed registry). `all` pushes an index and every image it lists
 * (by digest), then tags the index.
 */
export async function pushOciLayout(options: {
  layout: string;
  tag: string;
  registryHost: string;
  /** `repo:tag` in the registry. */
  destination: string;
  credentials?: { username: string; password: string };
  all?: boolean;
}): Promise<void> {
  await run('skopeo', [
    'copy',
    '--insecure-policy',
    ...(options.all ? ['--all'] : []),
    '--dest-tls-verify=false',
    ...(options.credentials
      ? ['--dest-creds', `${options.credentials.username}:${options.credentials.password}`]
      : []),
    `oci:${options.layout}:${options.tag}`,
    `docker://${options.registryHost}/${options.destination}`,
  ]);
}
