import { describe, expect, it } from 'vitest';
import type { FeedRecord } from '../feeds/types.js';
import type { OsRelease } from '../model/os.js';
import type { Package } from '../model/package.js';
import { matchInventory } from './match.js';
import { lines, NOW, pkg, readerOf, row, scanOf, vuln } from './testdata/advisories.js';

// Debian 12 is supported until 2028-06-30 and Ubuntu 22.04 until 2027-06-01 (eol.ts): no EOL warning
const debian: OsRelease = { family: 'debian', version: '12.5', codename: 'bookworm' };
const ubuntu: OsRelease = { family: 'ubuntu', version: '22.04', codename: 'jammy' };
const d12 = 'debian:12';

interface Case {
  name: string;
  os?: OsRelease;
  packages: Package[];
  sources: Record<string, FeedRecord[]>;
  expected: string[];
}

const libssl = pkg('deb', 'libssl3', '3.0.11-1~deb12u2', {
  srcName: 'openssl',
  srcVersion: '3.0.11-1~deb12u2',
});

const cases: Case[] = [
  {
    // tracker row for SOURCE openssl: 3.0.11-1~deb12u2 < 3.0.13-1~deb12u1 (upstream 3.0.11 < 3.0.13)
    name: 'source_package_and_version',
    packages: [libssl],
    sources: { debian: [vuln('CVE-2024-0727', [row(d12, 'openssl', { fixed: '3.0.13-1~deb12u1' })])] },
    expected: ['CVE-2024-0727 libssl3 3.0.11-1~deb12u2 → fixed 3.0.13-1~deb12u1'],
  },
  {
    // binary cpp 4:12.2.0-3 comes from source gcc-defaults 1.203: the source version is compared,
    // 1.203 < 1.204 (the binary's epoch 4 would wrongly put it above any fix)
    name: 'source_version_not_binary_version',
    packages: [pkg('deb', 'cpp', '4:12.2.0-3', { srcName: 'gcc-defaults', srcVersion: '1.203' })],
    sources: { debian: [vuln('CVE-2099-0001', [row(d12, 'gcc-defaults', { fixed: '1.204' })])] },
    expected: ['CVE-2099-0001 cpp 4:12.2.0-3 → fixed 1.204'],
  },
  {
    // dpkg tilde: 3.0.11-1~deb12u2 < 3.0.11-1 (~ sorts before the end of the string) → affected
    name: 'tilde_sorts_before_release',
    packages: [libssl],
    sources: { debian: [vuln('CVE-2099-0002', [row(d12, 'openssl', { fixed: '3.0.11-1' })])] },
    expected: ['CVE-2099-0002 libssl3 3.0.11-1~deb12u2 → fixed 3.0.11-1'],
  },
  {
    // open in bookworm (no fixed version), postponed (deferred), unimportant (will-not-fix): all stay visible
    name: 'unfixed_deferred_and_will_not_fix_stay_visible',
    packages: [libssl],
    sources: {
      debian: [
        vuln('CVE-2099-0003', [row(d12, 'openssl', { state: 'unfixed' })]),
        vuln('CVE-2099-0004', [row(d12, 'openssl', { state: 'deferred' })]),
        vuln('CVE-2099-0005', [row(d12, 'openssl', { state: 'will-not-fix' })]),
      ],
    },
    expected: [
      'CVE-2099-0003 libssl3 3.0.11-1~deb12u2 → unfixed -',
      'CVE-2099-0004 libssl3 3.0.11-1~deb12u2 → deferred -',
      'CVE-2099-0005 libssl3 3.0.11-1~deb12u2 → will-not-fix -',
    ],
  },
  {
    // the tracker says bookworm never shipped the flaw (resolved "0" → not-affected): the OSV Debian
    // record of the same CVE (DEBIAN-CVE-2099-0006 → upstream CVE-2099-0006) is suppressed
    name: 'tracker_not_affected_suppresses_the_osv_copy',
    packages: [libssl],
    sources: {
      debian: [vuln('CVE-2099-0006', [row(d12, 'openssl', { state: 'not-affected' })])],
      osv: [
        vuln('DEBIAN-CVE-2099-0006', [row(d12, 'openssl', { fixed: '3.0.14-1' })], {
          aliases: ['CVE-2099-0006'],
        }),
      ],
    },
    expected: [],
  },
  {
    // the distro's own feed decides the state: the tracker says will-not-fix, its OSV copy unfixed
    name: 'the_vendor_feed_decides_the_state',
    packages: [libssl],
    sources: {
      debian: [vuln('CVE-2099-0007', [row(d12, 'openssl', { state: 'will-not-fix' })])],
      osv: [
        vuln('DEBIAN-CVE-2099-0007', [row(d12, 'openssl', { state: 'unfixed' })], {
          aliases: ['CVE-2099-0007'],
        }),
      ],
    },
    expected: ['CVE-2099-0007 libssl3 3.0.11-1~deb12u2 → will-not-fix -'],
  },
  {
    // rows of another release (debian:11) are not this image's: no finding
    name: 'other_release_rows_do_not_apply',
    packages: [libssl],
    sources: {
      debian: [
        vuln('CVE-2099-0008', [
          row('debian:11', 'openssl', { fixed: '3.0.99-1' }),
          row(d12, 'openssl', { fixed: '3.0.1-1' }),
        ]),
      ],
    },
    expected: [],
  },
  {
    // Ubuntu 22.04: UBUNTU-CVE-2024-2511 names upstream CVE-2024-2511 → the finding is the CVE;
    // 3.0.2-0ubuntu1.14 < 3.0.2-0ubuntu1.15 (last number 14 < 15)
    name: 'ubuntu_release_and_upstream_cve',
    os: ubuntu,
    packages: [
      pkg('deb', 'libssl3', '3.0.2-0ubuntu1.14', { srcName: 'openssl', srcVersion: '3.0.2-0ubuntu1.14' }),
    ],
    sources: {
      ubuntu: [
        vuln('UBUNTU-CVE-2024-2511', [row('ubuntu:22.04', 'openssl', { fixed: '3.0.2-0ubuntu1.15' })], {
          aliases: ['CVE-2024-2511'],
        }),
      ],
    },
    expected: ['CVE-2024-2511 libssl3 3.0.2-0ubuntu1.14 → fixed 3.0.2-0ubuntu1.15'],
  },
];

describe('os/dpkg', () => {
  it.each(cases)('$name', ({ os, packages, sources, expected }) => {
    const result = matchInventory(scanOf(os ?? debian, packages), readerOf(sources), { now: NOW });
    expect({ findings: lines(result), warnings: result.warnings }).toEqual({
      findings: expected,
      warnings: [],
    });
  });
});
