import { describe, expect, it } from 'vitest';
import { matchInventory } from './match.js';
import { NOW, nvdCvss, pkg, readerOf, row, scanOf, vuln } from './testdata/advisories.js';

const CRIT = nvdCvss('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'); // 9.8 CRITICAL
const HIGH = nvdCvss('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H'); // 7.5 HIGH
const MED = nvdCvss('CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H'); // 5.9 MEDIUM

describe('fix plan', () => {
  it('per package: the lowest version fixing every fixable finding, counted by severity, by impact', () => {
    const reader = readerOf({
      ghsa: [
        // express 4.17.1: critical fixed in 4.17.3, high fixed in 4.19.2 → one upgrade to 4.19.2 fixes both
        vuln('GHSA-0001', [row('npm', 'express', { fixed: '4.17.3' })], { aliases: ['CVE-2099-0001'] }),
        vuln('GHSA-0002', [row('npm', 'express', { fixed: '4.19.2' })], { aliases: ['CVE-2099-0002'] }),
        // qs 6.5.2: two highs fixed in 6.5.3 and 6.10.3; one medium without a fix (not counted)
        vuln('GHSA-0003', [row('npm', 'qs', { fixed: '6.5.3' })], { aliases: ['CVE-2099-0003'] }),
        vuln('GHSA-0004', [row('npm', 'qs', { fixed: '6.10.3' })], { aliases: ['CVE-2099-0004'] }),
        vuln('GHSA-0005', [row('npm', 'qs', { ranges: [] })], { aliases: ['CVE-2099-0005'] }),
        // debug 2.6.8: one medium, fixed in 2.6.9
        vuln('GHSA-0006', [row('npm', 'debug', { fixed: '2.6.9' })], { aliases: ['CVE-2099-0006'] }),
      ],
      nvd: [
        vuln('CVE-2099-0001', [], { cvss: [CRIT] }),
        vuln('CVE-2099-0002', [], { cvss: [HIGH] }),
        vuln('CVE-2099-0003', [], { cvss: [HIGH] }),
        vuln('CVE-2099-0004', [], { cvss: [HIGH] }),
        vuln('CVE-2099-0005', [], { cvss: [MED] }),
        vuln('CVE-2099-0006', [], { cvss: [MED] }),
      ],
    });
    const at = (name: string) => `app/node_modules/${name}/package.json`;
    const scan = scanOf(undefined, [
      pkg('npm', 'debug', '2.6.8', { path: at('debug') }),
      pkg('npm', 'qs', '6.5.2', { path: at('qs') }),
      pkg('npm', 'express', '4.17.1', { path: at('express') }),
    ]);
    const zero = { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 };
    expect(matchInventory(scan, reader, { now: NOW }).remediations).toEqual([
      {
        packageName: 'express',
        ecosystem: 'npm',
        path: at('express'),
        installedVersion: '4.17.1',
        fixedVersion: '4.19.2',
        fixes: 2,
        bySeverity: { ...zero, CRITICAL: 1, HIGH: 1 },
        ids: ['CVE-2099-0001', 'CVE-2099-0002'],
      },
      {
        // semver: 6.10.3 > 6.5.3 (minor 10 > 5), so 6.10.3 fixes both
        packageName: 'qs',
        ecosystem: 'npm',
        path: at('qs'),
        installedVersion: '6.5.2',
        fixedVersion: '6.10.3',
        fixes: 2,
        bySeverity: { ...zero, HIGH: 2 },
        ids: ['CVE-2099-0003', 'CVE-2099-0004'],
      },
      {
        packageName: 'debug',
        ecosystem: 'npm',
        path: at('debug'),
        installedVersion: '2.6.8',
        fixedVersion: '2.6.9',
        fixes: 1,
        bySeverity: { ...zero, MEDIUM: 1 },
        ids: ['CVE-2099-0006'],
      },
    ]);
  });
});
