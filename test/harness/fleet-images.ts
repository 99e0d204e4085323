/**
 * Many small distinct registry images in seconds, for the fleet scenario tests (test/e2e/fleet): each image is a
 * real Alpine base layer (the realdata alpine 3.10 or 3.11 `docker save` archives, alternating) plus one tiny
 * layer of its own (`etc/vigil-fleet-image`, naming the image), so every image has its own config and manifest
 * digest while the base layer is stored once per repository and analysed once per worker (layer cache).
 * Pushed with the registry's HTTP API (monolithic blob uploads, manifest PUT): no umoci or skopeo per image.
 *
 * ```ts
 * const images = await pushFleetImages(registry.url, { count: 200, repositories: 4, referenceHost: proxy.host });
 * images[0]; // { reference: '127.0.0.1:PORT/fleet/svc-0:v0', repository, tag, digest, base: '3.10' }
 * ```
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { extract, pack } from 'tar-stream';
import { realdata } from '../support/realdata.js';

/** The two bases: realdata Alpine images with different packages and so different findings. */
export const FLEET_BASES = {
  '3.10': realdata('images/docker-archive/trivy-alpine-3.10-docker-save.tar.gz'),
  '3.11': realdata('images/docker-archive/trivy-alpine-3.11-docker-save.tar.gz'),
} as const;
export type FleetBase = keyof typeof FLEET_BASES;

export interface FleetImage {
  /** `<referenceHost>/<repository>:<tag>`: what scans are requested with */
  reference: string;
  /** path in the registry, e.g. `fleet/svc-0` */
  repository: string;
  tag: string;
  /** manifest digest */
  digest: string;
  base: FleetBase;
}

export interface PushFleetImagesOptions {
  count: number;
  /** images are spread over this many repositories `fleet/svc-<n>` (default 1) */
  repositories?: number;
  /** host:port put in references (default the registry's own; a proxy in front of it in the tests) */
  referenceHost?: string;
  /** tag prefix, so several pushes to one registry never collide (default `v`) */
  tagPrefix?: string;
}

const MANIFEST_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';
const CONFIG_TYPE = 'application/vnd.docker.container.image.v1+json';
const LAYER_TYPE = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

interface Blob {
  digest: string;
  bytes: Buffer;
}

interface BaseImage {
  config: Record<string, unknown> & { rootfs: { diff_ids: string[] }; history?: unknown[] };
  layer: Blob;
}

const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const blob = (bytes: Buffer): Blob => ({ digest: sha256(bytes), bytes });

/** The files of a (gzipped) tar, by name. */
async function untar(gzipped: Buffer): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const tar = extract();
  tar.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => void chunks.push(c as Buffer));
    stream.on('end', () => {
      files.set(header.name, Buffer.concat(chunks));
      next();
    });
  });
  const done = new Promise<void>((resolve, reject) => {
    tar.on('finish', resolve);
    tar.on('error', reject);
  });
  Readable.from([gunzipSync(gzipped)]).pipe(tar);
  await done;
  return files;
}

/** A `docker save` archive of one single-layer image: its config and its layer, gzipped. */
async function readBase(archive: string): Promise<BaseImage> {
  const files = await untar(await readFile(archive));
  const [entry] = JSON.parse(files.get('manifest.json')!.toString()) as {
    Config: string;
    Layers: string[];
  }[];
  const config = JSON.parse(files.get(entry!.Config)!.toString()) as BaseImage['config'];
  return { config, layer: blob(gzipSync(files.get(entry!.Layers[0]!)!)) };
}

/** A tar holding one small file, and its diffID. */
async function tinyLayer(name: string, content: string): Promise<{ gz: Blob; diffId: string }> {
  const tar = pack();
  const body = Buffer.from(content);
  tar.entry({ name: 'etc/', type: 'directory', mode: 0o755, mtime: new Date(0) });
  tar.entry({ name, size: body.length, mode: 0o644, mtime: new Date(0) }, body);
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  const plain = Buffer.concat(chunks);
  return { gz: blob(gzipSync(plain)), diffId: sha256(plain) };
}

async function expectStatus(res: Response, wanted: number, what: string): Promise<void> {
  if (res.status !== wanted) throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`);
}

/** Uploads a blob (monolithic upload: POST, then PUT with the digest). */
async function pushBlob(registry: string, repository: string, b: Blob): Promise<void> {
  const start = await fetch(`${registry}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  await expectStatus(start, 202, `upload start in ${repository}`);
  const location = new URL(start.headers.get('location')!, registry);
  location.searchParams.set('digest', b.digest);
  const put = await fetch(location, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: b.bytes,
  });
  await expectStatus(put, 201, `upload of ${b.digest} to ${repository}`);
}

/**
 * Pushes `count` images to the registry at `registryUrl` (`http://127.0.0.1:PORT`); image i has base
 * 3.10 when i is even, 3.11 when odd, and lives in repository `fleet/svc-<i mod repositories>`.
 */
export async function pushFleetImages(
  registryUrl: string,
  options: PushFleetImagesOptions,
): Promise<FleetImage[]> {
  const bases = {
    '3.10': await readBase(FLEET_BASES['3.10']),
    '3.11': await readBase(FLEET_BASES['3.11']),
  };
  const repositories = options.repositories ?? 1;
  const host = options.referenceHost ?? new URL(registryUrl).host;
  const prefix = options.tagPrefix ?? 'v';
  const pushed = new Set<string>();
  const pushOne = async (i: number): Promise<FleetImage> => {
    const baseName: FleetBase = i % 2 === 0 ? '3.10' : '3.11';
    const base = bases[baseName];
    const repository = `fleet/svc-${i % repositories}`;
    const tag = `${prefix}${i}`;
    const own = await tinyLayer('etc/vigil-fleet-image', `${repository}:${tag}\n`);
    const config = blob(
      Buffer.from(
        JSON.stringify({
          ...base.config,
          rootfs: { type: 'layers', diff_ids: [...base.config.rootfs.diff_ids, own.diffId] },
          history: [...(base.config.history ?? []), { created_by: `vigil fleet image ${tag}` }],
        }),
      ),
    );
    const baseKey = `${repository} ${base.layer.digest}`;
    if (!pushed.has(baseKey)) {
      pushed.add(baseKey);
      await pushBlob(registryUrl, repository, base.layer);
    }
    await pushBlob(registryUrl, repository, own.gz);
    await pushBlob(registryUrl, repository, config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MANIFEST_TYPE,
        config: { mediaType: CONFIG_TYPE, digest: config.digest, size: config.bytes.length },
        layers: [base.layer, own.gz].map((l) => ({
          mediaType: LAYER_TYPE,
          digest: l.digest,
          size: l.bytes.length,
        })),
      }),
    );
    const put = await fetch(`${registryUrl}/v2/${repository}/manifests/${tag}`, {
      method: 'PUT',
      headers: { 'content-type': MANIFEST_TYPE },
      body: manifest,
    });
    await expectStatus(put, 201, `manifest ${repository}:${tag}`);
    return {
      reference: `${host}/${repository}:${tag}`,
      repository,
      tag,
      digest: sha256(manifest),
      base: baseName,
    };
  };
  // the first images of each repository upload the bases; the rest go 16 at a time
  const images: FleetImage[] = [];
  for (let i = 0; i < Math.min(options.count, repositories * 2); i++) images.push(await pushOne(i));
  for (let i = images.length; i < options.count; i += 16) {
    const ids = Array.from({ length: Math.min(16, options.count - i) }, (_, k) => i + k);
    images.push(...(await Promise.all(ids.map(pushOne))));
  }
  return images;
}
