import { describe, expect, it } from 'vitest';
import type { FeedRecord } from '../feeds/types.js';
import type { OsRelease } from '../model/os.js';
import type { Package } from '../model/package.js';
import { matchInventory } from './match.js';
import { lines, NOW, pkg, readerOf, row, scanOf, vuln } from './testdata/advisories.js';

// RHEL 9 is supported until 2032-05-31, Rocky/Alma 9 too, Amazon Linux 2023 until 2029-06-30 (eol.ts)
const rhel9: OsRelease = { family: 'rhel', version: '9.3' };
const rpm = (name: string, version: string, src: string, more: Partial<Package> = {}) =>
  pkg('rpm', name, version, { srcName: src, srcVersion: version, ...more });

interface Case {
  name: string;
  os?: OsRelease;
  packages: Package[];
  sources: Record<string, FeedRecord[]>;
  expected: string[];
  warnings?: string[];
}

const cases: Case[] = [
  {
    // CSAF rows name the SOURCE rpm: openssl-libs comes from openssl; 3.0.7-24.el9 < 3.0.7-25.el9_3
    // (same epoch 1 and version, release 24 < 25)
    name: 'source_rpm_rows',
    packages: [rpm('openssl-libs', '1:3.0.7-24.el9', 'openssl')],
    sources: { redhat: [vuln('CVE-2023-5678', [row('rhel:9', 'openssl', { fixed: '1:3.0.7-25.el9_3' })])] },
    expected: ['CVE-2023-5678 openssl-libs 1:3.0.7-24.el9 → fixed 1:3.0.7-25.el9_3'],
  },
  {
    // epoch first: 32:9.16.23-14.el9 < 32:9.16.23-15.el9 (release), but > 9.16.23-20.el9 (epoch 0 < 32)
    name: 'epoch_orders_first',
    packages: [rpm('bind-libs', '32:9.16.23-14.el9', 'bind')],
    sources: {
      redhat: [
        vuln('CVE-2023-0001', [row('rhel:9', 'bind', { fixed: '32:9.16.23-15.el9' })]),
        vuln('CVE-2023-0002', [row('rhel:9', 'bind', { fixed: '9.16.23-20.el9' })]),
      ],
    },
    expected: ['CVE-2023-0001 bind-libs 32:9.16.23-14.el9 → fixed 32:9.16.23-15.el9'],
  },
  {
    // a row marked binary names the binary rpm (no source rpm in that CSAF document): it applies to
    // python3-libs by its own name; a SOURCE row named python3 does not apply to the binary python3
    // built from source python3.9
    name: 'binary_rows_by_binary_name_source_rows_by_source_name',
    packages: [rpm('python3-libs', '3.9.18-1.el9', 'python3.9'), rpm('python3', '3.9.18-1.el9', 'python3.9')],
    sources: {
      redhat: [
        vuln('CVE-2024-0001', [
          row('rhel:9', 'python3-libs', { fixed: '3.9.18-3.el9', extra: { binary: true } }),
        ]),
        vuln('CVE-2024-0002', [row('rhel:9', 'python3', { fixed: '3.9.99-1.el9' })]),
      ],
    },
    expected: ['CVE-2024-0001 python3-libs 3.9.18-1.el9 → fixed 3.9.18-3.el9'],
  },
  {
    // module streams: nodejs from stream nodejs:18 matches only the nodejs:18 row (18.18.2 < 18.19.0);
    // the nodejs:20 row and the row without a module are for other builds of the name
    name: 'module_streams',
    packages: [
      rpm('nodejs', '1:18.18.2-1.module+el9.3.0+20221+1ab29d26', 'nodejs', {
        metadata: { modularityLabel: 'nodejs:18:9030020231025150637:rhel9' },
      }),
    ],
    sources: {
      redhat: [
        vuln('CVE-2024-0003', [
          row('rhel:9', 'nodejs', {
            fixed: '1:18.19.0-1.module+el9.3.0+21029+df36fe08',
            extra: { module: 'nodejs:18' },
          }),
          row('rhel:9', 'nodejs', {
            fixed: '1:20.11.0-1.module+el9.3.0+21029+aa00b1a5',
            extra: { module: 'nodejs:20' },
          }),
        ]),
        vuln('CVE-2024-0004', [row('rhel:9', 'nodejs', { fixed: '2:16.99.0-1.el9' })]),
      ],
    },
    expected: [
      'CVE-2024-0003 nodejs 1:18.18.2-1.module+el9.3.0+20221+1ab29d26 → fixed 1:18.19.0-1.module+el9.3.0+21029+df36fe08',
    ],
  },
  {
    // Red Hat states: will-not-fix stays visible; known_not_affected suppresses
    name: 'redhat_states',
    packages: [rpm('libtiff', '4.4.0-10.el9', 'libtiff')],
    sources: {
      redhat: [
        vuln('CVE-2023-0005', [row('rhel:9', 'libtiff', { state: 'will-not-fix' })]),
        vuln('CVE-2023-0006', [row('rhel:9', 'libtiff', { state: 'not-affected' })]),
      ],
    },
    expected: ['CVE-2023-0005 libtiff 4.4.0-10.el9 → will-not-fix -'],
  },
  {
    // CentOS 7 uses Red Hat's data (rhel:7, as Trivy does) and is past its end of life (2024-06-30)
    name: 'centos_uses_rhel_data',
    os: { family: 'centos', version: '7.9.2009' },
    packages: [rpm('curl', '7.29.0-59.el7', 'curl')],
    sources: { redhat: [vuln('CVE-2023-0007', [row('rhel:7', 'curl', { fixed: '7.29.0-59.el7_9.1' })])] },
    // rpmvercmp: release 59.el7 < 59.el7_9.1 (equal segments, then the longer one wins)
    expected: ['CVE-2023-0007 curl 7.29.0-59.el7 → fixed 7.29.0-59.el7_9.1'],
    warnings: ['VIGIL_OS_EOL'],
  },
  {
    // AlmaLinux OSV advisories name binary rpms and list the CVEs they fix in `related`: the erratum
    // becomes one finding per CVE; 0.8-12.el9 < 0.8-20.el9
    name: 'alma_erratum_expands_to_its_cves',
    os: { family: 'almalinux', version: '9.3' },
    packages: [rpm('avahi-libs', '0.8-12.el9', 'avahi')],
    sources: {
      almalinux: [
        vuln('ALSA-2024:2433', [row('almalinux:9', 'avahi-libs', { fixed: '0.8-20.el9' })], {
          related: ['CVE-2023-38469', 'CVE-2023-38470'],
        }),
      ],
    },
    expected: [
      'CVE-2023-38469 avahi-libs 0.8-12.el9 → fixed 0.8-20.el9',
      'CVE-2023-38470 avahi-libs 0.8-12.el9 → fixed 0.8-20.el9',
    ],
  },
  {
    // Rocky's row fixes the ruby:3.3 MODULE build (release .module+el9.4.0…); the installed ruby is the
    // non-modular default stream (3.0.4-160.el9_0): not the same build line, no finding
    name: 'rocky_module_build_does_not_apply_to_default_stream',
    os: { family: 'rocky', version: '9.4' },
    packages: [rpm('ruby', '3.0.4-160.el9_0', 'ruby')],
    sources: {
      rocky: [
        vuln(
          'RLSA-2024:3671',
          [row('rocky:9', 'ruby', { fixed: '0:3.3.1-2.module+el9.4.0+20787+4c237fd3' })],
          {
            related: ['CVE-2024-27280'],
          },
        ),
      ],
    },
    expected: [],
  },
  {
    // Amazon Linux 2023 rows name binary rpms (extra.binary), one record per CVE: 8.3.0 < 8.5.0
    name: 'amazon_binary_rows',
    os: { family: 'amzn', version: '2023' },
    packages: [rpm('libcurl-minimal', '8.3.0-1.amzn2023.0.1', 'curl')],
    sources: {
      amzn: [
        vuln(
          'CVE-2023-46218',
          [row('amzn:2023', 'libcurl-minimal', { fixed: '8.5.0-1.amzn2023.0.2', extra: { binary: true } })],
          {
            related: ['ALAS2023-2024-459'],
          },
        ),
      ],
    },
    expected: ['CVE-2023-46218 libcurl-minimal 8.3.0-1.amzn2023.0.1 → fixed 8.5.0-1.amzn2023.0.2'],
  },
];

describe('os/rpm', () => {
  it.each(cases)('$name', ({ os, packages, sources, expected, warnings = [] }) => {
    const result = matchInventory(scanOf(os ?? rhel9, packages), readerOf(sources), { now: NOW });
    expect({ findings: lines(result), warnings: result.warnings.map((w) => w.code) }).toEqual({
      findings: expected,
      warnings,
    });
  });

  it('names the erratum in the finding data sources, not in its aliases', () => {
    const { sources, packages, os } = cases.find((c) => c.name === 'alma_erratum_expands_to_its_cves')!;
    const result = matchInventory(scanOf(os, packages), readerOf(sources), { now: NOW });
    expect(
      result.findings.map((f) => ({ id: f.id, aliases: f.aliases, dataSources: f.dataSources })),
    ).toEqual(
      ['CVE-2023-38469', 'CVE-2023-38470'].map((id) => ({
        id,
        aliases: [],
        dataSources: [{ source: 'almalinux', namespace: 'almalinux:9', advisoryId: 'ALSA-2024:2433' }],
      })),
    );
  });
});
