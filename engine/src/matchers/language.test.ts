import { describe, expect, it } from 'vitest';
import type { FeedRecord } from '../feeds/types.js';
import type { Package } from '../model/package.js';
import { matchInventory } from './match.js';
import { lines, NOW, pkg, range, readerOf, row, scanOf, vuln } from './testdata/advisories.js';

interface Case {
  name: string;
  packages: Package[];
  sources: Record<string, FeedRecord[]>;
  expected: string[];
  warnings?: string[];
}

const cases: Case[] = [
  {
    // semver: 4.17.20 < 4.17.21; 1.0.0-beta.1 < 1.0.0 (a pre-release sorts before its release)
    name: 'npm_semver',
    packages: [pkg('npm', 'lodash', '4.17.20'), pkg('npm', 'left-pad', '1.0.0-beta.1')],
    sources: {
      ghsa: [
        vuln('GHSA-35jh-r3h4-6jhm', [row('npm', 'lodash', { fixed: '4.17.21' })], {
          aliases: ['CVE-2021-23337'],
        }),
        vuln('GHSA-0000-0000-0001', [row('npm', 'left-pad', { fixed: '1.0.0' })]),
      ],
    },
    // the GHSA with a CVE alias is reported as the CVE; the one without keeps its GHSA id
    expected: [
      'CVE-2021-23337 lodash 4.17.20 → fixed 4.17.21',
      'GHSA-0000-0000-0001 left-pad 1.0.0-beta.1 → fixed 1.0.0',
    ],
  },
  {
    // PyPI names are looked up PEP 503-normalised (PyYAML → pyyaml, Django_REST.framework →
    // django-rest-framework); PEP 440: 5.4rc1 < 5.4, 3.14.0 < 3.15.2
    name: 'pypi_normalised_names',
    packages: [pkg('pypi', 'PyYAML', '5.4rc1'), pkg('pypi', 'Django_REST.framework', '3.14.0')],
    sources: {
      osv: [
        vuln('PYSEC-2021-142', [row('pypi', 'pyyaml', { fixed: '5.4' })]),
        vuln('PYSEC-2024-1', [row('pypi', 'django-rest-framework', { fixed: '3.15.2' })]),
      ],
    },
    expected: [
      'PYSEC-2021-142 PyYAML 5.4rc1 → fixed 5.4',
      'PYSEC-2024-1 Django_REST.framework 3.14.0 → fixed 3.15.2',
    ],
  },
  {
    // Go toolchain from a binary: module `stdlib`, installed with "v", OSV's ranges without.
    // GO-2024-2687: [0, 1.21.9) and [1.22.0-0, 1.22.2): v1.21.5 is in the first → 1.21.9;
    // v1.22.1 in the second → 1.22.2 (1.21.9 is below it); golang.org/x/net v0.17.0 < 0.23.0
    name: 'golang_stdlib_and_modules',
    packages: [
      pkg('golang', 'stdlib', 'v1.21.5', { path: 'usr/bin/a' }),
      pkg('golang', 'stdlib', 'v1.22.1', { path: 'usr/bin/b' }),
      pkg('golang', 'golang.org/x/net', 'v0.17.0', { path: 'usr/bin/a' }),
    ],
    sources: {
      osv: [
        vuln(
          'GO-2024-2687',
          [row('golang', 'stdlib', { ranges: [range(['0', '1.21.9'], ['1.22.0-0', '1.22.2'])] })],
          {
            aliases: ['CVE-2023-45288', 'GHSA-4v7x-pqxf-cx7m'],
          },
        ),
        vuln('GO-2024-2611', [row('golang', 'golang.org/x/net', { fixed: '0.23.0' })]),
      ],
    },
    expected: [
      'CVE-2023-45288 stdlib v1.21.5 → fixed 1.21.9',
      'CVE-2023-45288 stdlib v1.22.1 → fixed 1.22.2',
      'GO-2024-2611 golang.org/x/net v0.17.0 → fixed 0.23.0',
    ],
  },
  {
    // Maven groupId:artifactId; 2.0-beta9 ≤ 2.14.1 < 2.15.0 (maven: beta qualifier before release);
    // the row of another repository (OSV "Maven:https://…" → extra.repository) is not for Central jars
    name: 'maven_coordinates_and_qualifiers',
    packages: [pkg('maven', 'org.apache.logging.log4j:log4j-core', '2.14.1')],
    sources: {
      ghsa: [
        vuln(
          'GHSA-jfh8-c2jp-5v3q',
          [row('maven', 'org.apache.logging.log4j:log4j-core', { ranges: [range(['2.0-beta9', '2.15.0'])] })],
          { aliases: ['CVE-2021-44228'] },
        ),
      ],
      osv: [
        vuln('GHSA-0000-0000-0002', [
          row('maven', 'org.apache.logging.log4j:log4j-core', {
            fixed: '2.99.0',
            extra: { repository: 'https://repo.hortonworks.com/content/repositories/releases/' },
          }),
        ]),
      ],
    },
    expected: ['CVE-2021-44228 org.apache.logging.log4j:log4j-core 2.14.1 → fixed 2.15.0'],
  },
  {
    // RubyGems 2.2.3 < 2.2.6.3; cargo 0.10.50 in [0.10.0, 0.10.55); NuGet 12.0.3 < 13.0.1;
    // Composer's leading v is ignored: v7.4.4 < 7.4.5
    name: 'gem_cargo_nuget_composer',
    packages: [
      pkg('gem', 'rack', '2.2.3'),
      pkg('cargo', 'openssl', '0.10.50'),
      pkg('nuget', 'Newtonsoft.Json', '12.0.3'),
      pkg('composer', 'guzzlehttp/guzzle', 'v7.4.4'),
    ],
    sources: {
      ghsa: [
        vuln('GHSA-0001', [row('gem', 'rack', { fixed: '2.2.6.3' })]),
        vuln('GHSA-0002', [row('cargo', 'openssl', { ranges: [range(['0.10.0', '0.10.55'])] })]),
        vuln('GHSA-0003', [row('nuget', 'Newtonsoft.Json', { fixed: '13.0.1' })]),
        vuln('GHSA-0004', [row('composer', 'guzzlehttp/guzzle', { fixed: '7.4.5' })]),
      ],
    },
    expected: [
      'GHSA-0001 rack 2.2.3 → fixed 2.2.6.3',
      'GHSA-0002 openssl 0.10.50 → fixed 0.10.55',
      'GHSA-0003 Newtonsoft.Json 12.0.3 → fixed 13.0.1',
      'GHSA-0004 guzzlehttp/guzzle v7.4.4 → fixed 7.4.5',
    ],
  },
  {
    // two overlapping ranges [0, 1.5) and [1.4, 1.8): 1.0 is affected; 1.5 is inside the second
    // range, so the version that fixes it is 1.8
    name: 'fix_leaves_every_range',
    packages: [pkg('npm', 'overlap', '1.0.0')],
    sources: {
      ghsa: [
        vuln('GHSA-0005', [
          row('npm', 'overlap', { ranges: [range(['0', '1.5.0']), range(['1.4.0', '1.8.0'])] }),
        ]),
      ],
    },
    expected: ['GHSA-0005 overlap 1.0.0 → fixed 1.8.0'],
  },
  {
    // last_affected 2.3.0 (no fix published): 2.1.0 ≤ 2.3.0 → affected, unfixed; a listed version
    // (OSV `versions`) is affected with no fix; a GIT-only row names commits and is skipped
    name: 'unfixed_ranges_and_listed_versions',
    packages: [pkg('pypi', 'lastaff', '2.1.0'), pkg('pypi', 'listed', '0.9'), pkg('pypi', 'gitonly', '1.0')],
    sources: {
      osv: [
        vuln('PYSEC-0001', [
          row('pypi', 'lastaff', {
            ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { last_affected: '2.3.0' }] }],
          }),
        ]),
        vuln('PYSEC-0002', [row('pypi', 'listed', { versions: ['0.8', '0.9'], ranges: [] })]),
        vuln('PYSEC-0003', [
          row('pypi', 'gitonly', {
            ranges: [{ type: 'GIT', events: [{ introduced: '0' }, { fixed: 'abc123' }] }],
          }),
        ]),
      ],
    },
    expected: ['PYSEC-0001 lastaff 2.1.0 → unfixed -', 'PYSEC-0002 listed 0.9 → unfixed -'],
  },
  {
    // bad data is recorded and skipped: an installed version npm cannot read ("latest"), an advisory
    // whose fixed event is not semver ("1.x.y"); the valid row of the same package still matches
    name: 'invalid_versions_are_warnings',
    packages: [pkg('npm', 'weird', 'latest'), pkg('npm', 'ok', '1.0.0')],
    sources: {
      ghsa: [
        vuln('GHSA-0006', [row('npm', 'weird', { fixed: '2.0.0' })]),
        vuln('GHSA-0007', [row('npm', 'ok', { fixed: '1.x.y' })]),
        vuln('GHSA-0008', [row('npm', 'ok', { fixed: '1.0.1' })]),
      ],
    },
    expected: ['GHSA-0008 ok 1.0.0 → fixed 1.0.1'],
    warnings: ['VIGIL_VERSION_INVALID', 'VIGIL_ADVISORY_INVALID'],
  },
];

describe('lang/*', () => {
  it.each(cases)('$name', ({ packages, sources, expected, warnings = [] }) => {
    const result = matchInventory(scanOf(undefined, packages), readerOf(sources), { now: NOW });
    expect({ findings: lines(result), warnings: result.warnings.map((w) => w.code) }).toEqual({
      findings: expected,
      warnings,
    });
  });

  it('says which package and advisory could not be evaluated', () => {
    const { packages, sources } = cases.find((c) => c.name === 'invalid_versions_are_warnings')!;
    const result = matchInventory(scanOf(undefined, packages), readerOf(sources), { now: NOW });
    expect(result.warnings).toEqual([
      {
        code: 'VIGIL_VERSION_INVALID',
        message:
          'npm package weird "latest" was not matched: installed version: invalid semver version "latest": Invalid Version: latest',
      },
      {
        code: 'VIGIL_ADVISORY_INVALID',
        message:
          '1 advisory rows could not be evaluated and were skipped; first: GHSA-0007 (ghsa npm/ok): fixed invalid semver version "1.x.y": Invalid Version: 1.x.y',
      },
    ]);
  });
});
