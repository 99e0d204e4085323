/**
 * Test images built on the spot with real tools (Debian's `umoci` and `skopeo`), for end-to-end
 * tests of the image sources, the layer walker and the analyzers.
 *
 * ```ts
 * import { buildOciLayout, toDockerArchive, toOciArchive, gzipFile, removeTemp } from '../../test/harness/images.js';
 *
 * // one layer holding two files
 * const layout = await buildOciLayout({ files: { 'etc/os-release': 'ID=alpine\n', 'bin/sh': { content: '#!', mode: 0o755 } } });
 *
 * // three layers: base, a layer deleting a file (etc/.wh.motd), a layer replacing a directory
 * // (usr/share/doc/.wh..wh..opq + the new content)
 * const layered = await buildOciLayout({
 *   files: { 'etc/motd': 'hi\n', 'usr/share/doc/a/README': 'a', 'usr/share/doc/b/README': 'b' },
 *   layers: [{ delete: ['etc/motd'] }, { replaceDir: { path: 'usr/share/doc', files: { 'c/README': 'c' } } }],
 * });
 *
 * const archive = await toDockerArchive(layered, 'vigil-test/layered:1'); // docker-archive .tar (uncompressed layers)
 * const ociTar = await toOciArchive(layered);                              // OCI layout as a tar
 * const gz = await gzipFile(archive);                                     // archive.tar.gz
 * await removeTemp(layout, layered, archive, ociTar, gz);
 * ```
 *
 * What the layers contain (umoci 0.4.7, checked with `tar tvzf`):
 * - `files` / `delete`: `umoci unpack` + change the rootfs + `umoci repack`; repack diffs the tree
 *   and writes gzip layers where a removed path `d/x` becomes the whiteout `d/.wh.x`.
 *   Deleting a directory whites out each of its entries (`d/.wh.x`, `d/.wh.y`), not `d` itself.
 * - `replaceDir`: a layer written with GNU tar (`--sort=name`, owner 0/0) holding the parent
 *   directories, `dir/.wh..wh..opq` and the new content of `dir`, appended with `umoci raw add-layer`
 *   (earlier content of `dir` is hidden). `umoci insert --opaque` is not used: umoci 0.4.7 leaves
 *   the tar of an inserted layer unterminated (no final padding or end-of-archive blocks).
 * - `tarFile`: an uncompressed tar you wrote yourself, appended verbatim (`umoci raw add-layer`).
 * - Owners are 0/0 (rootless unpack), layers are gzip, mtimes are "now" so digests differ per run.
 * - Turning a directory into a file is not offered through `files`: umoci 0.4.7's repack writes
 *   a broken layer for it (write such a layer as a `tarFile`).
 */
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGzip } from 'node:zlib';

const run = promisify(execFile);

/** A file to put in a layer: text/bytes (mode 0644), bytes with a mode, a symlink, or an empty directory. */
export type FileSpec =
  | string
  | Uint8Array
  | { content: string | Uint8Array; mode?: number }
  | { symlink: string }
  | { dir: true; mode?: number };

/** Paths are relative to the image root (`etc/os-release`; a leading `/` is ignored). */
export type FileTree = Record<string, FileSpec>;

/** One layer on top of the previous ones. `replaceDir` and `tarFile` each make a layer on their own (no `files`/`delete` beside them). */
export interface LayerSpec {
  /** Files added or overwritten. */
  files?: FileTree;
  /** Paths removed (whiteouts `.wh.<name>`); each must exist in a lower layer. */
  delete?: string[];
  /** Directory whose lower content is hidden (opaque whiteout) and replaced by `files` (relative to it). */
  replaceDir?: { path: string; files: FileTree };
  /** Path of an uncompressed layer tar to append as is. */
  tarFile?: string;
}

export interface BuildOptions {
  /** Content of the first layer (shortcut for `layers[0].files`); omitted → the image starts with `layers`. */
  files?: FileTree;
  /** Further layers, bottom-up. */
  layers?: LayerSpec[];
  /** Tag (`org.opencontainers.image.ref.name`) in the layout, default `latest`. */
  tag?: string;
  /** Image platform written to the config (default: umoci's, linux/amd64 on amd64 hosts). */
  platform?: { os: string; architecture: string };
  /** Where to create the layout (must not exist); default a new temp dir. */
  dir?: string;
}

async function tool(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { maxBuffer: 16 << 20 });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr || e.message}`, { cause: error });
  }
}

/** A new empty temp directory (`vigil-img-*`); remove it with removeTemp. */
export async function makeTempDir(prefix = 'vigil-img-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Removes temp paths made by these helpers (files or directories; a path inside a temp dir removes that dir). */
export async function removeTemp(...paths: string[]): Promise<void> {
  for (const p of paths)
    await rm(p.includes('/vigil-img-') ? p.replace(/(\/vigil-img-[^/]+).*$/, '$1') : p, {
      recursive: true,
      force: true,
    });
}

async function writeTree(root: string, tree: FileTree): Promise<void> {
  for (const [rel, spec] of Object.entries(tree)) {
    const path = join(root, rel.replace(/^\/+/, ''));
    await mkdir(dirname(path), { recursive: true });
    await rm(path, { recursive: true, force: true });
    if (typeof spec === 'string' || spec instanceof Uint8Array) {
      await writeFile(path, spec);
      await chmod(path, 0o644);
    } else if ('symlink' in spec) {
      await symlink(spec.symlink, path);
    } else if ('dir' in spec) {
      await mkdir(path, { recursive: true });
      await chmod(path, spec.mode ?? 0o755);
    } else {
      await writeFile(path, spec.content);
      await chmod(path, spec.mode ?? 0o644);
    }
  }
}

async function addLayer(
  layout: string,
  tag: string,
  work: string,
  layer: LayerSpec,
  n: number,
): Promise<void> {
  const image = `${layout}:${tag}`;
  if (layer.replaceDir || layer.tarFile) {
    if (layer.files || layer.delete || (layer.replaceDir && layer.tarFile)) {
      throw new TypeError('a layer with replaceDir or tarFile cannot have anything else');
    }
    let tarFile = layer.tarFile;
    if (layer.replaceDir) {
      const staging = join(work, `stage-${n}`);
      const dir = layer.replaceDir.path.replace(/^\/+|\/+$/g, '');
      await mkdir(join(staging, dir), { recursive: true });
      await writeFile(join(staging, dir, '.wh..wh..opq'), '');
      await writeTree(join(staging, dir), layer.replaceDir.files);
      tarFile = join(work, `layer-${n}.tar`);
      const top = dir.split('/')[0]!;
      await tool('tar', [
        '-C',
        staging,
        '--sort=name',
        '--owner=0',
        '--group=0',
        '--numeric-owner',
        '-cf',
        tarFile,
        top,
      ]);
      await rm(staging, { recursive: true, force: true });
    }
    await tool('umoci', ['raw', 'add-layer', '--image', image, tarFile!]);
    if (layer.replaceDir) await rm(tarFile!, { force: true });
    return;
  }
  const bundle = join(work, `bundle-${n}`);
  await tool('umoci', ['unpack', '--rootless', '--image', image, bundle]);
  const rootfs = join(bundle, 'rootfs');
  for (const p of layer.delete ?? []) {
    const path = join(rootfs, p.replace(/^\/+/, ''));
    await rm(path, { recursive: true }); // throws when absent: a whiteout of nothing is a test bug
  }
  await writeTree(rootfs, layer.files ?? {});
  await tool('umoci', ['repack', '--image', image, bundle]);
  await rm(bundle, { recursive: true, force: true });
}

/**
 * Builds an OCI image layout with umoci and returns its directory (`<temp>/layout`).
 * Layers are gzip tars; the layout holds one manifest tagged `tag`, unreferenced blobs are
 * garbage-collected. Throws when umoci fails (its stderr in the message).
 */
export async function buildOciLayout(options: BuildOptions): Promise<string> {
  const tag = options.tag ?? 'latest';
  const work = options.dir ? dirname(options.dir) : await makeTempDir();
  const layout = options.dir ?? join(work, 'layout');
  await tool('umoci', ['init', '--layout', layout]);
  await tool('umoci', ['new', '--image', `${layout}:${tag}`]);
  const layers = [...(options.files ? [{ files: options.files }] : []), ...(options.layers ?? [])];
  for (const [i, layer] of layers.entries()) await addLayer(layout, tag, work, layer, i);
  if (options.platform) {
    await tool('umoci', [
      'config',
      '--no-history',
      '--image',
      `${layout}:${tag}`,
      '--os',
      options.platform.os,
      '--architecture',
      options.platform.architecture,
    ]);
  }
  await tool('umoci', ['gc', '--layout', layout]);
  return layout;
}

async function onlyTag(layoutDir: string): Promise<string> {
  const index = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as {
    manifests: { annotations?: Record<string, string> }[];
  };
  const tag = index.manifests[0]?.annotations?.['org.opencontainers.image.ref.name'];
  if (!tag) throw new Error(`${layoutDir}: no tagged manifest`);
  return tag;
}

/**
 * Writes the layout's image as a docker-archive with `skopeo copy oci:DIR:tag docker-archive:FILE:ref`
 * (legacy layout: manifest.json, `<diffid-hex>.tar` uncompressed layers, `<config-hex>.json`).
 * `ref` becomes RepoTags (skopeo writes it normalised, e.g. `docker.io/vigil-test/image:latest`).
 * Returns the archive path (default `<layout>/../image-docker.tar`).
 */
export async function toDockerArchive(
  layoutDir: string,
  ref = 'vigil-test/image:latest',
  options: { out?: string; ociTag?: string } = {},
): Promise<string> {
  const out = options.out ?? join(dirname(layoutDir), 'image-docker.tar');
  const tag = options.ociTag ?? (await onlyTag(layoutDir));
  await rm(out, { force: true });
  await tool('skopeo', [
    '--insecure-policy',
    'copy',
    '--quiet',
    `oci:${layoutDir}:${tag}`,
    `docker-archive:${out}:${ref}`,
  ]);
  return out;
}

/**
 * Writes the layout's image as an OCI archive (a tar of an OCI layout) with
 * `skopeo copy oci:DIR:tag oci-archive:FILE:tag`. Returns its path (default `<layout>/../image-oci.tar`).
 */
export async function toOciArchive(
  layoutDir: string,
  options: { out?: string; ociTag?: string; tag?: string } = {},
): Promise<string> {
  const out = options.out ?? join(dirname(layoutDir), 'image-oci.tar');
  const tag = options.ociTag ?? (await onlyTag(layoutDir));
  await rm(out, { force: true });
  await tool('skopeo', [
    '--insecure-policy',
    'copy',
    '--quiet',
    `oci:${layoutDir}:${tag}`,
    `oci-archive:${out}:${options.tag ?? tag}`,
  ]);
  return out;
}

/** Gzips `path` to `out` (default `<path>.gz`), as `docker save | gzip` would. Returns `out`. */
export async function gzipFile(path: string, out = `${path}.gz`): Promise<string> {
  await pipeline(createReadStream(path), createGzip(), createWriteStream(out));
  return out;
}
