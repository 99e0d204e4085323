import { describe, expect, it } from 'vitest';
import type { Package } from '../model/index.js';
import {
  advisoryUrl,
  countBySeverity,
  countsPhrase,
  displayTitle,
  epssPercent,
  isWebUrl,
  remediationLine,
  totalsLine,
} from './findings.js';
import { groupByTarget, targetOf } from './targets.js';
import { oneLine, safeLines, truncate } from './text.js';

describe('finding helpers', () => {
  it('counts, totals line (Trivy wording) and the fix plan phrase', () => {
    const counts = countBySeverity([{ severity: 'HIGH' }, { severity: 'CRITICAL' }, { severity: 'HIGH' }]);
    expect([totalsLine(counts), countsPhrase(counts), countsPhrase(countBySeverity([]))]).toEqual([
      'Total: 3 (CRITICAL: 1, HIGH: 2, MEDIUM: 0, LOW: 0, UNKNOWN: 0)',
      '1 critical, 2 high',
      'none',
    ]);
  });

  it('remediation line: the issue example, and a language package with its path', () => {
    const bySeverity = { CRITICAL: 2, HIGH: 1, MEDIUM: 1, LOW: 0, UNKNOWN: 0 };
    expect([
      remediationLine({
        packageName: 'openssl',
        ecosystem: 'apk',
        installedVersion: '1.1.1c-r0',
        fixedVersion: '1.1.1d-r0',
        fixes: 4,
        bySeverity,
        ids: [],
      }),
      remediationLine({
        packageName: 'lodash',
        ecosystem: 'npm',
        path: 'app/package-lock.json',
        installedVersion: '4.17.15',
        fixedVersion: '4.17.21',
        fixes: 1,
        bySeverity: { ...bySeverity, CRITICAL: 0, MEDIUM: 0 },
        ids: [],
      }),
    ]).toEqual([
      'upgrade openssl 1.1.1c-r0 → 1.1.1d-r0 fixes 4 (2 critical, 1 high, 1 medium)',
      'upgrade lodash 4.17.15 → 4.17.21 in app/package-lock.json fixes 1 (1 high)',
    ]);
  });

  it('display title: the title, else the first sentence of the description', () => {
    expect([
      displayTitle({ title: ' Prototype Pollution ', description: 'x' }),
      displayTitle({ description: 'In apk-tools before 2.12.5, the parser crashes. More text.' }),
      displayTitle({ description: 'first line\nsecond line' }),
      displayTitle({ description: 'no full stop' }),
      displayTitle({}),
    ]).toEqual([
      'Prototype Pollution',
      'In apk-tools before 2.12.5, the parser crashes.',
      'first line',
      'no full stop',
      '',
    ]);
  });

  it('advisory links only from well-formed ids and URLs', () => {
    expect([
      advisoryUrl('CVE-2021-44228'),
      advisoryUrl('GHSA-jfh8-c2jp-5v3q'),
      advisoryUrl('GO-2024-2599'),
      advisoryUrl('DSA-5000-1', [
        'javascript:alert(1)',
        'https://a.example/x y',
        'https://security-tracker.debian.org/tracker/DSA-5000-1',
      ]),
      advisoryUrl('CVE-2021-44228"><script>'),
      advisoryUrl('GHSA-aaaa-bbbb-cccc'), // 'a' and 'b' are not in GHSA's alphabet
    ]).toEqual([
      'https://nvd.nist.gov/vuln/detail/CVE-2021-44228',
      'https://github.com/advisories/GHSA-jfh8-c2jp-5v3q',
      'https://osv.dev/vulnerability/GO-2024-2599',
      'https://security-tracker.debian.org/tracker/DSA-5000-1',
      undefined,
      undefined,
    ]);
    expect(
      ['https://x.example/a(b)', 'https://x.example/%zz', 'http://x.example/a?b=c#d'].map(isWebUrl),
    ).toEqual([false, false, true]);
  });

  it('EPSS as a percentage', () => {
    expect([0.97565, 0.0212, 0.0004, 0].map(epssPercent)).toEqual(['97.6%', '2.1%', '0.04%', '0.00%']);
  });

  it('text hygiene: one line, control characters and bidi overrides replaced, cut by code points', () => {
    expect([
      oneLine(' a\tb\r\nc\u001b[0m\u202e  d '),
      safeLines('a\r\nb\u0000\u2066'),
      truncate('😀😀😀😀', 3),
      truncate('abc', 3),
    ]).toEqual(['a b c\uFFFD[0m\uFFFD d', 'a\nb\uFFFD\uFFFD', '😀😀…', 'abc']);
  });
});

describe('targets', () => {
  const scan = {
    artifact: { name: 'img', kind: 'registry' as const },
    os: { family: 'debian', version: '12.5' },
  };
  const pkg = (ecosystem: Package['ecosystem'], name: string, path?: string): Package => ({
    name,
    version: '1',
    ecosystem,
    foundBy: 'x',
    ...(path ? { path } : {}),
  });

  it('OS packages in one target; per-package manifests by language; other files by path', () => {
    expect(
      [
        pkg('deb', 'libc6', 'var/lib/dpkg/status'),
        pkg('npm', 'a', 'app/node_modules/a/package.json'),
        pkg('npm', 'b', 'app/package-lock.json'),
        pkg('pypi', 'c', 'usr/lib/python3/site-packages/c-1.dist-info/METADATA'),
        pkg('gem', 'd', 'usr/lib/ruby/gems/3.1.0/specifications/d-1.gemspec'),
        pkg('golang', 'e'),
      ].map((p) => [targetOf(p, scan).key, targetOf(p, scan).title]),
    ).toEqual([
      ['os', 'img (debian 12.5)'],
      ['lang:npm:*Node.js', 'Node.js (npm)'],
      ['lang:npm:app/package-lock.json', 'app/package-lock.json (npm)'],
      ['lang:pypi:*Python', 'Python (pypi)'],
      ['lang:gem:*Ruby', 'Ruby (gem)'],
      ['lang:golang:', '(no path) (golang)'],
    ]);
  });

  it('groups: OS first, then by title; items keep their order', () => {
    const items = [
      pkg('npm', 'z', 'b/package-lock.json'),
      pkg('apk', 'musl'),
      pkg('npm', 'y', 'a/package-lock.json'),
      pkg('npm', 'x', 'b/package-lock.json'),
    ];
    expect(groupByTarget(items, (p) => p, scan).map((g) => [g.title, g.items.map((p) => p.name)])).toEqual([
      ['img (debian 12.5)', ['musl']],
      ['a/package-lock.json (npm)', ['y']],
      ['b/package-lock.json (npm)', ['z', 'x']],
    ]);
  });
});
