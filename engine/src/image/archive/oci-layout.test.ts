import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRealdata, realdata } from '../../../../test/support/realdata.js';
import { openOciLayout } from './oci-layout.js';
import {
  copyWritable,
  describeSource,
  hashLayers,
  hashStream,
  layerTar,
  ociImage,
  sha256,
  writeLayout,
} from './testdata/helpers.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'vigil-oci-layout-test-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});
let n = 0;
const fresh = () => join(work, `l${n++}`);

const MULTI = 'images/oci-layout/stereoscope-multiplatform-index-only';
const OCI_TAR = 'application/vnd.oci.image.layer.v1.tar';
const OCI_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';

describe.skipIf(!hasRealdata)('OCI layouts from realdata', () => {
  it('opens the trivy hello-world layout directory (index.json without platforms)', async () => {
    const path = realdata('images/oci-layout/trivy-hello-world-oci');
    const source = await openOciLayout(path);
    // digests from index.json → manifest afb7… → config b23a… / layer cdd1… (size 2610)
    expect(describeSource(source)).toEqual({
      kind: 'oci-layout',
      name: path,
      digest: 'sha256:afb744871f99e0ff8e6f253244836ed34c5d805fdb096d3a205ffaf5e9073cab',
      repoTags: [],
      repoDigests: [],
      configDigest: 'sha256:b23a8f6569ae9ae331226205fa72f480ce5310707d0bc97e611f83fbbbde4604',
      arch: 'amd64',
      diffIds: ['sha256:9c27e219663c25e0f28493790cc0b88bc973ba3b1686355f221c38a36978ac63'],
      layers: [
        {
          diffId: 'sha256:9c27e219663c25e0f28493790cc0b88bc973ba3b1686355f221c38a36978ac63',
          digest: 'sha256:cdd16bd695eda2819e7637648f573c2ca64896c4f7bff9732ac9db734ca3bc2c',
          mediaType: OCI_GZIP,
          size: 2610,
        },
      ],
    });
    expect(await hashLayers(source)).toEqual([
      'sha256:cdd16bd695eda2819e7637648f573c2ca64896c4f7bff9732ac9db734ca3bc2c',
    ]);
  });

  // index.json → nested index a1a8… → amd64 manifest e7c2… (config 5492…, layer 9795…) and arm64 manifest 5ed0… (config 3cd6…, layer 1803…)
  const amd64 = {
    digest: 'sha256:e7c26a4b4d156fd9947ee82295b7b78acf7aa54b93b8f3e4b9f608179ffb20e8',
    configDigest: 'sha256:549248a7ac95478805d9248e4ffdc778fc2404257d8c071848746e0100e08099',
    arch: 'amd64',
    layers: [
      {
        diffId: 'sha256:153922c8857b203a66f7a8e3f6316fc84669ce530003fddaf99d9a30cc9e4b0e',
        digest: 'sha256:9795e995b4d86eb9409970bc5bff940f0d67a54e8f52dd39abb8c6504187af89',
        mediaType: OCI_GZIP,
        size: 880,
      },
    ],
  };
  const arm64 = {
    digest: 'sha256:5ed07065bcbc6c52e3ad28526557d7b6833613fc79257b1a786de85e37c03b05',
    configDigest: 'sha256:3cd6022503cef24ee80dc156bf171c8d1d588c2ea1904bcd8ef2728c36341594',
    arch: 'arm64',
    layers: [
      {
        diffId: 'sha256:a6b19b78ec5a2f3ddfb84fe2f60aaf0651524c9a826a92fb7f3ac620801eb74d',
        digest: 'sha256:1803d4b442b422fa8380e13687da6cc408e6db8f173baa89c95d08539083e8dd',
        mediaType: OCI_GZIP,
        size: 880,
      },
    ],
  };

  it.each<[string, Parameters<typeof openOciLayout>[1], typeof amd64]>([
    ['default platform', {}, amd64],
    ['platform linux/arm64 (string)', { platform: 'linux/arm64' }, arm64],
    [
      'platform linux/arm64/v8 (object)',
      { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      arm64,
    ],
    ['ref.name latest', { ref: 'latest' }, amd64],
    ['containerd name, normalised', { ref: 'multi-platform', platform: 'linux/arm64' }, arm64],
  ])('selects through the nested index by %s', async (_name, options, want) => {
    const path = realdata(MULTI);
    const source = await openOciLayout(path, options);
    const { repoTags, digest, configDigest, arch, layers } = describeSource(source);
    expect({ repoTags, digest, configDigest, arch, layers }).toEqual({
      repoTags: ['docker.io/library/multi-platform:latest'],
      ...want,
    });
    expect(await hashLayers(source)).toEqual(want.layers.map((l) => l.digest));
  });

  it('names what exists when the platform or ref is not there', async () => {
    await expect(openOciLayout(realdata(MULTI), { platform: 'linux/s390x' })).rejects.toMatchObject({
      code: 'ENG_IMAGE_PLATFORM_NOT_FOUND',
      message: expect.stringContaining(
        'no image for platform linux/s390x (available: linux/amd64, linux/arm64)',
      ),
    });
    await expect(openOciLayout(realdata(MULTI), { ref: 'v2' })).rejects.toMatchObject({
      code: 'ENG_IMAGE_SOURCE_NOT_FOUND',
      message: expect.stringContaining('no image named v2 in index.json (names: latest)'),
    });
  });

  it('opens without the layer blob; opening the layer gives ENG_IMAGE_BLOB_MISSING with the digest', async () => {
    const dir = fresh();
    await copyWritable(realdata(MULTI), dir);
    await unlink(join(dir, 'blobs/sha256/9795e995b4d86eb9409970bc5bff940f0d67a54e8f52dd39abb8c6504187af89'));
    const source = await openOciLayout(dir);
    await expect(source.layers[0]!.open()).rejects.toMatchObject({
      code: 'ENG_IMAGE_BLOB_MISSING',
      message: expect.stringContaining(
        'layer blob sha256:9795e995b4d86eb9409970bc5bff940f0d67a54e8f52dd39abb8c6504187af89 is missing',
      ),
    });
  });

  const v25 = {
    configDigest: 'sha256:ee301c921b8aadc002973b2e0c3da17d701dcd994b606769a7e6eaa100b81d44',
    arch: 'arm64',
    layers: [
      {
        diffId: 'sha256:12660636fe55438cc3ae7424da7ac56e845cdb52493ff9cf949c47a7f57f8b43',
        digest: 'sha256:12660636fe55438cc3ae7424da7ac56e845cdb52493ff9cf949c47a7f57f8b43',
        mediaType: OCI_TAR,
        size: 10752,
      },
    ],
  };

  it('opens the Docker 25 save as an OCI layout tar (its index.json lists nothing: manifest.json is used)', async () => {
    const source = await openOciLayout(realdata('images/oci-archive/ggcr-hello-world-docker-v25-save.tar'));
    const { kind, configDigest, arch, layers, digest } = describeSource(source);
    expect({ kind, configDigest, arch, layers, digest }).toEqual({
      kind: 'oci-layout',
      ...v25,
      digest: undefined,
    });
    expect(await hashLayers(source)).toEqual([v25.layers[0]!.digest]);
  });

  it('opens the same archive through index.json once it lists the manifest (as Docker 25 writes it), gzipped too', async () => {
    const dir = fresh();
    await mkdir(dir);
    execFileSync('tar', [
      '-xf',
      realdata('images/oci-archive/ggcr-hello-world-docker-v25-save.tar'),
      '-C',
      dir,
    ]);
    const manifest = 'sha256:411caf340c828657e915a83ed561a79d2b8150dabad4dc079d881cbfe6f86afe';
    const descriptor = {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: manifest,
      size: 447,
      annotations: { 'org.opencontainers.image.ref.name': 'latest' },
    };
    await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [descriptor] }));
    const tarPath = `${dir}.tar`;
    execFileSync('tar', ['-C', dir, '-cf', tarPath, '.']);
    await writeFile(`${tarPath}.gz`, gzipSync(await readFile(tarPath)));
    for (const path of [tarPath, `${tarPath}.gz`]) {
      const source = await openOciLayout(path);
      const { configDigest, arch, layers, digest } = describeSource(source);
      expect({ configDigest, arch, layers, digest }).toEqual({ ...v25, digest: manifest });
      expect(await hashLayers(source)).toEqual([v25.layers[0]!.digest]);
      await source.close();
    }
    // the config says arm64 and the index gives no platform: an explicit amd64 request must fail
    await expect(openOciLayout(tarPath, { platform: 'linux/amd64' })).rejects.toMatchObject({
      code: 'ENG_IMAGE_PLATFORM_NOT_FOUND',
      message: expect.stringContaining('the image is linux/arm64, not linux/amd64'),
    });
  });

  it('refuses an OCI artifact manifest with ENG_IMAGE_MEDIA_TYPE_UNSUPPORTED', async () => {
    const artifact = await readFile(realdata('images/manifests/cimage-oci-artifact-manifest.json'));
    const dir = await writeLayout(
      fresh(),
      {
        schemaVersion: 2,
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: sha256(artifact),
            size: artifact.length,
          },
        ],
      },
      [artifact],
    );
    await expect(openOciLayout(dir)).rejects.toMatchObject({
      code: 'ENG_IMAGE_MEDIA_TYPE_UNSUPPORTED',
      message: expect.stringContaining(
        'this is an OCI artifact (application/vnd.oci.custom.artifact.config.v1+json), not a container image',
      ),
    });
  });
});

describe('hand-made OCI layouts', () => {
  const image = ociImage([{ 'etc/a': 'a' }, { 'etc/b': 'b' }], {
    annotations: { 'org.opencontainers.image.ref.name': 'one' },
  });
  const indexOf = (...descriptors: unknown[]) => ({ schemaVersion: 2, manifests: descriptors });

  it('reads a two-layer image and streams both layers verified', async () => {
    const source = await openOciLayout(await writeLayout(fresh(), indexOf(image.descriptor), image.blobs));
    expect(source.layers.map((l) => l.diffId)).toEqual([
      sha256(layerTar({ 'etc/a': 'a' })),
      sha256(layerTar({ 'etc/b': 'b' })),
    ]);
    expect(await hashLayers(source)).toEqual(source.layers.map((l) => l.digest));
  });

  it('asks for a ref when several images without platforms are listed', async () => {
    const other = ociImage([{ x: 'x' }], { annotations: { 'org.opencontainers.image.ref.name': 'two' } });
    const dir = await writeLayout(fresh(), indexOf(image.descriptor, other.descriptor), [
      ...image.blobs,
      ...other.blobs,
    ]);
    await expect(openOciLayout(dir)).rejects.toMatchObject({
      code: 'ENG_INVALID_ARGUMENT',
      message: expect.stringContaining('choose one by ref (one, two)'),
    });
    expect((await openOciLayout(dir, { ref: 'two' })).digest).toBe(other.descriptor.digest);
  });

  it('skips attestation manifests listed beside the image', async () => {
    const att = ociImage([], {
      platform: { os: 'unknown', architecture: 'unknown' },
      annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
    });
    const img = ociImage([{ a: 'a' }], { platform: { os: 'linux', architecture: 'arm64' } });
    const nested = Buffer.from(JSON.stringify(indexOf(img.descriptor, att.descriptor)));
    const dir = await writeLayout(
      fresh(),
      indexOf({
        mediaType: 'application/vnd.oci.image.index.v1+json',
        digest: sha256(nested),
        size: nested.length,
      }),
      [nested, ...img.blobs, ...att.blobs],
    );
    expect((await openOciLayout(dir)).digest).toBe(img.descriptor.digest); // the only image, although not amd64
  });

  /** A copy of blob `which` with one bit flipped near its end. */
  const tamper = (blobs: Buffer[], which: number) => {
    const changed = Buffer.from(blobs[which]!);
    changed.writeUInt8(changed.readUInt8(changed.length - 2) ^ 1, changed.length - 2);
    return { changed };
  };

  it('fails a layer stream whose blob does not hash to its digest, at the end of the stream', async () => {
    const dir = await writeLayout(fresh(), indexOf(image.descriptor), image.blobs);
    const layerDigest = sha256(image.blobs[2]!);
    const { changed } = tamper(image.blobs, 2);
    await writeFile(join(dir, 'blobs/sha256', layerDigest.slice(7)), changed);
    const source = await openOciLayout(dir);
    await expect(hashStream(await source.layers[0]!.open())).rejects.toMatchObject({
      code: 'ENG_DIGEST_MISMATCH',
      message: expect.stringContaining(`expected ${layerDigest}`),
    });
  });

  it.each([
    ['config', 0],
    ['manifest', 1],
  ])('rejects a %s blob that does not hash to its digest', async (_what, which) => {
    const dir = await writeLayout(fresh(), indexOf(image.descriptor), image.blobs);
    const { changed } = tamper(image.blobs, which);
    await writeFile(join(dir, 'blobs/sha256', sha256(image.blobs[which]!).slice(7)), changed);
    await expect(openOciLayout(dir)).rejects.toMatchObject({ code: 'ENG_DIGEST_MISMATCH' });
  });

  const bigManifest = Buffer.from(JSON.stringify({ schemaVersion: 2, pad: 'x'.repeat(4 * 1024 * 1024) }));
  it.each<[string, () => Promise<string>, string, RegExp]>([
    [
      'no index.json',
      async () => writeLayout(fresh(), '{}', []).then(async (d) => (await unlink(join(d, 'index.json')), d)),
      'ENG_IMAGE_FORMAT_UNKNOWN',
      /no index.json/,
    ],
    [
      'index.json that is not JSON',
      () => writeLayout(fresh(), '{"manifests": [', []),
      'ENG_IMAGE_MANIFEST_INVALID',
      /index.json index.json is not valid JSON/,
    ],
    [
      'an oversized index.json',
      () => writeLayout(fresh(), `{"manifests":[]${' '.repeat(4 * 1024 * 1024)}}`, []),
      'ENG_IMAGE_MANIFEST_TOO_LARGE',
      /over the 4194304-byte limit/,
    ],
    [
      'an index listing nothing',
      () => writeLayout(fresh(), indexOf(), []),
      'ENG_IMAGE_MANIFEST_INVALID',
      /holds no image manifest/,
    ],
    [
      'a descriptor with a bad digest',
      () =>
        writeLayout(
          fresh(),
          indexOf({ ...image.descriptor, digest: 'sha256:../../etc/passwd' }),
          image.blobs,
        ),
      'ENG_DIGEST_INVALID',
      /is not a sha256\/sha512 digest/,
    ],
    [
      'a missing manifest blob',
      () => writeLayout(fresh(), indexOf(image.descriptor), [image.blobs[0]!]),
      'ENG_IMAGE_BLOB_MISSING',
      new RegExp(`manifest ${image.descriptor.digest}`),
    ],
    [
      'a missing config blob',
      () => writeLayout(fresh(), indexOf(image.descriptor), image.blobs.slice(1)),
      'ENG_IMAGE_BLOB_MISSING',
      new RegExp(`image config ${sha256(image.blobs[0]!)}`),
    ],
    [
      'a manifest over 4 MiB',
      () =>
        writeLayout(
          fresh(),
          indexOf({
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: sha256(bigManifest),
            size: bigManifest.length,
          }),
          [bigManifest],
        ),
      'ENG_IMAGE_MANIFEST_TOO_LARGE',
      /over the 4194304-byte limit/,
    ],
    [
      'a Docker schema 1 manifest',
      async () => {
        const m = Buffer.from('{"schemaVersion":1,"name":"x","fsLayers":[]}');
        return writeLayout(
          fresh(),
          indexOf({
            mediaType: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
            digest: sha256(m),
            size: m.length,
          }),
          [m],
        );
      },
      'ENG_IMAGE_MANIFEST_UNSUPPORTED',
      /schema 1/,
    ],
    [
      'a layer of an unknown media type',
      async () => {
        const m = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            config: {
              mediaType: 'application/vnd.oci.image.config.v1+json',
              digest: sha256(image.blobs[0]!),
              size: 1,
            },
            layers: [
              {
                mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
                digest: sha256('x'),
                size: 1,
              },
            ],
          }),
        );
        return writeLayout(
          fresh(),
          indexOf({
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: sha256(m),
            size: m.length,
          }),
          [m, image.blobs[0]!],
        );
      },
      'ENG_IMAGE_MEDIA_TYPE_UNSUPPORTED',
      /helm.chart.content.v1.tar\+gzip", not a \(gzip\/zstd\) tar layer/,
    ],
    [
      'diff_ids that do not match the layer count',
      async () => {
        const one = ociImage([{ a: 'a' }]);
        const config = Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: [] } }));
        const m = JSON.parse(one.manifest.toString()) as { config: { digest: string; size: number } };
        m.config = { ...m.config, digest: sha256(config), size: config.length };
        const mb = Buffer.from(JSON.stringify(m));
        return writeLayout(
          fresh(),
          indexOf({
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: sha256(mb),
            size: mb.length,
          }),
          [config, mb],
        );
      },
      'ENG_IMAGE_CONFIG_INVALID',
      /lists 0 diff_ids for 1 layers/,
    ],
  ])('rejects %s', async (_name, make, code, message) => {
    await expect(openOciLayout(await make())).rejects.toMatchObject({
      code,
      message: expect.stringMatching(message),
    });
  });

  it('rejects a bad platform string and a missing path', async () => {
    const dir = await writeLayout(fresh(), indexOf(image.descriptor), image.blobs);
    await expect(openOciLayout(dir, { platform: 'linux' })).rejects.toMatchObject({
      code: 'ENG_INVALID_ARGUMENT',
    });
    await expect(openOciLayout(join(work, 'nope'))).rejects.toMatchObject({
      code: 'ENG_IMAGE_SOURCE_NOT_FOUND',
    });
  });

  it('does not follow a blob symlink that leaves the layout', async () => {
    const dir = await writeLayout(fresh(), indexOf(image.descriptor), image.blobs);
    const layer = join(dir, 'blobs/sha256', sha256(image.blobs[2]!).slice(7));
    const outside = join(work, 'outside-secret');
    await writeFile(outside, image.blobs[2]!);
    await unlink(layer);
    execFileSync('ln', ['-s', outside, layer]);
    const source = await openOciLayout(dir);
    await expect(source.layers[0]!.open()).rejects.toMatchObject({ code: 'ENG_IMAGE_BLOB_MISSING' });
  });
});
