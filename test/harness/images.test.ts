import { execFileSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  openDockerArchive,
  openLocalImage,
  openOciLayout,
  detectLocalSource,
} from '../../engine/src/image/archive/index.js';
import type { ImageSource } from '../../engine/src/image/types.js';
import { buildOciLayout, gzipFile, removeTemp, toDockerArchive, toOciArchive } from './images.js';

const temps: string[] = [];
afterAll(async () => {
  await removeTemp(...temps);
});

async function streamBytes(source: ImageSource, i: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await source.layers[i]!.open()) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Non-directory entry names of a layer (gunzipped when needed), as GNU tar lists them. */
async function layerFiles(source: ImageSource, i: number): Promise<string[]> {
  let bytes = await streamBytes(source, i);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  const names = execFileSync('tar', ['-t'], { input: bytes }).toString().split('\n');
  return names.filter((n) => n && n !== '.' && !n.endsWith('/')).sort(); // umoci's first layer has a '.' root entry
}

describe('test image harness (umoci + skopeo)', () => {
  const spec = {
    files: {
      'etc/motd': 'hello\n',
      'usr/share/doc/a/README': 'a',
      'usr/share/doc/b/README': 'b',
      'bin/tool': { content: '#!/bin/sh\n', mode: 0o755 },
      'bin/link': { symlink: 'tool' },
    },
    layers: [
      { delete: ['etc/motd'] },
      { replaceDir: { path: 'usr/share/doc', files: { 'c/README': 'c' } } },
      { files: { 'etc/added': 'x' } },
    ],
  };
  // What each layer must hold, from the spec above and umoci's documented behaviour
  // (repack: deletion → .wh.<name>; insert --opaque: .wh..wh..opq then the new content).
  const expected = [
    ['bin/link', 'bin/tool', 'etc/motd', 'usr/share/doc/a/README', 'usr/share/doc/b/README'],
    ['etc/.wh.motd'],
    ['usr/share/doc/.wh..wh..opq', 'usr/share/doc/c/README'],
    ['etc/added'],
  ];
  let layout: string;

  it('builds an OCI layout whose layers carry the files, a whiteout and an opaque directory', async () => {
    layout = await buildOciLayout({ ...spec, tag: 'v1' });
    temps.push(layout);
    const source = await openOciLayout(layout, { ref: 'v1' });
    expect(source.layers.map((l) => l.mediaType)).toEqual(
      Array(4).fill('application/vnd.oci.image.layer.v1.tar+gzip'),
    );
    const files = [];
    for (let i = 0; i < source.layers.length; i++) files.push(await layerFiles(source, i));
    expect(files).toEqual(expected);
  });

  it('converts to a docker-archive (plain and gzipped) and an OCI archive with the same layers', async () => {
    const oci = await openOciLayout(layout);
    const diffIds = oci.config!.rootfs.diff_ids;

    const archive = await toDockerArchive(layout, 'vigil-test/layered:1');
    const gz = await gzipFile(archive);
    const ociTar = await toOciArchive(layout);
    expect([
      await detectLocalSource(archive),
      await detectLocalSource(gz),
      await detectLocalSource(ociTar),
      await detectLocalSource(layout),
    ]).toEqual(['docker-archive', 'docker-archive', 'oci-layout', 'oci-layout']);

    const docker = await openDockerArchive(gz, { ref: 'vigil-test/layered:1' });
    expect(docker.repoTags).toEqual(['docker.io/vigil-test/layered:1']);
    // skopeo writes uncompressed layers: blob digest = diffID, and the stream hashes to it
    expect(docker.layers.map((l) => [l.diffId, l.digest])).toEqual(diffIds.map((d) => [d, d]));
    const dockerFiles = [];
    for (let i = 0; i < docker.layers.length; i++) dockerFiles.push(await layerFiles(docker, i));
    expect(dockerFiles).toEqual(expected);
    await docker.close();

    const fromTar = await openLocalImage(ociTar);
    expect({
      kind: fromTar.kind,
      configDigest: fromTar.configDigest,
      layers: fromTar.layers.map((l) => l.digest),
    }).toEqual({
      kind: 'oci-layout',
      configDigest: oci.configDigest,
      layers: oci.layers.map((l) => l.digest),
    });
  });

  it('writes the requested platform into the config', async () => {
    const arm = await buildOciLayout({ files: { a: 'a' }, platform: { os: 'linux', architecture: 'arm64' } });
    temps.push(arm);
    const source = await openOciLayout(arm, { platform: 'linux/arm64' });
    expect([source.config?.os, source.config?.architecture]).toEqual(['linux', 'arm64']);
    await expect(openOciLayout(arm, { platform: 'linux/amd64' })).rejects.toMatchObject({
      code: 'ENG_IMAGE_PLATFORM_NOT_FOUND',
    });
  });
});
