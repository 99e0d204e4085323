import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRealdata, realdata } from '../../../../test/support/realdata.js';
import { openDockerArchive } from './docker-archive.js';
import {
  describeSource,
  handDockerArchive,
  hashLayers,
  hashStream,
  layerTar,
  sha256,
} from './testdata/helpers.js';
import { tar } from './testdata/tar-writer.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'vigil-docker-archive-test-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

let n = 0;
async function writeTmp(bytes: Uint8Array): Promise<string> {
  const path = join(work, `a${n++}.bin`);
  await writeFile(path, bytes);
  return path;
}

describe.skipIf(!hasRealdata)('docker save archives from realdata', () => {
  // Expected values read from the archives with `tar tv` / `tar xO manifest.json` / sha256sum.
  it('opens the Docker 1.13 almost-empty image (plain tar, legacy layout)', async () => {
    const path = realdata('images/docker-archive/cimage-almostempty-docker-save.tar');
    const source = await openDockerArchive(path);
    const diffId = 'sha256:0b916d257bd406111a3fced53f81b47de9a30f7c7d514a89769b3483aaddca7e';
    expect(describeSource(source)).toEqual({
      kind: 'docker-archive',
      name: path,
      repoTags: ['emptyimage:latest'],
      repoDigests: [],
      configDigest: 'sha256:9d7f147c0d0c4d4538a04c7ef385809e56eb1aac7bf800fbe976612188025b68',
      arch: 'amd64',
      diffIds: [diffId],
      layers: [{ diffId, digest: diffId, mediaType: '', size: 1536 }],
    });
    expect(await hashLayers(source)).toEqual([diffId]);
    await source.close();
  });

  it.each([
    [
      '3.10',
      'sha256:af341ccd2df8b0e2d67cf8dd32e087bfda4e5756ebd1c76bbf3efa0dc246590e',
      'sha256:531743b7098cb2aaf615641007a129173f63ed86ca32fe7b5a246a1c47286028',
      5818880,
    ],
    [
      '3.11',
      'sha256:a187dde48cd289ac374ad8539930628314bc581a481cdb41409c9289419ddb72',
      'sha256:beee9f30bc1f711043e78d4a2be0668955d4b761d587d6f60c2c8dc081efb203',
      5861888,
    ],
  ])(
    'opens gzipped alpine %s via a temp copy that close() removes',
    async (version, configDigest, diffId, size) => {
      const tmpDir = await mkdtemp(join(work, 'tmp-'));
      const path = realdata(`images/docker-archive/trivy-alpine-${version}-docker-save.tar.gz`);
      const source = await openDockerArchive(path, { tmpDir, ref: `alpine:${version}` });
      expect(describeSource(source)).toEqual({
        kind: 'docker-archive',
        name: path,
        repoTags: [`alpine:${version}`],
        repoDigests: [],
        configDigest,
        arch: 'amd64',
        diffIds: [diffId],
        layers: [{ diffId, digest: diffId, mediaType: '', size }],
      });
      expect(await hashLayers(source)).toEqual([diffId]);
      expect(await readdir(tmpDir)).toHaveLength(1);
      await source.close();
      await source.close(); // idempotent
      expect(await readdir(tmpDir)).toEqual([]);
      await expect(source.layers[0]!.open()).rejects.toMatchObject({
        code: 'ENG_INVALID_ARGUMENT',
        message: expect.stringContaining('image source is closed'),
      });
    },
  );

  it('opens a Docker 25 save (OCI layout + manifest.json with LayerSources)', async () => {
    const path = realdata('images/oci-archive/ggcr-hello-world-docker-v25-save.tar');
    const source = await openDockerArchive(path);
    const blob = 'sha256:12660636fe55438cc3ae7424da7ac56e845cdb52493ff9cf949c47a7f57f8b43';
    expect(describeSource(source)).toEqual({
      kind: 'docker-archive',
      name: path,
      repoTags: [], // RepoTags: null in manifest.json
      repoDigests: [],
      configDigest: 'sha256:ee301c921b8aadc002973b2e0c3da17d701dcd994b606769a7e6eaa100b81d44',
      arch: 'arm64',
      diffIds: [blob],
      layers: [
        { diffId: blob, digest: blob, mediaType: 'application/vnd.oci.image.layer.v1.tar', size: 10752 },
      ],
    });
    expect(await hashLayers(source)).toEqual([blob]);
  });

  it('refuses a ref that no RepoTags entry matches, naming the tags it has', async () => {
    await expect(
      openDockerArchive(realdata('images/docker-archive/cimage-almostempty-docker-save.tar'), {
        ref: 'alpine:3.10',
      }),
    ).rejects.toMatchObject({
      code: 'ENG_IMAGE_SOURCE_NOT_FOUND',
      message: expect.stringContaining('tags: emptyimage:latest'),
    });
  });
});

describe('hand-made docker archives', () => {
  const two = handDockerArchive([
    { tags: ['first:1'], layers: [{ 'etc/a': 'a' }] },
    { tags: ['docker.io/library/second:2', 'second:latest'], layers: [{ 'etc/b': 'b' }, { 'etc/c': 'c' }] },
  ]);

  it('takes the first image, or the one whose RepoTags match ref (normalised)', async () => {
    const path = await writeTmp(two);
    const first = await openDockerArchive(path);
    expect(first.repoTags).toEqual(['first:1']);
    for (const ref of ['second:2', 'docker.io/library/second', 'second']) {
      const second = await openDockerArchive(path, { ref });
      expect(second.repoTags).toEqual(['docker.io/library/second:2', 'second:latest']);
      expect(await hashLayers(second)).toEqual([
        sha256(layerTar({ 'etc/b': 'b' })),
        sha256(layerTar({ 'etc/c': 'c' })),
      ]);
    }
  });

  it('leaves the digest of a compressed layer without LayerSources unknown instead of reading the layer at open', async () => {
    const plain = layerTar({ 'etc/z': 'z' });
    const gz = gzipSync(plain);
    const archive = handDockerArchive([{ layers: [{ 'etc/z': 'z' }] }], (entries) => {
      const layer = entries.find((e) => e.name.endsWith('layer.tar'))!;
      layer.body = gz;
    });
    const source = await openDockerArchive(await writeTmp(archive));
    expect(source.layers.map(({ diffId, digest, size }) => ({ diffId, digest, size }))).toEqual([
      { diffId: sha256(plain), digest: '', size: gz.length },
    ]);
    expect(await hashLayers(source)).toEqual([sha256(gz)]);
  });

  it('fails a layer stream whose content does not hash to its diffID, at the end of the stream', async () => {
    const archive = handDockerArchive([{ layers: [{ 'etc/a': 'a' }] }], (entries) => {
      const layer = entries.find((e) => e.name.endsWith('layer.tar'))!;
      layer.body = layerTar({ 'etc/a': 'tampered' });
    });
    const source = await openDockerArchive(await writeTmp(archive));
    await expect(hashStream(await source.layers[0]!.open())).rejects.toMatchObject({
      code: 'ENG_DIGEST_MISMATCH',
    });
  });

  it('stops with ENG_ABORTED when the signal is already aborted', async () => {
    const path = await writeTmp(two);
    await expect(openDockerArchive(path, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ENG_ABORTED',
    });
    const source = await openDockerArchive(path);
    await expect(source.layers[0]!.open(AbortSignal.abort())).rejects.toMatchObject({ code: 'ENG_ABORTED' });
  });
});

describe('hostile docker archives', () => {
  const base = () => handDockerArchive([{ tags: ['x:1'], layers: [{ 'etc/a': 'a' }] }]);
  const withManifest = (body: string) =>
    handDockerArchive([{ layers: [{ 'etc/a': 'a' }] }], (entries) =>
      entries.push({ name: 'manifest.json', body }),
    );

  it.each<[string, () => Buffer, string, RegExp]>([
    ['a truncated tar', () => base().subarray(0, 1000), 'ENG_IMAGE_ARCHIVE_CORRUPT', /truncated/],
    [
      'a truncated gzip',
      () => gzipSync(base()).subarray(0, 100),
      'ENG_IMAGE_ARCHIVE_CORRUPT',
      /gzip stream is corrupt/,
    ],
    [
      'a non-tar file',
      () => Buffer.from('{"not":"a tar"}'.repeat(100)),
      'ENG_IMAGE_FORMAT_UNKNOWN',
      /not a tar archive/,
    ],
    [
      'gzipped non-tar bytes',
      () => gzipSync(Buffer.from('x'.repeat(2000))),
      'ENG_IMAGE_FORMAT_UNKNOWN',
      /not a tar archive/,
    ],
    [
      'a tar without manifest.json',
      () => tar([{ name: 'hello.txt', body: 'hi' }]),
      'ENG_IMAGE_FORMAT_UNKNOWN',
      /no manifest.json/,
    ],
    [
      'manifest.json only under ../ and absolute names',
      () =>
        tar([
          { name: '../manifest.json', body: '[]' },
          { name: '/manifest.json', body: '[]' },
        ]),
      'ENG_IMAGE_FORMAT_UNKNOWN',
      /no manifest.json/,
    ],
    [
      'manifest.json that is not JSON',
      () => withManifest('[{"Config": '),
      'ENG_IMAGE_MANIFEST_INVALID',
      /not valid JSON/,
    ],
    [
      'manifest.json of the wrong shape',
      () => withManifest('{"Config":"a"}'),
      'ENG_IMAGE_MANIFEST_INVALID',
      /is not a JSON array/,
    ],
    [
      'manifest.json with Layers not a list',
      () => withManifest('[{"Config":"c.json","Layers":"l.tar"}]'),
      'ENG_IMAGE_MANIFEST_INVALID',
      /Layers is not a list/,
    ],
    [
      'an empty manifest.json list',
      () => withManifest('[]'),
      'ENG_IMAGE_MANIFEST_INVALID',
      /lists no images/,
    ],
    [
      'a layer path ../../etc/passwd',
      () => withManifest('[{"Config":"c.json","Layers":["../../etc/passwd"]}]'),
      'ENG_IMAGE_MANIFEST_INVALID',
      /"..\/..\/etc\/passwd" is absolute, empty or leaves the archive/,
    ],
    [
      'an absolute config path',
      () => withManifest('[{"Config":"/etc/shadow","Layers":[]}]'),
      'ENG_IMAGE_MANIFEST_INVALID',
      /"\/etc\/shadow" is absolute/,
    ],
    [
      'an oversized manifest.json',
      () => withManifest(`[${' '.repeat(4 * 1024 * 1024)}]`),
      'ENG_IMAGE_MANIFEST_TOO_LARGE',
      /4194306 bytes, over the 4194304-byte limit/,
    ],
    [
      'a missing config',
      () => handDockerArchive([{ layers: [] }], (entries) => entries.splice(0, 1)),
      'ENG_IMAGE_BLOB_MISSING',
      /image config sha256:[0-9a-f]{64} \([0-9a-f]{64}\.json\) is missing/,
    ],
    [
      'a missing layer',
      () => handDockerArchive([{ layers: [{ a: 'a' }] }], (entries) => entries.splice(1, 1)),
      'ENG_IMAGE_BLOB_MISSING',
      /layer img0-layer0\/layer.tar is missing/,
    ],
    [
      'a config whose content does not match its name',
      () =>
        handDockerArchive([{ layers: [] }], (entries) => (entries[0]!.body = '{"rootfs":{"diff_ids":[]}}')),
      'ENG_DIGEST_MISMATCH',
      /image config: content has digest/,
    ],
    [
      'more diff_ids than layers',
      () =>
        handDockerArchive([
          {
            layers: [{ a: 'a' }],
            config: { rootfs: { type: 'layers', diff_ids: [sha256('1'), sha256('2')] } },
          },
        ]),
      'ENG_IMAGE_CONFIG_INVALID',
      /lists 2 diff_ids for 1 layers/,
    ],
    [
      'a config without rootfs',
      () => handDockerArchive([{ layers: [], config: { rootfs: 'nope' } }]),
      'ENG_IMAGE_CONFIG_INVALID',
      /no rootfs object/,
    ],
  ])('rejects %s', async (_name, make, code, message) => {
    const tmpDir = await mkdtemp(join(work, 'tmp-'));
    await expect(openDockerArchive(await writeTmp(make()), { tmpDir })).rejects.toMatchObject({
      code,
      message: expect.stringMatching(message),
    });
    expect(await readdir(tmpDir)).toEqual([]); // temp copies of gzipped input are removed on failure
  });

  it('rejects a missing path', async () => {
    await expect(openDockerArchive(join(work, 'nope.tar'))).rejects.toMatchObject({
      code: 'ENG_IMAGE_SOURCE_NOT_FOUND',
    });
  });
});
