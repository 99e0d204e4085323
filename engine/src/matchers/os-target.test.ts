import { describe, expect, it } from 'vitest';
import type { OsRelease } from '../model/os.js';
import { resolveOsTarget } from './os-target.js';
import { NOW } from './testdata/advisories.js';

const ALL = [
  'alpine',
  'osv',
  'wolfi',
  'chainguard',
  'debian',
  'ubuntu',
  'redhat',
  'rocky',
  'almalinux',
  'amzn',
];

describe('resolveOsTarget: the tracker namespace of each release', () => {
  it.each<[string, OsRelease, string[]]>([
    // tracker granularity: alpine major.minor, debian major, ubuntu YY.MM, RHEL family major
    ['alpine_point_release', { family: 'alpine', version: '3.22.2' }, ['alpine:3.22']],
    ['alpine_edge', { family: 'alpine', version: '3.23.0_alpha20251016' }, ['alpine:edge']],
    ['wolfi_rolling', { family: 'wolfi', version: '20230201' }, ['wolfi']],
    ['chainguard_rolling', { family: 'chainguard', version: '20230214' }, ['chainguard']],
    ['debian_point_release', { family: 'debian', version: '12.5' }, ['debian:12']],
    // testing has no VERSION_ID: its codename (debian_version "trixie/sid" or VERSION_CODENAME)
    ['debian_testing_by_codename', { family: 'debian', version: '', codename: 'trixie' }, ['debian:13']],
    ['debian_sid', { family: 'debian', version: 'sid/sid' }, ['debian:unstable']],
    ['ubuntu', { family: 'ubuntu', version: '24.04' }, ['ubuntu:24.04']],
    ['rhel', { family: 'rhel', version: '9.4' }, ['rhel:9']],
    // Rocky and AlmaLinux use their own advisories; CentOS uses Red Hat's
    ['rocky', { family: 'rocky', version: '9.4' }, ['rocky:9']],
    ['almalinux', { family: 'almalinux', version: '8.10' }, ['almalinux:8']],
    ['amazon_2023', { family: 'amzn', version: '2023' }, ['amzn:2023']],
  ])('%s', (_name, os, namespaces) => {
    const { distro, warnings } = resolveOsTarget(os, 1, ALL, NOW);
    expect({ namespaces: distro?.namespaces, warnings }).toEqual({ namespaces, warnings: [] });
  });
});

describe('resolveOsTarget: warnings instead of silence', () => {
  const codes = (os: OsRelease | undefined, osPackages = 3, sources = ALL) => {
    const r = resolveOsTarget(os, osPackages, sources, NOW);
    return { namespaces: r.distro?.namespaces, warnings: r.warnings };
  };

  it('no OS release with OS packages', () => {
    expect(codes(undefined)).toEqual({
      namespaces: undefined,
      warnings: [
        {
          code: 'VIGIL_OS_UNKNOWN',
          message: '3 OS packages found but no OS release (/etc/os-release): they were not matched',
        },
      ],
    });
  });

  it('no warning for a language-only scan without OS packages', () => {
    expect(codes(undefined, 0)).toEqual({ namespaces: undefined, warnings: [] });
    expect(codes({ family: 'fedora', version: '40' }, 0)).toEqual({ namespaces: undefined, warnings: [] });
  });

  it('a distribution without a tracker', () => {
    expect(codes({ family: 'fedora', version: '40' }).warnings).toEqual([
      {
        code: 'VIGIL_OS_UNSUPPORTED',
        message:
          'fedora 40: Vigil has no vulnerability tracker for this distribution (supported: alpine, wolfi, chainguard, debian, ubuntu, rhel, centos, ol, rocky, almalinux, amzn); its 3 OS packages were not matched',
      },
    ]);
  });

  it('a release that cannot be read', () => {
    expect(codes({ family: 'ubuntu', version: 'jammy' })).toEqual({
      namespaces: undefined,
      warnings: [
        {
          code: 'VIGIL_OS_UNSUPPORTED',
          message: 'ubuntu jammy: release not recognised for ubuntu; its OS packages were not matched',
        },
      ],
    });
  });

  it('end of life, dated (the test clock is 2026-11-27)', () => {
    // Debian 10 LTS ended 2024-06-30
    expect(codes({ family: 'debian', version: '10.13' }).warnings).toEqual([
      {
        code: 'VIGIL_OS_EOL',
        message:
          'debian 10.13 reached end of life on 2024-06-30: it gets no more security fixes and its tracker may no longer list new vulnerabilities; upgrade the base image',
      },
    ]);
    // Ubuntu 20.04: standard support ended 2025-05-31, ESM runs to 2030-05-31
    expect(codes({ family: 'ubuntu', version: '20.04' }).warnings).toEqual([
      {
        code: 'VIGIL_OS_EOL',
        message:
          'ubuntu 20.04 reached the end of standard support on 2025-05-31; fixes until 2030-05-31 need extended support (Ubuntu Pro ESM)',
      },
    ]);
    // Amazon Linux 2 ended 2026-06-30; still matched against amzn:2
    expect(codes({ family: 'amzn', version: '2' })).toEqual({
      namespaces: ['amzn:2'],
      warnings: [
        {
          code: 'VIGIL_OS_EOL',
          message:
            'amzn 2 reached end of life on 2026-06-30: it gets no more security fixes and its tracker may no longer list new vulnerabilities; upgrade the base image',
        },
      ],
    });
    // Alpine 3.22 is supported until 2027-05-01: no warning
    expect(codes({ family: 'alpine', version: '3.22.0' }).warnings).toEqual([]);
  });

  it("a database without the distro's feeds", () => {
    expect(codes({ family: 'rhel', version: '9.4' }, 3, ['nvd', 'ghsa']).warnings).toEqual([
      {
        code: 'VIGIL_OS_NO_DATA',
        message:
          'rhel 9.4: the vulnerability database has none of the feeds for rhel (redhat); its OS packages could not be matched — rebuild the database with them',
      },
    ]);
  });

  it('Oracle Linux is matched against RHEL data, and says so', () => {
    expect(codes({ family: 'ol', version: '9.3' })).toEqual({
      namespaces: ['rhel:9'],
      warnings: [
        {
          code: 'VIGIL_OS_APPROXIMATE',
          message:
            "ol 9.3: matched against Red Hat's data for RHEL 9 (Oracle's own errata are not a Vigil feed); Oracle-specific fixes may be missed",
        },
      ],
    });
  });
});
