import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRealdata, realdata } from '../../../../test/support/realdata.js';
import { openRootfs } from '../rootfs/index.js';
import { detectLocalSource, openLocalImage } from './detect.js';
import { handDockerArchive, ociImage, writeLayout } from './testdata/helpers.js';
import { tar } from './testdata/tar-writer.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'vigil-detect-test-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe.skipIf(!hasRealdata)('detectLocalSource on realdata', () => {
  it.each([
    ['images/docker-archive/cimage-almostempty-docker-save.tar', 'docker-archive'],
    ['images/docker-archive/trivy-alpine-3.10-docker-save.tar.gz', 'docker-archive'],
    ['images/oci-archive/ggcr-hello-world-docker-v25-save.tar', 'docker-archive'], // has manifest.json
    ['images/oci-layout/trivy-hello-world-oci', 'oci-layout'],
    ['images/oci-layout/stereoscope-multiplatform-index-only', 'oci-layout'],
    ['osrelease', 'rootfs'], // a directory without an oci-layout file
  ])('%s → %s', async (rel, kind) => {
    expect(await detectLocalSource(realdata(rel))).toBe(kind);
  });

  it('openLocalImage dispatches on the detected kind', async () => {
    const kinds = [];
    for (const rel of [
      'images/docker-archive/trivy-alpine-3.11-docker-save.tar.gz',
      'images/oci-layout/trivy-hello-world-oci',
      'osrelease',
    ]) {
      const source = await openLocalImage(realdata(rel));
      kinds.push([source.kind, source.layers.length]);
      await source.close();
    }
    expect(kinds).toEqual([
      ['docker-archive', 1],
      ['oci-layout', 1],
      ['rootfs', 0],
    ]);
  });
});

describe('detectLocalSource on hand-made inputs', () => {
  it('tells archives and layouts apart by content, not by name', async () => {
    const image = ociImage([{ a: 'a' }]);
    const layoutDir = await writeLayout(
      join(work, 'layout.tar.gz'),
      { schemaVersion: 2, manifests: [image.descriptor] },
      image.blobs,
    ); // a directory named like a file
    const ociTar = join(work, 'oci.json');
    await writeFile(
      ociTar,
      tar([
        { name: 'oci-layout', body: '{}' },
        { name: 'index.json', body: '{"manifests":[]}' },
      ]),
    );
    const dockerGz = join(work, 'docker.tar');
    await writeFile(dockerGz, gzipSync(handDockerArchive([{ layers: [{ a: 'a' }] }])));
    const plainDir = join(work, 'rootfs');
    await mkdir(join(plainDir, 'etc'), { recursive: true });
    expect([
      await detectLocalSource(layoutDir),
      await detectLocalSource(ociTar),
      await detectLocalSource(dockerGz),
      await detectLocalSource(plainDir),
    ]).toEqual(['oci-layout', 'oci-layout', 'docker-archive', 'rootfs']);
  });

  it.each([
    [
      'a tar with neither manifest.json nor an OCI layout',
      tar([{ name: 'index.json', body: '{}' }]),
      'ENG_IMAGE_FORMAT_UNKNOWN',
      /neither a docker-archive/,
    ],
    ['a text file', Buffer.from('hello\n'.repeat(200)), 'ENG_IMAGE_FORMAT_UNKNOWN', /not a tar archive/],
  ])('rejects %s', async (_name, bytes, code, message) => {
    const path = join(work, `bad-${bytes.length}`);
    await writeFile(path, bytes);
    await expect(detectLocalSource(path)).rejects.toMatchObject({
      code,
      message: expect.stringMatching(message),
    });
    await expect(openLocalImage(path)).rejects.toMatchObject({ code });
  });

  it('rejects a missing path', async () => {
    await expect(detectLocalSource(join(work, 'missing'))).rejects.toMatchObject({
      code: 'ENG_IMAGE_SOURCE_NOT_FOUND',
    });
  });
});

describe('openRootfs', () => {
  it('returns a layerless source rooted at the absolute directory', async () => {
    const dir = join(work, 'root');
    await mkdir(dir);
    const source = await openRootfs(`${dir}/./`);
    const { close, ...fields } = source;
    expect(fields).toEqual({
      kind: 'rootfs',
      name: `${dir}/./`,
      repoTags: [],
      repoDigests: [],
      layers: [],
      rootDir: dir,
    });
    await close();
  });

  it('rejects a missing directory and a file', async () => {
    await expect(openRootfs(join(work, 'nope'))).rejects.toMatchObject({
      code: 'ENG_IMAGE_SOURCE_NOT_FOUND',
    });
    const file = join(work, 'file');
    await writeFile(file, 'x');
    await expect(openRootfs(file)).rejects.toMatchObject({ code: 'ENG_INVALID_ARGUMENT' });
  });
});
