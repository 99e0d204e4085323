import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Package } from '../../model/package.js';
import type { ScanResult } from '../../model/scan.js';
import { toPurl } from '../../purl/index.js';
import { toCycloneDx } from '../../report/cyclonedx.js';
import { spdxLicenseExpression } from '../../report/license.js';
import { comparePackages } from '../../report/packages.js';
import { toSpdx } from '../../report/spdx.js';
import { alpineScan, debianScan, mixedScan } from '../../report/testdata/scans.js';
import { parseSbom, readSbom } from './index.js';

const TESTDATA = join(import.meta.dirname, 'testdata');
const NOW = () => new Date('2024-05-01T00:00:00Z');
const TIMES = { startedAt: '2024-05-01T00:00:00.000Z', finishedAt: '2024-05-01T00:00:00.000Z' };

describe('round trip through our own SBOM outputs', () => {
  /** The scan's packages as the report writes them: report order, purl made from the OS. */
  const written = (scan: ScanResult): Package[] =>
    [...scan.packages].sort(comparePackages).map((p) => ({ ...p, purl: toPurl(p, scan.os) }));

  it.each([
    ['alpine', alpineScan()],
    ['debian', debianScan()],
    ['mixed', mixedScan()],
  ])('CycloneDX (%s): same packages, bom-refs kept, OS and image identity restored', (_name, scan) => {
    const text = toCycloneDx(scan);
    const doc = JSON.parse(text) as { components: { type: string; 'bom-ref': string }[] };
    const refs = doc.components.filter((c) => c.type !== 'operating-system').map((c) => c['bom-ref']);
    const back = parseSbom(text, { name: 'vigil.cdx.json', now: NOW });
    const expected = written(scan).map((p, i) => ({
      ...p,
      // the writer normalises license ids to their SPDX spelling (mixed: @babel/core 'mit' → 'MIT')
      ...(p.licenses ? { licenses: p.licenses.map((l) => (l === 'mit' ? 'MIT' : l)) } : {}),
      metadata: { bomRef: refs[i]! },
    }));
    expect(back.packages).toEqual(expected);
    const a = scan.artifact;
    expect({ ...back, packages: undefined }).toEqual({
      packages: undefined,
      artifact: {
        name: a.name,
        kind: 'sbom',
        // docker-archive (debian) has no manifest digest: the component version is the config digest
        ...(a.digest ? { digest: a.digest } : {}),
        ...(a.configDigest ? { configDigest: a.configDigest } : {}),
        ...(a.repoTags ? { repoTags: a.repoTags } : {}),
        ...(a.repoDigests ? { repoDigests: a.repoDigests } : {}),
      },
      // os-release NAME / codename are not part of the SBOM; the pretty name is the description
      ...(scan.os
        ? { os: { family: scan.os.family, version: scan.os.version, prettyName: scan.os.prettyName } }
        : {}),
      unknowns: [],
      status: 'succeeded',
      ...TIMES,
    });
    // duplicated lodash (mixed): both bom-refs carry a distinct package-id qualifier, the purls do not
    if (_name === 'mixed') {
      const lodash = refs.filter((r) => r.startsWith('pkg:npm/lodash@4.17.21?package-id='));
      expect(new Set(lodash).size).toBe(2);
    }
  });

  it.each([
    ['alpine', alpineScan()],
    ['debian', debianScan()],
    ['mixed', mixedScan()],
  ])('SPDX (%s): same packages; licenses become one declared expression', (_name, scan) => {
    const text = toSpdx(scan);
    const doc = JSON.parse(text) as { packages: { SPDXID: string }[] };
    const ids = doc.packages.map((p) => p.SPDXID).filter((id) => id.startsWith('SPDXRef-Package-'));
    const back = parseSbom(text, { name: 'vigil.spdx.json', now: NOW });
    const expected = written(scan).map((p, i) => {
      const { licenses, ...rest } = p;
      const declared = spdxLicenseExpression(licenses);
      return { ...rest, ...(declared ? { licenses: [declared] } : {}), metadata: { spdxId: ids[i]! } };
    });
    expect(back.packages).toEqual(expected);
    // SPDX carries the image digest only through the pkg:oci purl (registry images)
    expect(back.artifact).toEqual({
      name: scan.artifact.name,
      kind: 'sbom',
      ...(scan.artifact.kind === 'registry' ? { digest: scan.artifact.digest } : {}),
    });
    expect(back.os).toEqual(
      scan.os
        ? { family: scan.os.family, version: scan.os.version, prettyName: scan.os.prettyName }
        : undefined,
    );
  });
});

describe('third-party SBOMs', () => {
  const TRIVY_LAYER = 'sha256:1bfeebd65323b8ddf5bd6a51cc7097b72788bc982e9ab3280d53d3c613adffa7';
  const APP_LAYER = 'sha256:7e5f1f2cbd7f0a1b6ea2bb0b4fda2a6f1b5e7d8c9a0b1c2d3e4f5a6b7c8d9e0f';
  const ALPINE_DIGEST = 'sha256:a4fd1e1e6b1b3a2b46e7cb5a2d6e1c1b0b3b9b2c2f0b5a0a8c1d2e3f4a5b6c7d';

  it('trivy CycloneDX: OS component, distro=<version> purls, Src* and FilePath properties, group names', async () => {
    const r = await readSbom(join(TESTDATA, 'trivy-alpine.cdx.json'), { now: NOW });
    const cdx = (purl: string, p: Partial<Package>): Package =>
      ({ purl, foundBy: 'sbom/cyclonedx', ...p }) as Package;
    expect(r).toEqual({
      artifact: {
        name: 'alpine:3.10',
        kind: 'sbom',
        // the version of the metadata component's pkg:oci purl; ImageID is the config digest
        digest: ALPINE_DIGEST,
        configDigest: 'sha256:be4e4bea2c2e15b403bb321562e78ea84b501fb41497472e91ecb41504e8a27c',
        repoTags: ['alpine:3.10'],
        repoDigests: [`alpine@${ALPINE_DIGEST}`],
      },
      os: { family: 'alpine', version: '3.10.4' },
      packages: [
        cdx('pkg:apk/alpine/libcrypto1.1@1.1.1c-r0?arch=x86_64&distro=3.10.4', {
          name: 'libcrypto1.1',
          version: '1.1.1c-r0',
          ecosystem: 'apk',
          arch: 'x86_64',
          srcName: 'openssl',
          srcVersion: '1.1.1c-r0',
          licenses: ['OpenSSL'],
          layer: TRIVY_LAYER,
          metadata: { bomRef: 'pkg:apk/alpine/libcrypto1.1@1.1.1c-r0?arch=x86_64&distro=3.10.4' },
        }),
        cdx('pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=3.10.4', {
          name: 'musl',
          version: '1.1.22-r3',
          ecosystem: 'apk',
          arch: 'x86_64',
          srcName: 'musl',
          srcVersion: '1.1.22-r3',
          licenses: ['MIT'],
          layer: TRIVY_LAYER,
          metadata: { bomRef: 'pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=3.10.4' },
        }),
        // the lock-file application component has no purl and is structure, not a package
        cdx('pkg:npm/%40babel/traverse@7.22.5', {
          name: '@babel/traverse',
          version: '7.22.5',
          ecosystem: 'npm',
          licenses: ['MIT'],
          layer: APP_LAYER,
          path: 'app/package-lock.json',
          metadata: { bomRef: 'pkg:npm/%40babel/traverse@7.22.5?file_path=app%2Fpackage-lock.json' },
        }),
        cdx('pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1', {
          name: 'org.apache.logging.log4j:log4j-core',
          version: '2.14.1',
          ecosystem: 'maven',
          layer: APP_LAYER,
          path: 'opt/app/log4j-core-2.14.1.jar',
          metadata: {
            bomRef:
              'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?file_path=opt%2Fapp%2Flog4j-core-2.14.1.jar',
          },
        }),
      ],
      unknowns: [],
      status: 'succeeded',
      ...TIMES,
    });
  });

  it('syft CycloneDX: upstream qualifiers, syft:location and syft:distro properties, skipped components counted', async () => {
    const path = join(TESTDATA, 'syft-debian.cdx.json');
    const r = await readSbom(path, { now: NOW });
    const LAYER = 'sha256:1a5fc1184c48d6d3be0e1a6a3a4a25b1e3b7b8e1f2d3c4b5a697887a6b5c4d3e';
    expect(r).toEqual({
      // metadata.component.version is digest-shaped and no config digest is named
      artifact: {
        name: 'debian',
        kind: 'sbom',
        digest: 'sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0',
      },
      os: { family: 'debian', version: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
      packages: [
        {
          name: 'bash',
          version: '5.2.15-2+b2',
          ecosystem: 'deb',
          arch: 'amd64',
          // syft:metadata:source/sourceVersion are read only when no Vigil/trivy source is named;
          // the purl's upstream=bash@5.2.15-2 says the same
          srcName: 'bash',
          srcVersion: '5.2.15-2',
          purl: 'pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2',
          foundBy: 'sbom/cyclonedx',
          licenses: ['GPL-3.0-only'],
          layer: LAYER,
          path: 'var/lib/dpkg/status',
          metadata: {
            bomRef:
              'pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12&package-id=6b0a2c5e3d1f4a9b',
          },
        },
        {
          name: 'libc6',
          version: '2.36-9+deb12u4',
          ecosystem: 'deb',
          arch: 'amd64',
          srcName: 'glibc',
          purl: 'pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc',
          foundBy: 'sbom/cyclonedx',
          licenses: ['GPL-2.0-only', 'LGPL-2.1-only'],
          layer: LAYER,
          path: 'var/lib/dpkg/status',
          metadata: {
            bomRef:
              'pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&package-id=8f8e2a1b6c3d4e5f',
          },
        },
        {
          name: 'requests',
          version: '2.28.1',
          ecosystem: 'pypi',
          purl: 'pkg:pypi/requests@2.28.1',
          foundBy: 'sbom/cyclonedx',
          licenses: ['Apache-2.0'],
          layer: 'sha256:9c8b7a6f5e4d3c2b1a09f8e7d6c5b4a39c8b7a6f5e4d3c2b1a09f8e7d6c5b4a3',
          path: 'usr/lib/python3/dist-packages/requests-2.28.1.dist-info/METADATA',
          metadata: { bomRef: 'pkg:pypi/requests@2.28.1?package-id=a1b2c3d4e5f60718' },
        },
      ],
      unknowns: [
        // vendored-zlib: a library without a purl; the file component is not counted
        { path, message: '1 package without a purl skipped (cannot be matched)', source: 'sbom/cyclonedx' },
        {
          path,
          message: '1 package with unsupported purl type "generic" skipped (e.g. pkg:generic/python@3.11.2)',
          source: 'sbom/cyclonedx',
        },
      ],
      status: 'partial',
      ...TIMES,
    });
  });

  it('trivy SPDX: OPERATING-SYSTEM package, annotations and attributionTexts, application packages skipped', async () => {
    const r = await readSbom(join(TESTDATA, 'trivy-alpine.spdx.json'), { now: NOW });
    expect(r).toEqual({
      artifact: {
        name: 'alpine:3.10',
        kind: 'sbom',
        digest: ALPINE_DIGEST,
        configDigest: 'sha256:be4e4bea2c2e15b403bb321562e78ea84b501fb41497472e91ecb41504e8a27c',
        repoTags: ['alpine:3.10'],
      },
      os: { family: 'alpine', version: '3.10.4' },
      packages: [
        {
          name: 'musl',
          version: '1.1.22-r3',
          ecosystem: 'apk',
          arch: 'x86_64',
          srcName: 'musl',
          srcVersion: '1.1.22-r3',
          purl: 'pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=3.10.4',
          foundBy: 'sbom/spdx',
          licenses: ['MIT'],
          layer: TRIVY_LAYER,
          metadata: { spdxId: 'SPDXRef-Package-2b3c4d5e6f7a8b9c' },
        },
        {
          name: 'libssl1.1',
          version: '1.1.1c-r0',
          ecosystem: 'apk',
          arch: 'x86_64',
          srcName: 'openssl',
          srcVersion: '1.1.1c-r0',
          purl: 'pkg:apk/alpine/libssl1.1@1.1.1c-r0?arch=x86_64&distro=3.10.4',
          foundBy: 'sbom/spdx',
          licenses: ['OpenSSL'],
          layer: TRIVY_LAYER,
          metadata: { spdxId: 'SPDXRef-Package-3c4d5e6f7a8b9c0d' },
        },
        {
          // licenseDeclared NONE, licenseConcluded NOASSERTION → no licenses
          name: '@babel/traverse',
          version: '7.22.5',
          ecosystem: 'npm',
          purl: 'pkg:npm/%40babel/traverse@7.22.5',
          foundBy: 'sbom/spdx',
          path: 'app/package-lock.json',
          metadata: { spdxId: 'SPDXRef-Package-5e6f7a8b9c0d1e2f' },
        },
      ],
      unknowns: [],
      status: 'succeeded',
      ...TIMES,
    });
  });
});

describe('purl details', () => {
  const cdx = (components: unknown[], extra: Record<string, unknown> = {}) =>
    JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.4', components, ...extra });
  const lib = (purl: string, more: Record<string, unknown> = {}) => ({
    type: 'library',
    name: 'x',
    purl,
    ...more,
  });

  it('rpm epoch and source rpm, golang and composer names, nested components, distro from purls', () => {
    const r = parseSbom(
      cdx([
        lib(
          'pkg:rpm/redhat/openssl-libs@3.0.7-24.el9?arch=x86_64&distro=rhel-9.3&epoch=1&upstream=openssl-3.0.7-24.el9.src.rpm',
        ),
        {
          type: 'application',
          name: 'app',
          components: [
            lib('pkg:golang/github.com/Azure/go-autorest@v14.2.0%2Bincompatible'),
            lib('pkg:composer/laravel/framework@v10.0.0'),
          ],
        },
        lib('pkg:rpm/redhat/bash@5.1.8-6.el9_1?arch=x86_64&distro=rhel-9.3&epoch=0'),
      ]),
      { name: 'n.json' },
    );
    expect(r.packages.map((p) => [p.ecosystem, p.name, p.version, p.srcName, p.srcVersion, p.arch])).toEqual([
      // epoch=1 > 0 → 1:version (rpm compares a missing epoch as 0); upstream is the source rpm file
      ['rpm', 'openssl-libs', '1:3.0.7-24.el9', 'openssl', '3.0.7-24.el9', 'x86_64'],
      // nested under the application component, in document (pre-)order
      ['golang', 'github.com/Azure/go-autorest', 'v14.2.0+incompatible', undefined, undefined, undefined],
      ['composer', 'laravel/framework', 'v10.0.0', undefined, undefined, undefined],
      ['rpm', 'bash', '5.1.8-6.el9_1', undefined, undefined, 'x86_64'],
    ]);
    // no operating-system component: the distro qualifier, rhel-9.3
    expect(r.os).toEqual({ family: 'rhel', version: '9.3' });
  });

  it('wolfi purls without distro give a versionless wolfi OS; conflicting distros are reported', () => {
    const wolfi = parseSbom(cdx([lib('pkg:apk/wolfi/glibc@2.38-r1?arch=x86_64')]), { name: 'w.json' });
    expect(wolfi.os).toEqual({ family: 'wolfi', version: '' });
    const mixed = parseSbom(
      cdx([lib('pkg:deb/debian/a@1?distro=debian-11'), lib('pkg:deb/debian/b@1?distro=debian-12')]),
      { name: 'm.json' },
    );
    expect([mixed.os, mixed.unknowns.map((u) => u.message)]).toEqual([
      { family: 'debian', version: '11' },
      ['package purls name 2 distributions (debian-11, debian-12); using debian 11'],
    ]);
  });

  it('per-component problems become unknowns, the rest is read', () => {
    const r = parseSbom(
      cdx([
        7,
        lib('pkg:npm/%zz'),
        lib('pkg:npm/left-pad'),
        lib('pkg:npm/left-pad', { version: '1.3.0' }),
        lib('pkg:github/actions/checkout@v4'),
      ]),
      { name: 'p.json' },
    );
    expect([
      r.packages.map((p) => `${p.name}@${p.version}`),
      r.unknowns.map((u) => u.message),
      r.status,
    ]).toEqual([
      // the declared version fills in for a purl without one
      ['left-pad@1.3.0'],
      [
        'components[0]: not an object',
        'components[1]: invalid purl "pkg:npm/%zz"',
        'components[2]: pkg:npm/left-pad has no version',
        '1 package with unsupported purl type "github" skipped (e.g. pkg:github/actions/checkout@v4)',
      ],
      'partial',
    ]);
  });
});

describe('not an SBOM', () => {
  // [why, input, message]
  const CASES: [string, string | Uint8Array, string][] = [
    [
      'CycloneDX XML',
      '<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.5"/>',
      'f: XML SBOMs are not supported',
    ],
    ['SPDX tag-value', 'SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\n', 'f: SPDX tag-value is not supported'],
    [
      'other JSON',
      '{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}',
      'f: not a CycloneDX or SPDX 2.x JSON document',
    ],
    [
      'SPDX 3',
      '{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}',
      'f: SPDX 3 is not supported',
    ],
    ['components not a list', '{"bomFormat": "CycloneDX", "components": {}}', 'f: components is not a list'],
    [
      'nested components not a list',
      '{"bomFormat": "CycloneDX", "components": [{"type": "library", "components": 1}]}',
      'f: components[0].components is not a list',
    ],
    ['packages not a list', '{"spdxVersion": "SPDX-2.3", "packages": "x"}', 'f: packages is not a list'],
    ['not UTF-8', new Uint8Array([0x7b, 0xc3, 0x28, 0x7d]), 'f: not UTF-8 text'],
  ];
  it.each(CASES)('%s → ENG_SBOM_INVALID', (_why, input, message) => {
    expect(() => parseSbom(input, { name: 'f' })).toThrowError(
      expect.objectContaining({ code: 'ENG_SBOM_INVALID', message: expect.stringContaining(message) }),
    );
  });

  it('readSbom: a missing path and a directory are coded errors; a BOM-prefixed file reads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-sbom-'));
    const bom = join(dir, 'bom.json');
    await writeFile(bom, `\uFEFF${JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6' })}`);
    const codes = await Promise.all(
      [join(dir, 'nope.json'), dir].map((p) =>
        readSbom(p).then(
          () => 'ok',
          (e) => e.code,
        ),
      ),
    );
    const empty = await readSbom(bom);
    expect([codes, empty.packages, empty.artifact]).toEqual([
      ['ENG_IMAGE_SOURCE_NOT_FOUND', 'ENG_SBOM_INVALID'],
      [],
      { name: 'bom.json', kind: 'sbom' },
    ]);
  });
});
