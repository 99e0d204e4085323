import { describe, expect, it } from 'vitest';
import { prng } from '../../../test/support/fuzz.js';
import { decideRow } from '../matchers/decide.js';
import type { AffectedPackage } from '../model/vulnerability.js';
import { compareVersions } from '../versions/index.js';
import { clearAbove } from './clear-above.js';

const range = (...events: object[]) => ({ type: 'ECOSYSTEM', events });

describe('clearAbove', () => {
  it.each([
    ['a fixed range', 'npm', [{ ranges: [range({ introduced: '0' }, { fixed: '1.2.3' })] }], '1.2.3'],
    [
      'the highest version of every entry, listed versions and last_affected included',
      'npm',
      [
        { ranges: [range({ introduced: '1.0.0' }, { last_affected: '1.4.0' })] },
        { ranges: [], versions: ['2.0.0', '1.9.9'] },
        {
          ranges: [
            range({ introduced: '0' }, { fixed: '1.0.1' }, { introduced: '1.1.0' }, { fixed: '1.1.5' }),
          ],
        },
      ],
      '2.0.0',
    ],
    [
      'events in any order (evaluation sorts them)',
      'pypi',
      [{ ranges: [range({ fixed: '2.1' }, { introduced: '2.0' })] }],
      '2.1',
    ],
    [
      'GIT ranges beside closed ones',
      'npm',
      [
        {
          ranges: [
            { type: 'GIT', events: [{ introduced: 'abc' }] },
            range({ introduced: '0' }, { fixed: '3.0.0' }),
          ],
        },
      ],
      '3.0.0',
    ],
    [
      'a Debian tracker fix',
      'debian:12',
      [{ ranges: [range({ introduced: '0' }, { fixed: '1:2.3-4' })] }],
      '1:2.3-4',
    ],
    ['an open record (every version)', 'debian:12', [{ fixState: 'unfixed', ranges: [] }], undefined],
    ['a range open at the top', 'npm', [{ ranges: [range({ introduced: '1.0.0' })] }], undefined],
    [
      'a range reopened above its fix',
      'npm',
      [{ ranges: [range({ introduced: '0' }, { fixed: '1.0.0' }, { introduced: '2.0.0' })] }],
      undefined,
    ],
    [
      'introduced and fixed at one version (fixed wins the tie)',
      'npm',
      [{ ranges: [range({ introduced: '1.0.0' }, { fixed: '1.0.0' })] }],
      '1.0.0',
    ],
    ['a limit event', 'npm', [{ ranges: [range({ introduced: '0' }, { limit: '2.0.0' })] }], undefined],
    [
      'a version the scheme cannot read',
      'npm',
      [{ ranges: [range({ introduced: '0' }, { fixed: 'x y' })] }],
      undefined,
    ],
    ['an event with two kinds', 'npm', [{ ranges: [range({ introduced: '0', fixed: '1.0.0' })] }], undefined],
    [
      'a namespace without a scheme',
      'unknown-eco',
      [{ ranges: [range({ introduced: '0' }, { fixed: '1' })] }],
      undefined,
    ],
    ['only GIT ranges', 'npm', [{ ranges: [{ type: 'GIT', events: [{ fixed: 'abc' }] }] }], undefined],
  ])('%s', (_, namespace, entries, version) => {
    const got = clearAbove(namespace, entries);
    expect(got?.version).toBe(version);
  });

  // above the clear-above version, every entry is clear: 20,000 random entry sets
  it('leaves only clear rows above it (decideRow, 20,000 random packages)', () => {
    const rand = prng(0xc1ea2);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
    const spaces = {
      npm: [
        'semver',
        () => `${pick([0, 1, 2])}.${pick([0, 1, 2, 10])}.${pick([0, 1, 9])}${pick(['', '', '-rc.1'])}`,
      ],
      'debian:12': [
        'deb',
        () =>
          `${pick(['', '1:'])}${pick([1, 2])}.${pick([0, 1, 10])}-${pick(['1', '2', '1~deb12u1', '1+b1'])}`,
      ],
      'alpine:3.19': [
        'apk',
        () => `${pick([1, 2])}.${pick([0, 1, 10])}${pick(['', 'a', '_rc1', '_p2'])}-r${pick([0, 1, 2])}`,
      ],
      pypi: ['pep440', () => `${pick([1, 2])}.${pick([0, 1, 10])}${pick(['', 'rc1', '.post1', '.dev0'])}`],
    } as const;
    let above = 0;
    const wrong: unknown[] = [];
    for (let i = 0; i < 20_000; i++) {
      const namespace = pick(Object.keys(spaces) as (keyof typeof spaces)[]);
      const [scheme, v] = spaces[namespace];
      const rangeOf = () => {
        const events: object[] = [];
        for (let pairs = 1 + Math.floor(rand() * 2); pairs > 0; pairs--) {
          events.push({ introduced: rand() < 0.4 ? '0' : v() });
          const bound = rand();
          if (bound < 0.7) events.push({ fixed: v() });
          else if (bound < 0.9) events.push({ last_affected: v() });
        }
        if (rand() < 0.2) events.reverse();
        return { type: rand() < 0.05 ? 'GIT' : 'ECOSYSTEM', events } as AffectedPackage['ranges'][number];
      };
      const entries: AffectedPackage[] = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => {
        const row: AffectedPackage = {
          vulnId: 'X',
          namespace,
          packageName: 'p',
          fixState: pick(['fixed', 'fixed', 'unfixed', 'not-affected'] as const),
          ranges: rand() < 0.05 ? [] : Array.from({ length: 1 + Math.floor(rand() * 2) }, rangeOf),
        };
        if (rand() < 0.1) row.versions = [v(), v()];
        if (rand() < 0.05) row.fixedVersion = v();
        return row;
      });
      const clear = clearAbove(namespace, entries);
      const installed = v();
      if (!clear || compareVersions(scheme, installed, clear.version) <= 0) continue;
      above++;
      for (const row of entries) {
        const verdict = decideRow(installed, row, scheme);
        if (verdict.kind !== 'clear') wrong.push({ installed, clear, row, verdict });
      }
    }
    expect(wrong.slice(0, 3)).toEqual([]);
    expect(above).toBeGreaterThan(1000);
  });
});
