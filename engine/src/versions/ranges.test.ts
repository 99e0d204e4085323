/**
 * Range evaluation (OSV events, explicit version lists, GitHub range strings), the
 * ecosystem → scheme table and the public compareVersions contract.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hasRealdata, realdata } from '../../../test/support/realdata.js';
import * as engine from '../index.js';
import type { AffectedRange } from '../model/vulnerability.js';
import { compareVersions, isAffected, isValidVersion, satisfiesRange, schemeFor } from './index.js';

const eco = (...events: AffectedRange['events']): AffectedRange => ({ type: 'ECOSYSTEM', events });

describe('isAffected (OSV evaluation)', () => {
  const fixed123 = { ranges: [eco({ introduced: '0' }, { fixed: '1.2.3' })] };

  it('introduced "0" covers everything below fixed', () => {
    expect(
      ['0.0.1', '1.2.2', '1.2.3-rc.1', '1.2.3', '2.0.0'].map(
        (v) => isAffected(v, fixed123, 'semver').affected,
      ),
    ).toEqual([
      true,
      true,
      true, // a pre-release of 1.2.3 sorts below 1.2.3
      false,
      false,
    ]);
  });

  it('last_affected includes its own version', () => {
    const spec = { ranges: [eco({ introduced: '1.0' }, { last_affected: '1.4' })] };
    expect(
      ['0.9', '1.0', '1.4', '1.4.post1', '1.5'].map((v) => isAffected(v, spec, 'pep440').affected),
    ).toEqual([false, true, true, false, false]);
  });

  it('sorts events before walking them, and reopens at a second introduced', () => {
    // GO-2024-2687 stdlib shape, events deliberately out of order
    const spec = {
      ranges: [
        {
          type: 'SEMVER' as const,
          events: [{ fixed: '1.22.2' }, { introduced: '1.22.0-0' }, { fixed: '1.21.9' }, { introduced: '0' }],
        },
      ],
    };
    expect(
      ['v1.21.8', 'v1.21.9', 'v1.21.13', 'v1.22.0-rc.1', 'v1.22.1', 'v1.22.2', 'go1.22.1'].map(
        (v) => isAffected(v, spec, 'go').affected,
      ),
    ).toEqual([
      true,
      false,
      false,
      true, // 1.22.0-rc.1 > 1.22.0-0 (numeric identifiers sort below alphanumeric ones)
      true,
      false,
      true,
    ]);
  });

  it('ORs several ranges and honours limit events', () => {
    const spec = {
      ranges: [
        eco({ introduced: '1.0' }, { fixed: '1.1' }),
        eco({ introduced: '2.0' }, { limit: '2.5' }),
        eco({ introduced: '3.0' }, { limit: '*' }),
      ],
    };
    expect(
      ['0.5', '1.0.5', '1.1', '2.4', '2.5', '2.9', '3.7'].map((v) => isAffected(v, spec, 'maven').affected),
    ).toEqual([false, true, false, true, false, false, true]);
  });

  it('an introduced and fixed at the same version affect nothing', () => {
    expect(isAffected('1.0', { ranges: [eco({ introduced: '1.0' }, { fixed: '1.0' })] }, 'maven')).toEqual({
      affected: false,
    });
  });

  it('uses the scheme: Debian epochs and tildes, Alpine revisions, RPM releases', () => {
    expect([
      isAffected('1:1.0-1', { ranges: [eco({ introduced: '0' }, { fixed: '2.0-1' })] }, 'deb').affected, // epoch 1 outranks
      isAffected('2.0~rc1-1', { ranges: [eco({ introduced: '0' }, { fixed: '2.0-1' })] }, 'deb').affected,
      isAffected('1.1.1d-r0', { ranges: [eco({ introduced: '0' }, { fixed: '1.1.1d-r2' })] }, 'apk').affected,
      isAffected(
        '1:1.1.1k-7.el8_6',
        { ranges: [eco({ introduced: '0' }, { fixed: '1:1.1.1k-9.el8_7' })] },
        'rpm',
      ).affected,
    ]).toEqual([false, true, true, true]);
  });

  it('matches explicit versions exactly or by scheme equality', () => {
    const spec = { versions: ['1.0.0', '1.1'] };
    expect([
      isAffected('1.0.0', spec, 'pep440'),
      isAffected('1.1.0', spec, 'pep440'), // 1.1 == 1.1.0 in PEP 440
      isAffected('1.2', spec, 'pep440'),
    ]).toEqual([
      { affected: true, reason: 'listed version' },
      { affected: true, reason: 'listed version' },
      { affected: false },
    ]);
  });

  it('reads an empty spec as every version (the model convention)', () => {
    expect(isAffected('anything at all', {}, 'deb')).toEqual({ affected: true, reason: 'all versions' });
  });

  it('never throws on bad data: unknown with a reason', () => {
    expect([
      isAffected('not a version', { ranges: [eco({ introduced: '0' }, { fixed: '1.0' })] }, 'semver'),
      isAffected('1.0.0', { ranges: [eco({ introduced: '0' }, { fixed: 'garbage!' })] }, 'semver'),
      isAffected(
        '1.0.0',
        { ranges: [{ type: 'GIT', events: [{ introduced: 'abc' }, { fixed: 'def' }] }] },
        'semver',
      ),
      isAffected(
        '1.0.0',
        { ranges: [eco({ introduced: '0' }, { fixed: 'garbage!' }), eco({ introduced: '0.5.0' })] },
        'semver',
      ),
      isAffected('1.0.0', { ranges: [eco({ bogus: '1' } as never)] }, 'semver').affected,
    ]).toEqual([
      {
        affected: 'unknown',
        reason: expect.stringContaining('installed version: invalid semver version "not a version"'),
      },
      { affected: 'unknown', reason: expect.stringContaining('fixed invalid semver version "garbage!"') },
      { affected: 'unknown', reason: 'only GIT ranges, which name commits' },
      { affected: true, reason: 'range' }, // another range decides
      'unknown',
    ]);
  });

  it('throws ENG_INVALID_ARGUMENT for an unknown scheme id', () => {
    expect(() => isAffected('1.0', { versions: ['2.0'] }, 'cobol' as never)).toThrow(
      expect.objectContaining({ code: 'ENG_INVALID_ARGUMENT' }),
    );
  });
});

describe.skipIf(!hasRealdata)('isAffected on real OSV records', () => {
  const load = (name: string) => JSON.parse(readFileSync(realdata(`feeds/osv/${name}`), 'utf8'));

  it('PYSEC-2023-74 (requests, introduced 2.3.0, fixed 2.31.0, plus a GIT range and a versions list)', () => {
    const [affected] = load('osvschema-PYSEC-2023-74.json').affected;
    expect(
      ['2.2.1', '2.3.0', '2.28.2', '2.31.0', '2.32.0'].map((v) => isAffected(v, affected, 'pep440').affected),
    ).toEqual([false, true, true, false, false]);
  });

  it('GO-2020-0001 (gin, SEMVER introduced 0, fixed 1.6.0)', () => {
    const [affected] = load('osvschema-GO-2020-0001.json').affected;
    expect(
      ['v1.5.0', 'v1.6.0-rc.1', 'v1.6.0', 'v1.9.1'].map((v) => isAffected(v, affected, 'go').affected),
    ).toEqual([true, true, false, false]);
  });
});

describe('satisfiesRange (GitHub range strings)', () => {
  it('evaluates every constraint and ANDs them', () => {
    expect(
      [
        ['1.1.0', '>= 1.0, < 1.2.3'],
        ['1.2.3', '>= 1.0, < 1.2.3'],
        ['0.9.0', '>= 1.0, < 1.2.3'],
        ['1.0.0', '= 1.0.0'],
        ['1.0.1', '= 1.0.0'],
        ['1.9.9', '< 2.0'],
        ['2.0', '<= 2.0'],
        ['2.0.1', '> 2.0'],
        ['2.0.0', '!= 2.0'],
        ['2.0.0', '1.0, 2.0'],
      ].map(([v, r]) => satisfiesRange(v!, r!, 'maven').affected),
    ).toEqual([true, false, false, true, false, true, true, true, false, false]);
  });

  it('orders by the scheme (PEP 440 pre-releases, npm pre-releases)', () => {
    expect([
      satisfiesRange('2.0rc1', '< 2.0', 'pep440').affected,
      satisfiesRange('2.0.0-rc.1', '>= 1.0.0, < 2.0.0', 'semver').affected,
      satisfiesRange('v2.0.0+incompatible', '>= 2.0.0', 'go').affected,
    ]).toEqual([true, true, true]);
  });

  it('gives unknown for unreadable ranges or versions', () => {
    expect([
      satisfiesRange('1.0', '', 'maven'),
      satisfiesRange('1.0', '>= 1.0,', 'maven'),
      satisfiesRange('1.0', '~> 1.0', 'maven'),
      satisfiesRange('1.0', '>= dev-master', 'composer'),
      satisfiesRange('dev-master', '>= 1.0', 'composer'),
    ]).toEqual([
      { affected: 'unknown', reason: 'empty constraint in range ""' },
      { affected: 'unknown', reason: 'empty constraint in range ">= 1.0,"' },
      { affected: 'unknown', reason: 'cannot read constraint "~> 1.0"' },
      { affected: 'unknown', reason: expect.stringContaining('a branch name') },
      {
        affected: 'unknown',
        reason: expect.stringContaining('installed version: invalid composer version "dev-master"'),
      },
    ]);
  });
});

describe('schemeFor (the one ecosystem → scheme table)', () => {
  it('maps ecosystems, OSV names, distro families and namespaces', () => {
    const inputs = [
      'debian',
      'ubuntu:22.04',
      'Debian:12',
      'deb',
      'alpine:3.19',
      'Alpine:v3.19',
      'wolfi',
      'chainguard',
      'apk',
      'rhel:9',
      'almalinux:9',
      'rocky:9',
      'Rocky Linux:9',
      'amzn:2023',
      'fedora',
      'ol',
      'sles',
      'opensuse-leap',
      'photon',
      'mariner',
      'azurelinux',
      'Red Hat:enterprise_linux:9',
      'rpm',
      'npm',
      'pypi',
      'PyPI',
      'maven',
      'Maven',
      'golang',
      'Go',
      'gem',
      'RubyGems',
      'nuget',
      'NuGet',
      'composer',
      'Packagist',
      'cargo',
      'crates.io',
      'hackage',
      '',
      'toString',
    ];
    expect(Object.fromEntries(inputs.map((i) => [i, schemeFor(i) ?? null]))).toEqual({
      debian: 'deb',
      'ubuntu:22.04': 'deb',
      'Debian:12': 'deb',
      deb: 'deb',
      'alpine:3.19': 'apk',
      'Alpine:v3.19': 'apk',
      wolfi: 'apk',
      chainguard: 'apk',
      apk: 'apk',
      'rhel:9': 'rpm',
      'almalinux:9': 'rpm',
      'rocky:9': 'rpm',
      'Rocky Linux:9': 'rpm',
      'amzn:2023': 'rpm',
      fedora: 'rpm',
      ol: 'rpm',
      sles: 'rpm',
      'opensuse-leap': 'rpm',
      photon: 'rpm',
      mariner: 'rpm',
      azurelinux: 'rpm',
      'Red Hat:enterprise_linux:9': 'rpm',
      rpm: 'rpm',
      npm: 'semver',
      pypi: 'pep440',
      PyPI: 'pep440',
      maven: 'maven',
      Maven: 'maven',
      golang: 'go',
      Go: 'go',
      gem: 'gem',
      RubyGems: 'gem',
      nuget: 'nuget',
      NuGet: 'nuget',
      composer: 'composer',
      Packagist: 'composer',
      cargo: 'cargo',
      'crates.io': 'cargo',
      hackage: null,
      '': null,
      toString: null,
    });
  });

  it('covers every model ecosystem', () => {
    expect(engine.ECOSYSTEMS.filter((e) => schemeFor(e) === undefined)).toEqual([]);
  });
});

describe('compareVersions (public export)', () => {
  it('is exported from @vigil/engine and returns -1, 0 or 1', () => {
    expect([
      engine.compareVersions('deb', '1:1.0', '2.0'),
      engine.compareVersions('rpm', '1.0-1.el9', '1.0-1.el9'),
      engine.compareVersions('pep440', '1.0rc1', '1.0'),
    ]).toEqual([1, 0, -1]);
  });

  it('throws ENG_VERSION_INVALID for an invalid version and ENG_INVALID_ARGUMENT for an unknown scheme', () => {
    expect(() => compareVersions('semver', '1.2', '1.2.0')).toThrow(
      expect.objectContaining({ code: 'ENG_VERSION_INVALID' }),
    );
    expect(() => compareVersions('cobol' as never, '1', '2')).toThrow(
      expect.objectContaining({ code: 'ENG_INVALID_ARGUMENT' }),
    );
    expect([isValidVersion('apk', '1.0-r1'), isValidVersion('apk', '1.0-1')]).toEqual([true, false]);
  });
});
