import { PackageURL } from 'packageurl-js';
import { describe, expect, it } from 'vitest';
import { fuzz, prng } from '../../../test/support/fuzz.js';
import { hasRealdata, realdata } from '../../../test/support/realdata.js';
import { ECOSYSTEMS, type Ecosystem, type OsRelease, type Package } from '../model/index.js';
import { scanImage } from '../scan/scan-image.js';
import { formatPurl, imagePurl, purlParts, toPurl, type PurlParts } from './index.js';
import { libraryPurl } from './testdata/library-purl.js';

const os = (family: string, version: string): OsRelease => ({ family, version });
const pkg = (ecosystem: Ecosystem, name: string, version: string, extra: Partial<Package> = {}): Package => ({
  name,
  version,
  ecosystem,
  foundBy: 'test',
  ...extra,
});

// [why, package, os, expected]. "spec" = an example from PURL-TYPES.rst; qualifiers appear in
// the canonical (sorted) order.
const CASES: [string, Package, OsRelease | undefined, string][] = [
  // apk
  [
    'brief/syft: alpine musl',
    pkg('apk', 'musl', '1.1.24-r2', { arch: 'x86_64', srcName: 'musl' }),
    os('alpine', '3.10.4'),
    'pkg:apk/alpine/musl@1.1.24-r2?arch=x86_64&distro=alpine-3.10.4',
  ],
  [
    'spec: apk without os',
    pkg('apk', 'curl', '7.83.0-r0', { arch: 'x86' }),
    undefined,
    'pkg:apk/alpine/curl@7.83.0-r0?arch=x86',
  ],
  [
    'apk origin differs → upstream',
    pkg('apk', 'libcrypto3', '3.1.4-r5', { arch: 'aarch64', srcName: 'openssl' }),
    os('alpine', '3.19.1'),
    'pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=aarch64&distro=alpine-3.19.1&upstream=openssl',
  ],
  [
    'wolfi namespace',
    pkg('apk', 'glibc', '2.38-r1', { arch: 'x86_64' }),
    os('wolfi', '20230201'),
    'pkg:apk/wolfi/glibc@2.38-r1?arch=x86_64&distro=wolfi-20230201',
  ],
  [
    'chainguard namespace',
    pkg('apk', 'ca-certificates-bundle', '20230506-r0'),
    os('chainguard', '20230214'),
    'pkg:apk/chainguard/ca-certificates-bundle@20230506-r0?distro=chainguard-20230214',
  ],
  // deb
  [
    'debian libc6 from glibc',
    pkg('deb', 'libc6', '2.36-9+deb12u4', { arch: 'amd64', srcName: 'glibc', srcVersion: '2.36-9+deb12u4' }),
    os('debian', '12'),
    'pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&distro=debian-12&upstream=glibc',
  ],
  [
    'deb source == binary → no upstream',
    pkg('deb', 'bash', '5.2.15-2+b2', { arch: 'amd64', srcName: 'bash', srcVersion: '5.2.15-2+b2' }),
    os('debian', '12.5'),
    'pkg:deb/debian/bash@5.2.15-2+b2?arch=amd64&distro=debian-12.5',
  ],
  [
    'deb epoch stays in the version',
    pkg('deb', 'libgmp10', '2:6.2.1+dfsg1-1.1', {
      arch: 'amd64',
      srcName: 'gmp',
      srcVersion: '2:6.2.1+dfsg1-1.1',
    }),
    os('debian', '12.5'),
    'pkg:deb/debian/libgmp10@2:6.2.1+dfsg1-1.1?arch=amd64&distro=debian-12.5&upstream=gmp',
  ],
  [
    'deb binNMU: source version differs → upstream name@version (@ percent-encoded)',
    pkg('deb', 'libbz2-1.0', '1.0.8-5+b1', { arch: 'amd64', srcName: 'bzip2', srcVersion: '1.0.8-5' }),
    os('debian', '12'),
    'pkg:deb/debian/libbz2-1.0@1.0.8-5+b1?arch=amd64&distro=debian-12&upstream=bzip2%401.0.8-5',
  ],
  [
    'ubuntu namespace',
    pkg('deb', 'libssl3', '3.0.2-0ubuntu1.15', {
      arch: 'amd64',
      srcName: 'openssl',
      srcVersion: '3.0.2-0ubuntu1.15',
    }),
    os('ubuntu', '22.04'),
    'pkg:deb/ubuntu/libssl3@3.0.2-0ubuntu1.15?arch=amd64&distro=ubuntu-22.04&upstream=openssl',
  ],
  [
    'deb derivative keeps debian namespace, own distro',
    pkg('deb', 'dpkg', '1.21.22', { arch: 'arm64' }),
    os('raspbian', '12'),
    'pkg:deb/debian/dpkg@1.21.22?arch=arm64&distro=raspbian-12',
  ],
  // rpm
  [
    'spec: fedora curl',
    pkg('rpm', 'curl', '7.50.3-1.fc25', { arch: 'i386' }),
    os('fedora', '25'),
    'pkg:rpm/fedora/curl@7.50.3-1.fc25?arch=i386&distro=fedora-25',
  ],
  [
    'spec: centerim epoch, no os',
    pkg('rpm', 'centerim', '1:4.22.10-1.el6', { arch: 'i686' }),
    undefined,
    'pkg:rpm/centerim@4.22.10-1.el6?arch=i686&epoch=1',
  ],
  [
    'rhel → redhat, epoch qualifier, upstream from SOURCERPM',
    pkg('rpm', 'openssl-libs', '1:3.0.7-24.el9', {
      arch: 'x86_64',
      srcName: 'openssl',
      srcVersion: '1:3.0.7-24.el9',
    }),
    os('rhel', '9.3'),
    'pkg:rpm/redhat/openssl-libs@3.0.7-24.el9?arch=x86_64&distro=rhel-9.3&epoch=1&upstream=openssl',
  ],
  [
    'amzn → amazon',
    pkg('rpm', 'bash', '5.2.15-1.amzn2023.0.2', {
      arch: 'x86_64',
      srcName: 'bash',
      srcVersion: '5.2.15-1.amzn2023.0.2',
    }),
    os('amzn', '2023'),
    'pkg:rpm/amazon/bash@5.2.15-1.amzn2023.0.2?arch=x86_64&distro=amzn-2023',
  ],
  [
    'ol → oracle; explicit epoch 0 dropped',
    pkg('rpm', 'glibc', '0:2.28-236.0.1.el8', { arch: 'x86_64' }),
    os('ol', '8.9'),
    'pkg:rpm/oracle/glibc@2.28-236.0.1.el8?arch=x86_64&distro=ol-8.9',
  ],
  [
    'opensuse-leap → opensuse',
    pkg('rpm', 'libzypp', '17.31.23-150400.3.49.1', { arch: 'x86_64' }),
    os('opensuse-leap', '15.5'),
    'pkg:rpm/opensuse/libzypp@17.31.23-150400.3.49.1?arch=x86_64&distro=opensuse-leap-15.5',
  ],
  [
    'rocky, almalinux, mariner keep their ids',
    pkg('rpm', 'tzdata', '2024a-1.el9', { arch: 'noarch' }),
    os('rocky', '9.3'),
    'pkg:rpm/rocky/tzdata@2024a-1.el9?arch=noarch&distro=rocky-9.3',
  ],
  [
    'mariner',
    pkg('rpm', 'zlib', '1.2.13-1.cm2', { arch: 'x86_64' }),
    os('mariner', '2.0'),
    'pkg:rpm/mariner/zlib@1.2.13-1.cm2?arch=x86_64&distro=mariner-2.0',
  ],
  // language ecosystems: no os qualifiers even when an os is known
  [
    'spec: scoped npm',
    pkg('npm', '@angular/animation', '12.3.1'),
    os('alpine', '3.19.1'),
    'pkg:npm/%40angular/animation@12.3.1',
  ],
  ['spec: npm', pkg('npm', 'foobar', '12.3.1'), undefined, 'pkg:npm/foobar@12.3.1'],
  [
    'spec: pypi lower case, _ → -',
    pkg('pypi', 'Django_Allauth', '12.23'),
    undefined,
    'pkg:pypi/django-allauth@12.23',
  ],
  [
    'spec: golang module path split',
    pkg('golang', 'github.com/gorilla/context', '234fd47e07d1004f0aed9c'),
    undefined,
    'pkg:golang/github.com/gorilla/context@234fd47e07d1004f0aed9c',
  ],
  [
    'golang keeps case',
    pkg('golang', 'github.com/Azure/azure-sdk-for-go/sdk/azcore', 'v1.9.0'),
    undefined,
    'pkg:golang/github.com/Azure/azure-sdk-for-go/sdk/azcore@v1.9.0',
  ],
  [
    'golang +incompatible',
    pkg('golang', 'github.com/docker/docker', 'v24.0.7+incompatible'),
    undefined,
    'pkg:golang/github.com/docker/docker@v24.0.7+incompatible',
  ],
  ['go stdlib', pkg('golang', 'stdlib', 'v1.21.5'), undefined, 'pkg:golang/stdlib@v1.21.5'],
  [
    'golang v-version that is not semver (packageurl-js validator bug) → best effort',
    pkg('golang', 'example.com/m', 'vX'),
    undefined,
    'pkg:golang/example.com/m@vX',
  ],
  [
    'spec: maven group:artifact',
    pkg('maven', 'org.apache.xmlgraphics:batik-anim', '1.9.1'),
    undefined,
    'pkg:maven/org.apache.xmlgraphics/batik-anim@1.9.1',
  ],
  ['maven without group → best effort', pkg('maven', 'log4j', '1.2.17'), undefined, 'pkg:maven/log4j@1.2.17'],
  [
    'spec: gem',
    pkg('gem', 'ruby-advisory-db-check', '0.12.4'),
    undefined,
    'pkg:gem/ruby-advisory-db-check@0.12.4',
  ],
  ['spec: cargo', pkg('cargo', 'rand', '0.7.2'), undefined, 'pkg:cargo/rand@0.7.2'],
  [
    'spec: composer vendor/name',
    pkg('composer', 'laravel/laravel', '5.5.0'),
    undefined,
    'pkg:composer/laravel/laravel@5.5.0',
  ],
  [
    'spec: nuget keeps case',
    pkg('nuget', 'EnterpriseLibrary.Common', '6.0.1304'),
    undefined,
    'pkg:nuget/EnterpriseLibrary.Common@6.0.1304',
  ],
  [
    'version with a space is percent-encoded',
    pkg('pypi', 'zope.interface', '5.4.0 beta'),
    undefined,
    'pkg:pypi/zope.interface@5.4.0%20beta',
  ],
  ['empty name → no purl', pkg('npm', '', '1.0.0'), undefined, ''],
];

describe('toPurl', () => {
  it.each(CASES)('%s', (_why, p, o, expected) => {
    expect(toPurl(p, o)).toBe(expected);
  });

  it('emits canonical purls: parsing and printing again gives the same string', () => {
    const strict = CASES.filter(([why, , , want]) => want !== '' && !why.includes('best effort'));
    const reprinted = strict.map(([, p, o]) => PackageURL.fromString(toPurl(p, o)).toString());
    expect(reprinted).toEqual(strict.map(([, , , want]) => want));
  });

  it('never throws on hostile names, versions, arches and sources (10,000 mutations)', async () => {
    const seeds = CASES.map(([, p]) =>
      Buffer.from([p.name, p.version, p.arch ?? '', p.srcName ?? '', p.srcVersion ?? ''].join('\n')),
    );
    const failures = await fuzz(seeds, 10_000, (input) => {
      const [name = '', version = '', arch, srcName, srcVersion] = input.toString('utf8').split('\n');
      const ecosystem = ECOSYSTEMS[input.length % ECOSYSTEMS.length]!;
      const out = toPurl(
        pkg(ecosystem, name, version, { arch, srcName, srcVersion }),
        os(arch ?? '', srcName ?? ''),
      );
      if (typeof out !== 'string') throw new Error('not a string');
    });
    expect(failures).toEqual([]);
  });
});

describe('imagePurl', () => {
  const digest = 'sha256:b6a0d2b9a7d5c0a3f7b4cbd1e5d1f7b5f3d2e1c0b9a8f7e6d5c4b3a2f1e0d9c8';
  it.each([
    [
      'Docker Hub short name is expanded (docker.io/library)',
      'alpine:3.19',
      `pkg:oci/alpine@${digest}?repository_url=docker.io%2Flibrary%2Falpine&tag=3.19`,
    ],
    [
      'other registry, nested repository',
      'ghcr.io/acme/tools/scanner:v2',
      `pkg:oci/scanner@${digest}?repository_url=ghcr.io%2Facme%2Ftools%2Fscanner&tag=v2`,
    ],
    [
      'digest-only reference has no tag',
      `quay.io/org/app@${digest}`,
      `pkg:oci/app@${digest}?repository_url=quay.io%2Forg%2Fapp`,
    ],
  ])('%s', (_why, name, expected) => {
    expect(imagePurl({ name, kind: 'registry', digest })).toBe(expected);
  });

  it('is undefined without a digest, for archives, and for unparsable names', () => {
    expect([
      imagePurl({ name: 'alpine:3.19', kind: 'registry' }),
      imagePurl({ name: 'image.tar', kind: 'docker-archive', digest }),
      imagePurl({ name: 'Not A Ref', kind: 'registry', digest }),
    ]).toEqual([undefined, undefined, undefined]);
  });
});

describe('toPurl on hostile text', () => {
  it('replaces lone UTF-16 surrogates instead of throwing', () => {
    expect(toPurl({ name: 'a\ud800b', version: '1.0\udc00', ecosystem: 'npm', foundBy: 'test' })).toBe(
      'pkg:npm/a%EF%BF%BDb@1.0%EF%BF%BD',
    );
  });
});

// Text pieces with every character class the encoders treat differently: the spec's kept
// characters per component (`:` `/` `+`), form-encoding's extra escapes (`!'()~`), `@ ? # & = %`,
// spaces (inner, leading, trailing, unicode), upper case, non-ASCII, astral and lone surrogates.
const PIECES = [
  'a',
  'Z',
  '0',
  '9',
  '-',
  '_',
  '.',
  '*',
  '~',
  '!',
  "'",
  '(',
  ')',
  ':',
  '/',
  '//',
  '+',
  '@',
  '?',
  '#',
  '&',
  '=',
  '%',
  '%2F',
  ' ',
  '\t',
  '\u00a0',
  '\u3000',
  'é',
  'Ünï',
  '日本',
  '😀',
  '\ud800',
  '\udc00',
  'v',
  'v1.2.3',
  '1:',
  '2:1.0-1',
  '0:',
  '-rc.1',
  '+build.5',
  'Foo_Bar',
  'ABC',
  '~deb12u1',
  '',
];

function text(rand: () => number, max: number): string {
  let out = '';
  const n = Math.floor(rand() * max);
  for (let i = 0; i < n; i++) out += PIECES[Math.floor(rand() * PIECES.length)]!;
  return out;
}

const TYPES = [
  'deb',
  'apk',
  'rpm',
  'npm',
  'golang',
  'maven',
  'composer',
  'pypi',
  'gem',
  'cargo',
  'nuget',
  'oci',
];
const QUALIFIER_KEYS = ['distro', 'arch', 'upstream', 'epoch', 'repository_url', 'tag', 'Arch'];

/** Parts as purlParts and imagePurl make them, and beyond: any type with any text in each component. */
function generatedParts(count: number): PurlParts[] {
  const rand = prng(20261127);
  return Array.from({ length: count }, () => {
    const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;
    const qualifiers: Record<string, string> = {};
    for (let q = Math.floor(rand() * 4); q > 0; q--) qualifiers[pick(QUALIFIER_KEYS)] = text(rand, 4);
    return {
      type: pick(TYPES),
      ...(rand() < 0.6 ? { namespace: text(rand, 3) } : {}),
      name: text(rand, 5),
      ...(rand() < 0.9 ? { version: text(rand, 5) } : {}),
      ...(rand() < 0.7 ? { qualifiers } : {}),
    };
  });
}

describe('formatPurl agrees with packageurl-js byte for byte', () => {
  it('on 50,000 generated parts (special characters in every component)', () => {
    const parts = generatedParts(50_000).filter((p) => {
      try {
        libraryPurl(p);
        return true;
      } catch {
        return false; // lone surrogates in name/namespace/version: the library throws, toPurl cleans them first
      }
    });
    expect(parts.length).toBeGreaterThan(40_000);
    const differ = parts.filter((p) => formatPurl(p) !== libraryPurl(p));
    expect(differ.map((p) => [p, formatPurl(p), libraryPurl(p)])).toEqual([]);
  });

  it('on every package made by toPurl for the unit cases and 10,000 generated packages', () => {
    const rand = prng(7);
    const OSES = [
      undefined,
      os('debian', '12'),
      os('Ubuntu', '22.04'),
      os('alpine', '3.19.1'),
      os('rhel', '9.3'),
      os('wolfi', ''),
    ];
    const generated = Array.from({ length: 10_000 }, () =>
      pkg(ECOSYSTEMS[Math.floor(rand() * ECOSYSTEMS.length)]!, text(rand, 5), text(rand, 5), {
        ...(rand() < 0.5 ? { arch: text(rand, 2) } : {}),
        ...(rand() < 0.5 ? { srcName: text(rand, 3) } : {}),
        ...(rand() < 0.5 ? { srcVersion: text(rand, 3) } : {}),
      }),
    );
    const all: [Package, OsRelease | undefined][] = [
      ...CASES.map(([, p, o]): [Package, OsRelease | undefined] => [p, o]),
      ...generated.map((p, i): [Package, OsRelease | undefined] => [p, OSES[i % OSES.length]]),
    ];
    // what toPurl does first (String.prototype.toWellFormed, ES2024, Node ≥ 20)
    const clean = (t: string) => (t as string & { toWellFormed(): string }).toWellFormed();
    const differ = all.filter(([p, o]) => {
      const cleaned = {
        ...p,
        name: clean(p.name),
        version: clean(p.version),
        srcName: p.srcName && clean(p.srcName),
        arch: p.arch && clean(p.arch),
      };
      return toPurl(p, o) !== libraryPurl(purlParts(cleaned, o));
    });
    expect(differ).toEqual([]);
  });
});

describe.skipIf(!hasRealdata)('formatPurl agrees with packageurl-js on the realdata images', () => {
  it.each([
    'images/docker-archive/trivy-alpine-3.10-docker-save.tar.gz',
    'images/docker-archive/trivy-alpine-3.11-docker-save.tar.gz',
    'images/docker-archive/cimage-almostempty-docker-save.tar',
  ])('%s', async (image) => {
    const scan = await scanImage({ input: realdata(image) });
    const purls = scan.packages.map((p) => p.purl);
    expect(purls).toEqual(scan.packages.map((p) => libraryPurl(purlParts(p, scan.os))));
    expect(purls.every((p) => p !== '')).toBe(true);
  });
});
