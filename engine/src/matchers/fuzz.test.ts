/**
 * Matching never throws on bad data: package versions and names, advisory versions, ranges,
 * states and field types are mutated (test/support/fuzz.ts mutations on the strings, plus wrong
 * types), and matchInventory must return for every input.
 */
import { describe, expect, it } from 'vitest';
import { mutate, prng } from '../../../test/support/fuzz.js';
import type { FeedRecord } from '../feeds/types.js';
import type { OsRelease } from '../model/os.js';
import type { Package } from '../model/package.js';
import { matchInventory } from './match.js';
import { NOW, pkg, range, readerOf, row, scanOf, vuln } from './testdata/advisories.js';

const OSES: OsRelease[] = [
  { family: 'alpine', version: '3.22.1' },
  { family: 'debian', version: '12.5' },
  { family: 'rhel', version: '9.4' },
];

function baseCase(): { packages: Package[]; sources: Record<string, FeedRecord[]> } {
  return {
    packages: [
      pkg('apk', 'libssl3', '3.1.4-r0', { srcName: 'openssl', srcVersion: '3.1.4-r0' }),
      pkg('deb', 'libssl3', '3.0.11-1~deb12u2', { srcName: 'openssl', srcVersion: '3.0.11-1~deb12u2' }),
      pkg('rpm', 'openssl-libs', '1:3.0.7-24.el9', { srcName: 'openssl', srcVersion: '1:3.0.7-24.el9' }),
      pkg('npm', 'lodash', '4.17.20'),
      pkg('pypi', 'PyYAML', '5.4rc1'),
      pkg('golang', 'stdlib', 'v1.21.5'),
      pkg('maven', 'g:a', '2.14.1'),
    ],
    sources: {
      alpine: [vuln('CVE-1', [row('alpine:3.22', 'openssl', { fixed: '3.1.4-r1' })])],
      debian: [vuln('CVE-1', [row('debian:12', 'openssl', { state: 'will-not-fix' })])],
      redhat: [vuln('CVE-1', [row('rhel:9', 'openssl', { fixed: '1:3.0.7-25.el9' })])],
      ghsa: [
        vuln('GHSA-1', [row('npm', 'lodash', { ranges: [range(['0', '4.17.21'], ['5.0.0', '5.0.1'])] })], {
          aliases: ['CVE-1'],
        }),
        vuln('GHSA-2', [row('maven', 'g:a', { versions: ['2.14.1'] })]),
      ],
      osv: [
        vuln('PYSEC-1', [row('pypi', 'pyyaml', { fixed: '5.4' })], { aliases: ['GHSA-2'] }),
        vuln('GO-1', [row('golang', 'stdlib', { ranges: [range(['0', '1.21.9'])] })]),
      ],
      almalinux: [vuln('ALSA-2024:1', [row('almalinux:9', 'x', { fixed: '1-1' })], { related: ['CVE-1'] })],
    },
  };
}

const WEIRD: unknown[] = [null, 0, -1, 1e308, {}, [], '', ' ', '\u0000', 'v', '0', '*', true];

/** Mutates one string leaf of a JSON-like value in place (or swaps it for a weird value). */
function mutateSomeLeaf(root: unknown, rand: () => number): void {
  const leaves: [Record<string, unknown> | unknown[], string | number][] = [];
  const walk = (v: unknown, depth: number) => {
    if (depth > 8 || v === null || typeof v !== 'object') return;
    for (const [k, child] of Object.entries(v)) {
      if (typeof child === 'string')
        leaves.push([v as Record<string, unknown>, Array.isArray(v) ? Number(k) : k]);
      else walk(child, depth + 1);
    }
  };
  walk(root, 0);
  if (!leaves.length) return;
  const [parent, key] = leaves[Math.floor(rand() * leaves.length)]!;
  const current = (parent as Record<string | number, unknown>)[key] as string;
  (parent as Record<string | number, unknown>)[key] =
    rand() < 0.2
      ? WEIRD[Math.floor(rand() * WEIRD.length)]
      : mutate(Buffer.from(current, 'utf8'), rand).toString('latin1');
}

describe('matchInventory under mutated inventories and advisories', () => {
  it('returns for 10,000 mutated cases', () => {
    const rand = prng(0x6d617463);
    const failures: { i: number; error: string }[] = [];
    for (let i = 0; i < 10_000; i++) {
      const c = baseCase();
      const target = rand() < 0.5 ? c.packages : c.sources;
      for (let n = 1 + Math.floor(rand() * 3); n > 0; n--) mutateSomeLeaf(target, rand);
      try {
        const result = matchInventory(scanOf(OSES[i % OSES.length], c.packages), readerOf(c.sources), {
          now: NOW,
        });
        if (!Array.isArray(result.findings)) throw new Error('no findings array');
      } catch (e) {
        failures.push({ i, error: String((e as Error)?.stack ?? e).slice(0, 300) });
      }
    }
    expect(failures.slice(0, 3)).toEqual([]);
  });
});
