/** The JSON report of matched results: vulnerabilities, fix plan and warnings (inventory-only reports: json.test.ts). */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { toJsonReport } from './index.js';
import { alpineResult, emptyResult, hostileResult, mixedResult } from './testdata/results.js';

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

describe('toJsonReport of a matched result', () => {
  it('mixed directory: whole document (findings by severity then id, fix plan most severe first)', () => {
    const report = toJsonReport(mixedResult());
    const nvd = (vector: string, score: number) => ({
      version: '3.1',
      vector: `CVSS:3.1/${vector}`,
      score,
      source: 'nvd@nist.gov',
    });
    const ghsa = (namespace: string, advisoryId: string) => [{ source: 'ghsa', namespace, advisoryId }];
    const lock = {
      pkgPath: 'app/package-lock.json',
      ecosystem: 'npm',
      status: 'fixed',
      kev: false,
      references: [],
    };
    const none = { epss: null, epssPercentile: null, cwes: [], severitySource: 'cvss:nvd@nist.gov' };
    const counts = (c: object) => ({ critical: 0, high: 0, medium: 0, low: 0, unknown: 0, ...c });
    expect(report).toEqual({
      schemaVersion: 1,
      artifact: { name: '/srv/app', kind: 'rootfs' },
      db: { version: 'v1-3f2a9c', builtAt: '2024-05-01T00:00:00Z' },
      packages: [
        {
          name: 'github.com/spf13/cobra',
          version: 'v1.8.0',
          ecosystem: 'golang',
          purl: 'pkg:golang/github.com/spf13/cobra@v1.8.0',
          path: 'usr/local/bin/app',
        },
        {
          name: 'stdlib',
          version: 'v1.21.5',
          ecosystem: 'golang',
          purl: 'pkg:golang/stdlib@v1.21.5',
          path: 'usr/local/bin/app',
        },
        {
          name: 'org.apache.logging.log4j:log4j-core',
          version: '2.14.1',
          ecosystem: 'maven',
          purl: 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1',
          path: 'app/lib/log4j-core-2.14.1.jar',
        },
        {
          name: 'lodash',
          version: '4.17.15',
          ecosystem: 'npm',
          purl: 'pkg:npm/lodash@4.17.15',
          path: 'app/package-lock.json',
        },
        {
          name: 'minimist',
          version: '1.2.0',
          ecosystem: 'npm',
          purl: 'pkg:npm/minimist@1.2.0',
          path: 'app/package-lock.json',
        },
        {
          name: 'requests',
          version: '2.25.0',
          ecosystem: 'pypi',
          purl: 'pkg:pypi/requests@2.25.0',
          path: 'app/requirements.txt',
        },
      ],
      vulnerabilities: [
        {
          id: 'CVE-2021-44228',
          aliases: ['GHSA-jfh8-c2jp-5v3q'],
          pkgName: 'org.apache.logging.log4j:log4j-core',
          ecosystem: 'maven',
          installedVersion: '2.14.1',
          fixedVersion: '2.15.0',
          status: 'fixed',
          severity: 'CRITICAL',
          cvss: nvd('AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', 10),
          kev: true,
          epss: 0.97565,
          title: 'Remote code injection in Log4j',
          references: ['https://logging.apache.org/log4j/2.x/security.html'],
          pkgPath: 'app/lib/log4j-core-2.14.1.jar',
          purl: 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1',
          severitySource: 'cvss:nvd@nist.gov',
          epssPercentile: 0.99996,
          cwes: ['CWE-502', 'CWE-917'],
          dataSources: ghsa('maven', 'GHSA-jfh8-c2jp-5v3q'),
          published: '2021-12-10T10:15:09.143',
        },
        {
          ...lock,
          ...none,
          id: 'CVE-2021-44906',
          aliases: ['GHSA-xvch-5gv4-984h'],
          pkgName: 'minimist',
          installedVersion: '1.2.0',
          fixedVersion: '1.2.6',
          severity: 'CRITICAL',
          cvss: nvd('AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8),
          title: 'Prototype Pollution in minimist',
          purl: 'pkg:npm/minimist@1.2.0',
          dataSources: ghsa('npm', 'GHSA-xvch-5gv4-984h'),
        },
        {
          ...lock,
          ...none,
          id: 'CVE-2020-8203',
          aliases: ['GHSA-p6mc-m468-83gw'],
          pkgName: 'lodash',
          installedVersion: '4.17.15',
          fixedVersion: '4.17.19',
          severity: 'HIGH',
          cvss: nvd('AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:H', 7.4),
          epss: 0.0212,
          epssPercentile: 0.873,
          title: 'Prototype Pollution in lodash',
          purl: 'pkg:npm/lodash@4.17.15',
          dataSources: ghsa('npm', 'GHSA-p6mc-m468-83gw'),
        },
        {
          ...lock,
          ...none,
          id: 'CVE-2021-23337',
          aliases: ['GHSA-35jh-r3h4-6jhm'],
          pkgName: 'lodash',
          installedVersion: '4.17.15',
          fixedVersion: '4.17.21',
          severity: 'HIGH',
          cvss: nvd('AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H', 7.2),
          title: 'Command Injection in lodash',
          purl: 'pkg:npm/lodash@4.17.15',
          dataSources: ghsa('npm', 'GHSA-35jh-r3h4-6jhm'),
        },
        {
          ...lock,
          ...none,
          id: 'CVE-2020-7598',
          aliases: ['GHSA-vh95-rmgr-6w4m'],
          pkgName: 'minimist',
          installedVersion: '1.2.0',
          fixedVersion: '1.2.2',
          severity: 'MEDIUM',
          cvss: nvd('AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:L', 5.6),
          title: 'Prototype Pollution in minimist',
          purl: 'pkg:npm/minimist@1.2.0',
          dataSources: ghsa('npm', 'GHSA-vh95-rmgr-6w4m'),
        },
        {
          ...none,
          id: 'CVE-2023-45290',
          aliases: ['GO-2024-2599'],
          pkgName: 'stdlib',
          ecosystem: 'golang',
          installedVersion: 'v1.21.5',
          fixedVersion: 'v1.21.8',
          status: 'fixed',
          severity: 'MEDIUM',
          cvss: nvd('AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L', 5.3),
          kev: false,
          title: 'Memory exhaustion in multipart form parsing in net/textproto and net/http',
          references: [],
          pkgPath: 'usr/local/bin/app',
          purl: 'pkg:golang/stdlib@v1.21.5',
          dataSources: [{ source: 'osv', namespace: 'golang', advisoryId: 'GO-2024-2599' }],
        },
        {
          ...none,
          id: 'GHSA-2222-3333-4444',
          aliases: [],
          pkgName: 'requests',
          ecosystem: 'pypi',
          installedVersion: '2.25.0',
          fixedVersion: '2.31.0',
          status: 'fixed',
          severity: 'MEDIUM',
          cvss: null,
          kev: false,
          title: 'requests leaks Proxy-Authorization headers',
          references: [],
          pkgPath: 'app/requirements.txt',
          purl: 'pkg:pypi/requests@2.25.0',
          severitySource: 'vendor:ghsa',
          dataSources: ghsa('pypi', 'GHSA-2222-3333-4444'),
        },
      ],
      unknowns: [{ path: 'app/yarn.lock', message: 'cannot parse yarn.lock: unexpected token' }],
      summary: { critical: 2, high: 2, medium: 3, low: 0, unknown: 0, total: 7 },
      status: 'partial',
      scannedAt: '2024-05-02T08:00:01.500Z',
      // most critical first: minimist and log4j fix a critical each, minimist also a medium
      remediations: [
        {
          pkgName: 'minimist',
          ecosystem: 'npm',
          pkgPath: 'app/package-lock.json',
          installedVersion: '1.2.0',
          fixedVersion: '1.2.6',
          fixes: 2,
          bySeverity: counts({ critical: 1, medium: 1 }),
          ids: ['CVE-2021-44906', 'CVE-2020-7598'],
        },
        {
          pkgName: 'org.apache.logging.log4j:log4j-core',
          ecosystem: 'maven',
          pkgPath: 'app/lib/log4j-core-2.14.1.jar',
          installedVersion: '2.14.1',
          fixedVersion: '2.15.0',
          fixes: 1,
          bySeverity: counts({ critical: 1 }),
          ids: ['CVE-2021-44228'],
        },
        {
          pkgName: 'lodash',
          ecosystem: 'npm',
          pkgPath: 'app/package-lock.json',
          installedVersion: '4.17.15',
          fixedVersion: '4.17.21',
          fixes: 2,
          bySeverity: counts({ high: 2 }),
          ids: ['CVE-2020-8203', 'CVE-2021-23337'],
        },
        // one medium each: by name
        {
          pkgName: 'requests',
          ecosystem: 'pypi',
          pkgPath: 'app/requirements.txt',
          installedVersion: '2.25.0',
          fixedVersion: '2.31.0',
          fixes: 1,
          bySeverity: counts({ medium: 1 }),
          ids: ['GHSA-2222-3333-4444'],
        },
        {
          pkgName: 'stdlib',
          ecosystem: 'golang',
          pkgPath: 'usr/local/bin/app',
          installedVersion: 'v1.21.5',
          fixedVersion: 'v1.21.8',
          fixes: 1,
          bySeverity: counts({ medium: 1 }),
          ids: ['CVE-2023-45290'],
        },
      ],
      warnings: [],
    });
    expectValid(report);
  });

  it('alpine: every status and severity; OS extensions (purl, layer, srcName); warnings; schema-valid', () => {
    const report = toJsonReport(alpineResult());
    expect(
      report.vulnerabilities.map((v) => [v.id, v.pkgName, v.srcName, v.severity, v.status, v.fixedVersion]),
    ).toEqual([
      // ids in code-unit order: '36159' < '3711' ('6' < '7')
      ['CVE-2021-36159', 'apk-tools', 'apk-tools', 'CRITICAL', 'fixed', '2.10.7-r0'],
      ['CVE-2021-3711', 'libssl1.1', 'openssl', 'CRITICAL', 'deferred', null],
      ['CVE-2022-37434', 'zlib', 'zlib', 'CRITICAL', 'unfixed', null],
      ['CVE-2020-1967', 'libcrypto1.1', 'openssl', 'HIGH', 'fixed', '1.1.1g-r0'],
      ['CVE-2021-28831', 'busybox', 'busybox', 'HIGH', 'fixed', '1.30.1-r5'],
      ['CVE-2021-28831', 'ssl_client', 'busybox', 'HIGH', 'fixed', '1.30.1-r5'],
      ['CVE-2021-30139', 'apk-tools', 'apk-tools', 'HIGH', 'fixed', '2.10.6-r0'],
      ['CVE-2020-28928', 'musl', 'musl', 'MEDIUM', 'fixed', '1.1.22-r4'],
      ['CVE-2021-42374', 'busybox', 'busybox', 'MEDIUM', 'will-not-fix', null],
      ['CVE-2021-23839', 'libcrypto1.1', 'openssl', 'LOW', 'fixed', '1.1.1j-r0'],
      ['CVE-2019-14697', 'musl', 'musl', 'UNKNOWN', 'not-affected', null],
    ]);
    expect(report.vulnerabilities[0]).toMatchObject({
      pkgPath: 'lib/apk/db/installed',
      purl: 'pkg:apk/alpine/apk-tools@2.10.4-r2?arch=x86_64&distro=alpine-3.10.4',
      layer: `sha256:${'b'.repeat(64)}`,
      cwes: ['CWE-125'],
      dataSources: [{ source: 'alpine', namespace: 'alpine:3.10', advisoryId: 'CVE-2021-36159' }],
      description:
        'libfetch before 2021-07-26, as used in apk-tools, xbps, and other products, mishandles numeric strings for the FTP and HTTP protocols.',
    });
    // 11 findings: 3 critical (3711, 36159, 37434), 4 high, 2 medium, 1 low, 1 unknown
    expect(report.summary).toEqual({ critical: 3, high: 4, medium: 2, low: 1, unknown: 1, total: 11 });
    expect(report.remediations.map((r) => `${r.pkgName} ${r.fixedVersion} ${r.fixes}`)).toEqual([
      'apk-tools 2.10.7-r0 2',
      // one high each; libcrypto1.1 also fixes a low; then by name
      'libcrypto1.1 1.1.1j-r0 2',
      'busybox 1.30.1-r5 1',
      'ssl_client 1.30.1-r5 1',
      'musl 1.1.22-r4 1',
    ]);
    expect(report.warnings).toEqual([
      { code: 'DISTRO_EOL', message: 'alpine 3.10 is end-of-life: its security data is no longer updated' },
    ]);
    expectValid(report);
  });

  it('risk order puts KEV first, then EPSS, then severity', () => {
    const ids = toJsonReport(mixedResult(), { sort: 'risk' }).vulnerabilities.map((v) => v.id);
    // KEV log4shell; EPSS 0.0212 lodash; then the others by severity and id
    expect(ids).toEqual([
      'CVE-2021-44228',
      'CVE-2020-8203',
      'CVE-2021-44906',
      'CVE-2021-23337',
      'CVE-2020-7598',
      'CVE-2023-45290',
      'GHSA-2222-3333-4444',
    ]);
  });

  it('empty and hostile results are schema-valid; an empty matched result keeps its db', () => {
    const empty = toJsonReport(emptyResult());
    expect([empty.db, empty.vulnerabilities, empty.summary, empty.remediations]).toEqual([
      { version: 'v1-3f2a9c', builtAt: '2024-05-01T00:00:00Z' },
      [],
      ZERO,
      [],
    ]);
    expectValid(empty);
    expectValid(toJsonReport(hostileResult()));
  });
});
