/**
 * Upload validation and mapping without any store: a genuine engine report passes and maps to the image,
 * packages and findings to record; each kind of damage is CP_REPORT_INVALID naming the first bad value.
 */
import { createHash } from 'node:crypto';
import type { VigilReport } from '@vigil/engine/core';
import { describe, expect, it } from 'vitest';
import { uploadContent } from './report-upload.js';
import { validateReport } from './report-validate.js';
import { finding, pkg, report } from './testdata/reports.js';

const digest = `sha256:${createHash('sha256').update('upload').digest('hex')}`;
const openssl = pkg('openssl', '3.1.4-r0');
const good = (): VigilReport =>
  report(
    'ghcr.io/acme/api:2.0',
    digest,
    [openssl, pkg('zlib')],
    [finding('CVE-2024-0001', 'CRITICAL', openssl, '3.1.5-r0')],
  );

/** A copy of the good report with one change. */
function damaged(change: (r: VigilReport) => void): unknown {
  const r = structuredClone(good());
  change(r);
  return r;
}

describe('validateReport', () => {
  const cases: Array<[string, unknown, string]> = [
    ['not an object', 'report', 'report: must be an object'],
    ['array', [], 'report: must be an object'],
    [
      'other schema version',
      damaged((r) => (r.schemaVersion = 2 as never)),
      'report.schemaVersion: must be 1',
    ],
    [
      'unknown top-level field',
      damaged((r) => Object.assign(r, { extra: 1 })),
      'report.extra: is not a field of a schemaVersion 1 report',
    ],
    [
      'missing packages',
      damaged((r) => delete (r as Partial<VigilReport>).packages),
      'report.packages: is required',
    ],
    [
      'bad digest',
      damaged((r) => (r.artifact.digest = 'sha256')),
      'report.artifact.digest: does not match ^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$',
    ],
    [
      'empty artifact name',
      damaged((r) => (r.artifact.name = '')),
      'report.artifact.name: must not be empty',
    ],
    [
      'unknown ecosystem',
      damaged((r) => (r.packages[0]!.ecosystem = 'cobol' as never)),
      'report.packages[0].ecosystem: must be one of apk, deb, rpm, npm, pypi, golang, maven, gem, cargo, composer, nuget',
    ],
    [
      'bad purl',
      damaged((r) => (r.packages[1]!.purl = 'npm/x')),
      'report.packages[1].purl: does not match ^pkg:[a-z][a-z0-9.+-]*\\/',
    ],
    [
      'severity',
      damaged((r) => (r.vulnerabilities[0]!.severity = 'SEVERE' as never)),
      'report.vulnerabilities[0].severity: must be one of CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN',
    ],
    [
      'epss above 1',
      damaged((r) => (r.vulnerabilities[0]!.epss = 1.5)),
      'report.vulnerabilities[0].epss: must be a number from 0 to 1 or null',
    ],
    [
      'cvss score',
      damaged((r) => (r.vulnerabilities[0]!.cvss!.score = 'high' as never)),
      'report.vulnerabilities[0].cvss.score: must be a number from 0 to 10',
    ],
    [
      'kev',
      damaged((r) => (r.vulnerabilities[0]!.kev = 'no' as never)),
      'report.vulnerabilities[0].kev: must be a boolean',
    ],
    [
      'data source field',
      damaged((r) => Object.assign(r.vulnerabilities[0]!.dataSources[0]!, { url: 'x' })),
      'report.vulnerabilities[0].dataSources[0].url: is not a field of a schemaVersion 1 report',
    ],
    [
      'builtAt',
      damaged((r) => (r.db!.builtAt = 'yesterday')),
      expect.stringMatching(/^report\.db\.builtAt: does not match/),
    ],
    [
      'negative count',
      damaged((r) => (r.summary.low = -1)),
      'report.summary.low: must be a non-negative integer',
    ],
    [
      'summary disagrees',
      damaged((r) => (r.summary.critical = 0)),
      'report.summary.critical: is 0 but the vulnerabilities count 1',
    ],
    [
      'vulnerability cut off',
      damaged((r) => r.vulnerabilities.pop()),
      'report.summary.critical: is 1 but the vulnerabilities count 0',
    ],
    [
      'warning shape',
      damaged((r) => r.warnings.push({ code: 1 as never, message: 'x' })),
      'report.warnings[0].code: must be a string',
    ],
  ];

  it.each(cases)('refuses %s', (_name, value, message) => {
    let caught: unknown;
    try {
      validateReport(value);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'CP_REPORT_INVALID', message });
  });

  it('accepts a report made by the engine, inventory-only ones included', () => {
    const inventory = {
      ...good(),
      db: null,
      vulnerabilities: [],
      summary: { critical: 0, high: 0, medium: 0, low: 0, unknown: 0, total: 0 },
    };
    expect([
      validateReport(good()) !== null,
      validateReport(JSON.parse(JSON.stringify(inventory))) !== null,
    ]).toEqual([true, true]);
  });
});

describe('uploadContent', () => {
  it('maps the report to the image, packages and findings to record', () => {
    const content = uploadContent(good());
    expect({
      image: content.image,
      dbVersion: content.dbVersion,
      os: content.os,
      packages: content.packages.map((p) => `${p.name}@${p.version} ${p.purl} ${p.foundBy}`),
      finding: { ...content.findings[0], package: content.findings[0]?.package.name },
    }).toEqual({
      image: { repository: 'ghcr.io/acme/api', digest, tags: ['2.0'] },
      dbVersion: 'db-upload-1',
      os: { family: 'alpine', version: '3.19.1' },
      packages: [
        'openssl@3.1.4-r0 pkg:apk/alpine/openssl@3.1.4-r0?distro=alpine-3.19.1 upload',
        'zlib@1.0.0 pkg:apk/alpine/zlib@1.0.0?distro=alpine-3.19.1 upload',
      ],
      finding: {
        id: 'CVE-2024-0001',
        aliases: [],
        package: 'openssl',
        installedVersion: '3.1.4-r0',
        fixedVersion: '3.1.5-r0',
        status: 'fixed',
        severity: 'CRITICAL',
        severitySource: 'cvss:nvd@nist.gov',
        cvss: {
          version: '3.1',
          vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
          score: 9.8,
          source: 'nvd@nist.gov',
        },
        kev: false,
        epss: 0.5,
        epssPercentile: 0.9,
        title: 'CVE-2024-0001 in openssl',
        references: ['https://nvd.nist.gov/vuln/detail/CVE-2024-0001'],
        cwes: ['CWE-787'],
        dataSources: [{ source: 'alpine', namespace: 'alpine:3.19', advisoryId: 'CVE-2024-0001' }],
      },
    });
  });

  it('names archives by their repo tags, else by file name; takes the config digest without a manifest digest', () => {
    const archive = (artifact: Record<string, unknown>) =>
      uploadContent({
        ...good(),
        artifact: { name: '/tmp/x.tar', kind: 'docker-archive', ...artifact },
      } as VigilReport).image;
    const config = `sha256:${'c'.repeat(64)}`;
    expect({
      tagged: archive({ digest, repoTags: ['acme/web:1.0', 'acme/web:latest'] }),
      untagged: archive({ name: '/builds/My App_v2.tar.gz', configDigest: config }),
      noDigest: (() => {
        try {
          return archive({});
        } catch (error) {
          return (error as { code: string; message: string }).message;
        }
      })(),
    }).toEqual({
      tagged: { repository: 'acme/web', digest, tags: ['1.0', 'latest'] },
      untagged: { repository: 'local/my-app-v2', digest: config, tags: [] },
      noDigest: 'report.artifact names no image digest',
    });
  });
});
