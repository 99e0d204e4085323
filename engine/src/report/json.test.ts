import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { ECOSYSTEMS } from '../model/index.js';
import { REPORT_TOOL, SEVERITIES, VULNERABILITY_STATUSES, renderInventory, toJsonReport } from './index.js';
import {
  ALPINE_CONFIG,
  ALPINE_DIGEST,
  ALPINE_LAYER,
  DEBIAN_CONFIG,
  DEBIAN_LAYER,
  alpineScan,
  debianScan,
  mixedScan,
} from './testdata/scans.js';

const schema = JSON.parse(
  readFileSync(new URL('./schemas/vigil-report-1.schema.json', import.meta.url), 'utf8'),
);
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats.default(ajv);
const validate = ajv.compile(schema);

function expectValid(report: unknown): void {
  const ok = validate(report);
  expect(validate.errors ?? []).toEqual([]);
  expect(ok).toBe(true);
}

const ZERO = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0, total: 0 };

describe('toJsonReport', () => {
  it('alpine image: packages sorted by name, purls with distro/arch/upstream from the scan', () => {
    const apk = { ecosystem: 'apk', layer: ALPINE_LAYER, path: 'lib/apk/db/installed' };
    const report = toJsonReport(alpineScan());
    expect(report).toEqual({
      schemaVersion: 1,
      artifact: {
        name: 'alpine:3.19',
        digest: ALPINE_DIGEST,
        os: { family: 'alpine', version: '3.19.1' },
        kind: 'registry',
        configDigest: ALPINE_CONFIG,
        repoTags: ['alpine:3.19'],
        repoDigests: [`alpine@${ALPINE_DIGEST}`],
      },
      db: null,
      packages: [
        {
          ...apk,
          name: 'busybox',
          version: '1.36.1-r15',
          srcName: 'busybox',
          purl: 'pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1',
        },
        {
          ...apk,
          name: 'ca-certificates-bundle',
          version: '20230506-r0',
          srcName: 'ca-certificates',
          purl: 'pkg:apk/alpine/ca-certificates-bundle@20230506-r0?arch=x86_64&distro=alpine-3.19.1&upstream=ca-certificates',
        },
        {
          ...apk,
          name: 'libcrypto3',
          version: '3.1.4-r5',
          srcName: 'openssl',
          purl: 'pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1&upstream=openssl',
        },
        {
          ...apk,
          name: 'musl',
          version: '1.2.4_git20230717-r4',
          srcName: 'musl',
          purl: 'pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64&distro=alpine-3.19.1',
        },
      ],
      vulnerabilities: [],
      unknowns: [],
      summary: ZERO,
      status: 'succeeded',
      scannedAt: '2024-03-01T10:00:02.500Z',
      remediations: [],
      warnings: [],
    });
    expectValid(report);
  });

  it('debian archive: source packages, binNMU upstream versions, epoch, unknowns sorted, partial', () => {
    const deb = { ecosystem: 'deb', layer: DEBIAN_LAYER, path: 'var/lib/dpkg/status' };
    const q = 'arch=amd64&distro=debian-12.5';
    const report = toJsonReport(debianScan());
    expect(report).toEqual({
      schemaVersion: 1,
      artifact: {
        name: 'debian-12.tar',
        os: { family: 'debian', version: '12.5' },
        kind: 'docker-archive',
        configDigest: DEBIAN_CONFIG,
        repoTags: ['debian:12'],
      },
      db: null,
      packages: [
        {
          ...deb,
          name: 'base-files',
          version: '12.4+deb12u5',
          srcName: 'base-files',
          srcVersion: '12.4+deb12u5',
          purl: `pkg:deb/debian/base-files@12.4+deb12u5?${q}`,
        },
        {
          ...deb,
          name: 'bash',
          version: '5.2.15-2+b2',
          srcName: 'bash',
          srcVersion: '5.2.15-2',
          purl: `pkg:deb/debian/bash@5.2.15-2+b2?${q}&upstream=bash%405.2.15-2`,
        },
        {
          ...deb,
          name: 'libbz2-1.0',
          version: '1.0.8-5+b1',
          srcName: 'bzip2',
          srcVersion: '1.0.8-5',
          purl: `pkg:deb/debian/libbz2-1.0@1.0.8-5+b1?${q}&upstream=bzip2%401.0.8-5`,
        },
        {
          ...deb,
          name: 'libc6',
          version: '2.36-9+deb12u4',
          srcName: 'glibc',
          srcVersion: '2.36-9+deb12u4',
          purl: `pkg:deb/debian/libc6@2.36-9+deb12u4?${q}&upstream=glibc`,
        },
        {
          ...deb,
          name: 'libgmp10',
          version: '2:6.2.1+dfsg1-1.1',
          srcName: 'gmp',
          srcVersion: '2:6.2.1+dfsg1-1.1',
          purl: `pkg:deb/debian/libgmp10@2:6.2.1+dfsg1-1.1?${q}&upstream=gmp`,
        },
      ],
      vulnerabilities: [],
      unknowns: [
        { path: 'usr/lib/os-release', message: 'unreadable: too large' },
        { path: 'var/lib/dpkg/status.d/zz-broken', message: 'truncated stanza' },
      ],
      summary: ZERO,
      status: 'partial',
      scannedAt: '2024-03-02T09:00:05.000Z',
      remediations: [],
      warnings: [],
    });
    expectValid(report);
  });

  it('mixed directory: ecosystems in order, scoped npm, maven group, go stdlib, pypi names, duplicates by path', () => {
    const report = toJsonReport(mixedScan());
    expect(report.artifact).toEqual({ name: '/srv/app', kind: 'rootfs' });
    expect(report.packages.map((p) => [p.ecosystem, p.name, p.version, p.purl, p.path])).toEqual([
      [
        'golang',
        'github.com/spf13/cobra',
        'v1.8.0',
        'pkg:golang/github.com/spf13/cobra@v1.8.0',
        'usr/local/bin/app',
      ],
      ['golang', 'stdlib', 'v1.21.5', 'pkg:golang/stdlib@v1.21.5', 'usr/local/bin/app'],
      [
        'maven',
        'org.apache.logging.log4j:log4j-core',
        '2.17.1',
        'pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1',
        'app/lib/log4j-core-2.17.1.jar',
      ],
      [
        'npm',
        '@babel/core',
        '7.23.9',
        'pkg:npm/%40babel/core@7.23.9',
        'app/node_modules/@babel/core/package.json',
      ],
      [
        'npm',
        'lodash',
        '4.17.21',
        'pkg:npm/lodash@4.17.21',
        'app/node_modules/a/node_modules/lodash/package.json',
      ],
      ['npm', 'lodash', '4.17.21', 'pkg:npm/lodash@4.17.21', 'app/node_modules/lodash/package.json'],
      [
        'pypi',
        'cryptography',
        '42.0.5',
        'pkg:pypi/cryptography@42.0.5',
        'usr/lib/python3.11/site-packages/cryptography-42.0.5.dist-info/METADATA',
      ],
      [
        'pypi',
        'typing_extensions',
        '4.10.0',
        'pkg:pypi/typing-extensions@4.10.0',
        'usr/lib/python3.11/site-packages/typing_extensions-4.10.0.dist-info/METADATA',
      ],
    ]);
    expectValid(report);
  });

  it('keeps a purl the scan already set and does not modify the scan', () => {
    const scan = alpineScan();
    scan.packages[0]!.purl = 'pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64&distro=alpine-3.19';
    const before = structuredClone(scan);
    const report = toJsonReport(scan);
    expect(report.packages.find((p) => p.name === 'musl')?.purl).toBe(
      'pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64&distro=alpine-3.19',
    );
    expect(scan).toEqual(before);
  });

  it('is independent of input order', () => {
    const a = mixedScan();
    const b = mixedScan();
    b.packages.reverse();
    expect(toJsonReport(b)).toEqual(toJsonReport(a));
  });
});

describe('vigil-report-1 schema', () => {
  it('lists the same ecosystems, severities and statuses as the code', () => {
    expect([
      schema.$defs.ecosystem.enum,
      schema.$defs.vulnerability.properties.severity.enum,
      schema.$defs.vulnerability.properties.status.enum,
    ]).toEqual([[...ECOSYSTEMS], [...SEVERITIES], [...VULNERABILITY_STATUSES]]);
  });

  it('rejects reports that break the contract', () => {
    const good = toJsonReport(alpineScan());
    const bad: unknown[] = [
      { ...good, schemaVersion: 2 },
      { ...good, db: undefined },
      { ...good, packages: [{ ...good.packages[0], ecosystem: 'apt' }] },
      { ...good, packages: [{ ...good.packages[0], purl: 'musl' }] },
      { ...good, summary: { ...good.summary, total: -1 } },
      { ...good, extra: true },
    ];
    expect(bad.map((r) => validate(r))).toEqual(bad.map(() => false));
  });
});

describe('renderInventory', () => {
  it('json is the indented report with a trailing newline', async () => {
    const scan = debianScan();
    expect(await renderInventory(scan, 'json')).toBe(`${JSON.stringify(toJsonReport(scan), null, 2)}\n`);
  });

  it('names the tool with the engine package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(REPORT_TOOL.version).toBe(pkg.version);
  });
});
