/**
 * Hand-built scan results for the report tests. Package data follows real images (alpine 3.19,
 * debian 12) and real language packages; digests are made up but well-formed. Package lists are
 * deliberately out of report order.
 */
import type { ScanResult } from '../../model/index.js';

const hex = (c: string) => c.repeat(64);
export const ALPINE_DIGEST = `sha256:${hex('1')}`;
export const ALPINE_CONFIG = `sha256:${hex('2')}`;
export const ALPINE_LAYER = `sha256:${hex('3')}`;

export function alpineScan(): ScanResult {
  const apk = (name: string, version: string, origin: string, licenses: string[]) => ({
    name,
    version,
    ecosystem: 'apk' as const,
    srcName: origin,
    arch: 'x86_64',
    licenses,
    layer: ALPINE_LAYER,
    path: 'lib/apk/db/installed',
    foundBy: 'os/apk',
  });
  return {
    artifact: {
      name: 'alpine:3.19',
      kind: 'registry',
      digest: ALPINE_DIGEST,
      repoTags: ['alpine:3.19'],
      repoDigests: [`alpine@${ALPINE_DIGEST}`],
      configDigest: ALPINE_CONFIG,
      layers: [{ diffId: ALPINE_LAYER, digest: `sha256:${hex('4')}`, size: 3408729 }],
    },
    os: { family: 'alpine', version: '3.19.1', prettyName: 'Alpine Linux v3.19', name: 'Alpine Linux' },
    packages: [
      apk('musl', '1.2.4_git20230717-r4', 'musl', ['MIT']),
      apk('busybox', '1.36.1-r15', 'busybox', ['GPL-2.0-only']),
      apk('libcrypto3', '3.1.4-r5', 'openssl', ['Apache-2.0']),
      apk('ca-certificates-bundle', '20230506-r0', 'ca-certificates', ['MPL-2.0 AND MIT']),
    ],
    unknowns: [],
    status: 'succeeded',
    startedAt: '2024-03-01T10:00:00.000Z',
    finishedAt: '2024-03-01T10:00:02.500Z',
  };
}

export const DEBIAN_CONFIG = `sha256:${hex('5')}`;
export const DEBIAN_LAYER = `sha256:${hex('6')}`;

export function debianScan(): ScanResult {
  const deb = (name: string, version: string, srcName: string, srcVersion: string, licenses?: string[]) => ({
    name,
    version,
    ecosystem: 'deb' as const,
    srcName,
    srcVersion,
    arch: 'amd64',
    ...(licenses ? { licenses } : {}),
    layer: DEBIAN_LAYER,
    path: 'var/lib/dpkg/status',
    foundBy: 'os/dpkg',
  });
  return {
    artifact: {
      name: 'debian-12.tar',
      kind: 'docker-archive',
      repoTags: ['debian:12'],
      configDigest: DEBIAN_CONFIG,
      layers: [{ diffId: DEBIAN_LAYER }],
    },
    os: { family: 'debian', version: '12.5', codename: 'bookworm', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
    packages: [
      deb('libc6', '2.36-9+deb12u4', 'glibc', '2.36-9+deb12u4', ['LGPL-2.1-or-later', 'GPL-2.0-or-later']),
      deb('libgmp10', '2:6.2.1+dfsg1-1.1', 'gmp', '2:6.2.1+dfsg1-1.1'),
      deb('bash', '5.2.15-2+b2', 'bash', '5.2.15-2', ['GPL-3.0-or-later', 'GPL-2+ with Bison exception']),
      deb('libbz2-1.0', '1.0.8-5+b1', 'bzip2', '1.0.8-5'),
      deb('base-files', '12.4+deb12u5', 'base-files', '12.4+deb12u5'),
    ],
    unknowns: [
      { path: 'var/lib/dpkg/status.d/zz-broken', message: 'truncated stanza', source: 'os/dpkg', layer: DEBIAN_LAYER },
      { path: 'usr/lib/os-release', message: 'unreadable: too large', source: 'os/release' },
    ],
    status: 'partial',
    startedAt: '2024-03-02T09:00:00.000Z',
    finishedAt: '2024-03-02T09:00:05.000Z',
  };
}

/** A project directory: scoped npm, a duplicated npm package, maven, Go binary with stdlib, pypi. */
export function mixedScan(): ScanResult {
  return {
    artifact: { name: '/srv/app', kind: 'rootfs' },
    packages: [
      {
        name: 'lodash',
        version: '4.17.21',
        ecosystem: 'npm',
        licenses: ['MIT'],
        path: 'app/node_modules/lodash/package.json',
        foundBy: 'lang/npm',
      },
      {
        name: 'org.apache.logging.log4j:log4j-core',
        version: '2.17.1',
        ecosystem: 'maven',
        licenses: ['Apache-2.0'],
        path: 'app/lib/log4j-core-2.17.1.jar',
        foundBy: 'lang/java-archive',
      },
      { name: 'stdlib', version: 'v1.21.5', ecosystem: 'golang', path: 'usr/local/bin/app', foundBy: 'lang/go-binary' },
      {
        name: 'github.com/spf13/cobra',
        version: 'v1.8.0',
        ecosystem: 'golang',
        path: 'usr/local/bin/app',
        foundBy: 'lang/go-binary',
      },
      {
        name: '@babel/core',
        version: '7.23.9',
        ecosystem: 'npm',
        licenses: ['mit'],
        path: 'app/node_modules/@babel/core/package.json',
        foundBy: 'lang/npm',
      },
      {
        name: 'lodash',
        version: '4.17.21',
        ecosystem: 'npm',
        licenses: ['MIT'],
        path: 'app/node_modules/a/node_modules/lodash/package.json',
        foundBy: 'lang/npm',
      },
      {
        name: 'typing_extensions',
        version: '4.10.0',
        ecosystem: 'pypi',
        licenses: ['PSF-2.0'],
        path: 'usr/lib/python3.11/site-packages/typing_extensions-4.10.0.dist-info/METADATA',
        foundBy: 'lang/python',
      },
      {
        name: 'cryptography',
        version: '42.0.5',
        ecosystem: 'pypi',
        licenses: ['Apache-2.0 OR BSD-3-Clause'],
        path: 'usr/lib/python3.11/site-packages/cryptography-42.0.5.dist-info/METADATA',
        foundBy: 'lang/python',
      },
    ],
    unknowns: [],
    status: 'succeeded',
    startedAt: '2024-03-03T08:00:00.000Z',
    finishedAt: '2024-03-03T08:00:01.000Z',
  };
}
