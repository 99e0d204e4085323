import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fuzz } from '../../../../test/support/fuzz.js';
import { hasRealdata, realdata } from '../../../../test/support/realdata.js';
import { EngineError, isEngineError } from '../../errors.js';
import { MEDIA_TYPES, parseManifest } from './manifest.js';
import { availablePlatforms, normalizePlatform, selectPlatform } from './platform.js';

const read = (name: string) => readFileSync(realdata(`images/manifests/${name}`));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isEngineError(error) ? error.code : `uncoded: ${String(error)}`;
  }
  return undefined;
}

describe.skipIf(!hasRealdata)('parseManifest on real manifests', () => {
  it('reads an OCI image manifest (config + 3 gzip layers, as in the file)', () => {
    const m = parseManifest(read('cimage-oci-image-manifest.json'), MEDIA_TYPES.ociManifest, 'm');
    expect(m).toEqual({
      kind: 'image',
      mediaType: MEDIA_TYPES.ociManifest,
      config: {
        mediaType: MEDIA_TYPES.ociConfig,
        size: 7023,
        digest: 'sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7',
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          size: 32654,
          digest: 'sha256:e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f',
        },
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          size: 16724,
          digest: 'sha256:3c3a4604a545cdc127456d94e421cd355bca5b528f4a9c1905b15da2eb4a4c6b',
        },
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          size: 73109,
          digest: 'sha256:ec4b8955958665577945c89419d1af06b5f7636b4ac3da7f12184802ad867736',
        },
      ],
    });
  });

  it('lets the body decide when the Content-Type is generic', () => {
    expect(parseManifest(read('cimage-docker-v2s2-manifest.json'), 'application/json', 'm').mediaType).toBe(
      MEDIA_TYPES.dockerManifest,
    );
    expect(parseManifest(read('cimage-oci-image-index.json'), undefined, 'm').kind).toBe('index');
  });

  it('refuses schema 1 by header or by body, saying so', () => {
    const body = read('cimage-docker-v2s1-signed-manifest.json');
    expect(() => parseManifest(body, MEDIA_TYPES.dockerSchema1Signed, 'manifest "latest" of r/x')).toThrow(
      /manifest "latest" of r\/x: Docker image manifest schema 1 is not supported/,
    );
    expect(codeOf(() => parseManifest(body, 'application/json', 'm'))).toBe('ENG_IMAGE_MANIFEST_UNSUPPORTED');
    expect(codeOf(() => parseManifest(Buffer.from('{}'), MEDIA_TYPES.dockerSchema1, 'm'))).toBe(
      'ENG_IMAGE_MANIFEST_UNSUPPORTED',
    );
  });

  it('refuses artifacts and unknown media types', () => {
    expect(
      codeOf(() => parseManifest(read('cimage-oci-artifact-manifest.json'), MEDIA_TYPES.ociManifest, 'm')),
    ).toBe('ENG_IMAGE_MANIFEST_INVALID');
    const helm = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        config: {
          mediaType: 'application/vnd.cncf.helm.config.v1+json',
          digest: `sha256:${'1'.repeat(64)}`,
          size: 1,
        },
        layers: [],
      }),
    );
    expect(() => parseManifest(helm, MEDIA_TYPES.ociManifest, 'm')).toThrow(
      /not a container image \(config media type "application\/vnd.cncf.helm.config.v1\+json"/,
    );
    expect(
      codeOf(() =>
        parseManifest(read('cimage-oci-image-manifest.json'), 'application/vnd.example.thing+json', 'm'),
      ),
    ).toBe('ENG_IMAGE_MEDIA_TYPE_UNSUPPORTED');
  });

  it('reports malformed bodies as ENG_IMAGE_MANIFEST_INVALID', () => {
    for (const text of [
      'not json',
      '[]',
      '{"schemaVersion":3}',
      '{"schemaVersion":2,"manifests":[{"digest":"sha256:x"}]}',
    ]) {
      expect(codeOf(() => parseManifest(Buffer.from(text), undefined, 'm'))).toBe(
        'ENG_IMAGE_MANIFEST_INVALID',
      );
    }
  });

  it('fuzz: only coded manifest errors on mutated real manifests', async () => {
    const names = [
      'cimage-docker-manifest-list.json',
      'cimage-docker-v2s2-manifest.json',
      'cimage-oci-image-index.json',
      'cimage-oci-image-manifest.json',
      'cimage-docker-v2s1-signed-manifest.json',
    ];
    const seeds = names.map(read);
    const types = [undefined, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerList, 'application/json'];
    let i = 0;
    const failures = await fuzz(
      seeds,
      12_000,
      (input) => parseManifest(input, types[i++ % types.length], 'm'),
      {
        allowed: (e) =>
          e instanceof EngineError &&
          /^ENG_IMAGE_(MANIFEST_INVALID|MANIFEST_UNSUPPORTED|MEDIA_TYPE_UNSUPPORTED)$/.test(e.code),
      },
    );
    expect(failures).toEqual([]);
  });
});

describe.skipIf(!hasRealdata)('selectPlatform on the real Docker manifest list', () => {
  const list = parseManifest(read('cimage-docker-manifest-list.json'), MEDIA_TYPES.dockerList, 'list');
  const manifests = list.kind === 'index' ? list.manifests : [];
  const pick = (os: string, architecture: string, variant?: string) =>
    selectPlatform(manifests, { os, architecture, ...(variant ? { variant } : {}) })?.digest.slice(7, 19);

  it('lists what is there', () => {
    expect(availablePlatforms(manifests)).toEqual([
      'linux/amd64',
      'linux/arm/v5',
      'linux/arm/v6',
      'linux/arm64/v8',
      'linux/386',
      'linux/ppc64le',
      'linux/s390x',
    ]);
  });

  it('matches exact, default-variant, alias and compatible entries', () => {
    expect(pick('linux', 'amd64')).toBe('030fcb92e148'); // amd64 entry
    expect(pick('linux', 'arm64')).toBe('dc472a59fb00'); // arm64 without variant = v8
    expect(pick('linux', 'aarch64')).toBe('dc472a59fb00');
    expect(pick('linux', 'arm64', '8')).toBe('dc472a59fb00');
    expect(pick('linux', 'arm', 'v6')).toBe('b5dbad4bdb44');
    // arm defaults to v7, absent here; v6 is the closest older variant that runs on v7
    expect(pick('linux', 'arm')).toBe('b5dbad4bdb44');
    expect(pick('linux', 'arm', 'v5')).toBe('9142d97ef280');
    expect(pick('LINUX', 'x86_64')).toBe('030fcb92e148');
  });

  it('finds nothing for absent platforms', () => {
    expect(pick('linux', 'riscv64')).toBeUndefined();
    expect(pick('windows', 'amd64')).toBeUndefined();
    expect(pick('linux', 'arm64', 'v9')).toBeUndefined();
  });

  it('normalises', () => {
    expect(normalizePlatform({ os: 'Linux', architecture: 'armhf' })).toEqual({
      os: 'linux',
      architecture: 'arm',
      variant: 'v7',
    });
    expect(normalizePlatform({ os: 'linux', architecture: 'ppc64le' })).toEqual({
      os: 'linux',
      architecture: 'ppc64le',
      variant: '',
    });
  });
});
