import { describe, expect, it } from 'vitest';
import { matchInventory } from './match.js';
import { lines, NOW, nvdCvss, pkg, readerOf, row, scanOf, vuln } from './testdata/advisories.js';

const CRIT = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'; // 9.8
const MED = 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H'; // 5.5

describe('one finding per vulnerability per package', () => {
  // GHSA-aaaa-bbbb-cccc and PYSEC-2024-9 both describe CVE-2024-0001 for django; GHSA says fixed in
  // 4.2.10, PYSEC in 4.2.11; NVD has the CVSS, CWE and description; KEV and EPSS know the CVE
  const reader = readerOf({
    ghsa: [
      vuln('GHSA-aaaa-bbbb-cccc', [row('pypi', 'django', { fixed: '4.2.10' })], {
        aliases: ['CVE-2024-0001'],
        title: 'Django SQL injection in QuerySet.values()',
        cvss: [{ version: '3.1', vector: MED, source: 'ghsa' }],
        vendorSeverities: [{ source: 'ghsa', rating: 'MODERATE', severity: 'MEDIUM' }],
        references: ['https://github.com/advisories/GHSA-aaaa-bbbb-cccc'],
      }),
    ],
    osv: [
      vuln('PYSEC-2024-9', [row('pypi', 'django', { fixed: '4.2.11' })], {
        aliases: ['CVE-2024-0001', 'GHSA-aaaa-bbbb-cccc'],
        references: ['https://osv.dev/PYSEC-2024-9', 'https://github.com/advisories/GHSA-aaaa-bbbb-cccc'],
      }),
    ],
    nvd: [
      vuln('CVE-2024-0001', [], {
        description: 'An issue was discovered in Django 4.2 before 4.2.11.',
        cvss: [nvdCvss(CRIT)],
        cwes: ['CWE-89'],
        published: '2024-03-01T10:00:00.000Z',
        references: ['https://www.djangoproject.com/weblog/'],
      }),
    ],
    kev: [{ type: 'kev', entry: { cveId: 'CVE-2024-0001', dateAdded: '2024-04-01' } }],
    epss: [
      { type: 'epss', entry: { cveId: 'CVE-2024-0001', score: 0.5, percentile: 0.9, date: '2026-11-26' } },
    ],
  });

  it('merges GHSA, PYSEC and the CVE into one finding with aliases and enriches it', () => {
    const django = pkg('pypi', 'Django', '4.2.0', { path: 'app/requirements.txt' });
    const result = matchInventory(scanOf(undefined, [django]), reader, { now: NOW });
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const { package: p, ...finding } = result.findings[0]!;
    expect({ count: result.findings.length, finding }).toEqual({
      count: 1,
      finding: {
        id: 'CVE-2024-0001',
        aliases: ['GHSA-aaaa-bbbb-cccc', 'PYSEC-2024-9'],
        installedVersion: '4.2.0',
        // the highest of the sources' fixes: 4.2.11 satisfies both GHSA (4.2.10) and PYSEC (4.2.11)
        fixedVersion: '4.2.11',
        status: 'fixed',
        // NVD's v3.1 Primary (9.8) before GHSA's vector (5.5) under the default NVD-first policy
        severity: 'CRITICAL',
        severitySource: 'cvss:nvd',
        cvss: { version: '3.1', vector: CRIT, score: 9.8, source: 'nvd@nist.gov' },
        kev: true,
        kevEntry: { cveId: 'CVE-2024-0001', dateAdded: '2024-04-01' },
        epss: 0.5,
        epssPercentile: 0.9,
        // title from the advisory (NVD has none), description / CWE / published from NVD, references
        // NVD first then GHSA and OSV, without duplicates
        title: 'Django SQL injection in QuerySet.values()',
        description: 'An issue was discovered in Django 4.2 before 4.2.11.',
        references: [
          'https://www.djangoproject.com/weblog/',
          'https://github.com/advisories/GHSA-aaaa-bbbb-cccc',
          'https://osv.dev/PYSEC-2024-9',
        ],
        cwes: ['CWE-89'],
        published: '2024-03-01T10:00:00.000Z',
        dataSources: [
          { source: 'ghsa', namespace: 'pypi', advisoryId: 'GHSA-aaaa-bbbb-cccc' },
          { source: 'osv', namespace: 'pypi', advisoryId: 'PYSEC-2024-9' },
        ],
      },
    });
  });

  it('keeps one finding per package for the same vulnerability', () => {
    const packages = [
      pkg('pypi', 'django', '4.2.0', { path: 'a/requirements.txt' }),
      pkg('pypi', 'django', '4.2.10', { path: 'b/requirements.txt' }),
    ];
    // 4.2.0 is below both fixes; 4.2.10 is fixed for GHSA but not for PYSEC (4.2.10 < 4.2.11): still affected
    expect(lines(matchInventory(scanOf(undefined, packages), reader, { now: NOW }))).toEqual([
      'CVE-2024-0001 django 4.2.0 → fixed 4.2.11',
      'CVE-2024-0001 django 4.2.10 → fixed 4.2.11',
    ]);
  });
});

describe('severity policy', () => {
  // Debian rates CVE-2024-0002 `high` for openssl in bookworm; NVD scores it 5.5 (MEDIUM)
  const reader = readerOf({
    debian: [
      vuln('CVE-2024-0002', [
        row('debian:12', 'openssl', {
          state: 'unfixed',
          severity: { source: 'debian', rating: 'high', severity: 'HIGH' },
        }),
      ]),
    ],
    nvd: [vuln('CVE-2024-0002', [], { cvss: [nvdCvss(MED)] })],
  });
  const scan = scanOf({ family: 'debian', version: '12.5' }, [
    pkg('deb', 'libssl3', '3.0.11-1~deb12u2', { srcName: 'openssl', srcVersion: '3.0.11-1~deb12u2' }),
  ]);
  const pick = (policy?: 'nvd' | 'vendor') => {
    const f = matchInventory(scan, reader, { now: NOW, severityPolicy: policy }).findings[0]!;
    return {
      severity: f.severity,
      severitySource: f.severitySource,
      cvss: f.cvss,
      vendorSeverity: f.vendorSeverity,
    };
  };
  const cvss = { version: '3.1', vector: MED, score: 5.5, source: 'nvd@nist.gov' };
  const debianRating = { source: 'debian', rating: 'high', severity: 'HIGH' };

  it('nvd (default): the CVSS score decides; the tracker rating is kept beside it', () => {
    expect(pick()).toEqual({
      severity: 'MEDIUM',
      severitySource: 'cvss:nvd',
      cvss,
      vendorSeverity: debianRating,
    });
  });

  it("vendor: the distro's rating decides; the finding still shows the best vector", () => {
    expect(pick('vendor')).toEqual({
      severity: 'HIGH',
      severitySource: 'vendor:debian',
      cvss,
      vendorSeverity: debianRating,
    });
  });

  it('UNKNOWN when no source rates it', () => {
    const bare = readerOf({
      debian: [vuln('CVE-2024-0003', [row('debian:12', 'openssl', { state: 'unfixed' })])],
    });
    const f = matchInventory(scan, bare, { now: NOW }).findings[0]!;
    expect({ severity: f.severity, severitySource: f.severitySource, cvss: f.cvss }).toEqual({
      severity: 'UNKNOWN',
      severitySource: 'none',
      cvss: null,
    });
  });
});
