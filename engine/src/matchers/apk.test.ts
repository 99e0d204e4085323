import { describe, expect, it } from 'vitest';
import type { FeedRecord } from '../feeds/types.js';
import type { OsRelease } from '../model/os.js';
import type { Package } from '../model/package.js';
import { matchInventory } from './match.js';
import { lines, NOW, pkg, readerOf, row, scanOf, vuln } from './testdata/advisories.js';

// 3.22 is supported until 2027-05-01 (eol.ts), after the test clock: no end-of-life warning
const alpine: OsRelease = { family: 'alpine', version: '3.22.2' };
const ns = 'alpine:3.22';

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
    // secdb is keyed by origin: libcrypto3's origin openssl has 3.1.4-r1; 3.1.4-r0 < 3.1.4-r1 (release r0 < r1)
    name: 'matches_by_origin_and_compares_the_release',
    packages: [pkg('apk', 'libcrypto3', '3.1.4-r0', { srcName: 'openssl', srcVersion: '3.1.4-r0' })],
    sources: { alpine: [vuln('CVE-2023-5678', [row(ns, 'openssl', { fixed: '3.1.4-r1' })])] },
    expected: ['CVE-2023-5678 libcrypto3 3.1.4-r0 → fixed 3.1.4-r1'],
  },
  {
    // the installed build IS the fix (3.1.4-r1 = 3.1.4-r1) and a later one (3.1.4-r2 > 3.1.4-r1): not affected
    name: 'installed_fix_or_newer_is_clear',
    packages: [
      pkg('apk', 'libssl3', '3.1.4-r1', { srcName: 'openssl', srcVersion: '3.1.4-r1' }),
      pkg('apk', 'openssl', '3.1.4-r2', { srcName: 'openssl', srcVersion: '3.1.4-r2' }),
    ],
    sources: { alpine: [vuln('CVE-2023-5678', [row(ns, 'openssl', { fixed: '3.1.4-r1' })])] },
    expected: [],
  },
  {
    // a row under the binary name libcrypto3 is not looked up: the secdb names origins only; the one
    // package then has no row in alpine:3.22 at all, which the scan says (unknown release?)
    name: 'binary_name_rows_are_not_queried',
    packages: [pkg('apk', 'libcrypto3', '3.1.4-r0', { srcName: 'openssl', srcVersion: '3.1.4-r0' })],
    sources: { alpine: [vuln('CVE-2023-0001', [row(ns, 'libcrypto3', { fixed: '3.1.4-r1' })])] },
    expected: [],
    warnings: ['VIGIL_OS_UNSUPPORTED'],
  },
  {
    // apk letter suffix: 1.1.1d < 1.1.1g; pre-release suffix _rc1 sorts before the release: 2.4.0_rc1 < 2.4.0
    name: 'apk_suffix_ordering',
    packages: [
      pkg('apk', 'libssl1.1', '1.1.1d-r2', { srcName: 'openssl', srcVersion: '1.1.1d-r2' }),
      pkg('apk', 'curl', '8.4.0_rc1-r0', { srcName: 'curl', srcVersion: '8.4.0_rc1-r0' }),
    ],
    sources: {
      alpine: [
        vuln('CVE-2020-1967', [row(ns, 'openssl', { fixed: '1.1.1g-r0' })]),
        vuln('CVE-2023-38545', [row(ns, 'curl', { fixed: '8.4.0-r0' })]),
      ],
    },
    expected: [
      'CVE-2020-1967 libssl1.1 1.1.1d-r2 → fixed 1.1.1g-r0',
      'CVE-2023-38545 curl 8.4.0_rc1-r0 → fixed 8.4.0-r0',
    ],
  },
  {
    // secdb "0" (not affected) for CVE-2024-1 on busybox suppresses the OSV Alpine row for the same CVE
    name: 'secdb_not_affected_suppresses_other_sources',
    packages: [pkg('apk', 'busybox', '1.36.1-r15', { srcName: 'busybox', srcVersion: '1.36.1-r15' })],
    sources: {
      alpine: [vuln('CVE-2024-1', [row(ns, 'busybox', { state: 'not-affected' })])],
      osv: [vuln('CVE-2024-1', [row(ns, 'busybox', { fixed: '1.36.1-r20' })])],
    },
    expected: [],
  },
  {
    // Wolfi is rolling: one namespace `wolfi`; glibc 2.38-r5 < 2.38-r7
    name: 'wolfi_namespace',
    os: { family: 'wolfi', version: '20230201' },
    packages: [pkg('apk', 'glibc', '2.38-r5', { srcName: 'glibc', srcVersion: '2.38-r5' })],
    sources: { wolfi: [vuln('CVE-2023-4911', [row('wolfi', 'glibc', { fixed: '2.38-r7' })])] },
    expected: ['CVE-2023-4911 glibc 2.38-r5 → fixed 2.38-r7'],
  },
  {
    // "1.2.x" is no apk version: the package is reported in a warning and skipped, not crashed on
    name: 'invalid_installed_version_is_a_warning',
    packages: [pkg('apk', 'zlib', '1.2.x', { srcName: 'zlib', srcVersion: '1.2.x' })],
    sources: { alpine: [vuln('CVE-2022-37434', [row(ns, 'zlib', { fixed: '1.2.12-r2' })])] },
    expected: [],
    warnings: ['VIGIL_VERSION_INVALID'],
  },
];

describe('os/apk', () => {
  it.each(cases)('$name', ({ os, packages, sources, expected, warnings = [] }) => {
    const result = matchInventory(scanOf(os ?? alpine, packages), readerOf(sources), { now: NOW });
    expect({ findings: lines(result), warnings: result.warnings.map((w) => w.code) }).toEqual({
      findings: expected,
      warnings,
    });
  });
});
