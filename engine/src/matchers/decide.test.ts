import { describe, expect, it } from 'vitest';
import type { AffectedPackage } from '../model/vulnerability.js';
import { decideRow } from './decide.js';
import { range, row } from './testdata/advisories.js';

const r = (spec: Parameters<typeof row>[2]): AffectedPackage => ({ ...row('npm', 'p', spec), vulnId: 'X' });

describe('decideRow', () => {
  it.each<[string, string, AffectedPackage, ReturnType<typeof decideRow>]>([
    // [0, 1.2.3): 1.2.2 inside → fix 1.2.3; 1.2.3 is the fix itself → clear
    [
      'below_fix',
      '1.2.2',
      r({ fixed: '1.2.3' }),
      { kind: 'affected', status: 'fixed', fixedVersion: '1.2.3', scheme: 'semver' },
    ],
    ['at_fix', '1.2.3', r({ fixed: '1.2.3' }), { kind: 'clear' }],
    // branch ranges [0, 1.2.5) and [2.0.0, 2.0.3): 2.0.1 is fixed by 2.0.3, not by the older branch's 1.2.5
    [
      'branch_fix',
      '2.0.1',
      r({ ranges: [range(['0', '1.2.5'], ['2.0.0', '2.0.3'])] }),
      { kind: 'affected', status: 'fixed', fixedVersion: '2.0.3', scheme: 'semver' },
    ],
    // introduced 2.0.0 with no fix: 2.1.0 affected, no fix known; a row marked fixed elsewhere stays unfixed here
    [
      'open_branch',
      '2.1.0',
      r({ ranges: [range(['0', '1.2.5'], ['2.0.0'])] }),
      { kind: 'affected', status: 'unfixed', fixedVersion: null, scheme: 'semver' },
    ],
    // will-not-fix / deferred rows without ranges cover every version and keep their state
    [
      'will_not_fix',
      '9.9.9',
      r({ state: 'will-not-fix' }),
      { kind: 'affected', status: 'will-not-fix', fixedVersion: null, scheme: 'semver' },
    ],
    [
      'deferred',
      '0.0.1',
      r({ state: 'deferred' }),
      { kind: 'affected', status: 'deferred', fixedVersion: null, scheme: 'semver' },
    ],
    // not-affected without ranges covers every version; with a range only the versions in it
    ['not_affected', '1.0.0', r({ state: 'not-affected' }), { kind: 'not-affected' }],
    [
      'not_affected_elsewhere',
      '3.0.0',
      r({ state: 'not-affected', ranges: [range(['0', '2.0.0'])] }),
      { kind: 'clear' },
    ],
    // bad input never throws
    [
      'invalid_installed',
      'not a version',
      r({ fixed: '1.0.0' }),
      {
        kind: 'unknown',
        installedInvalid: true,
        reason: 'installed version: invalid semver version "not a version": Invalid Version: not a version',
      },
    ],
    [
      'invalid_fixed_event',
      '1.0.0',
      r({ fixed: 'one' }),
      {
        kind: 'unknown',
        installedInvalid: false,
        reason: 'fixed invalid semver version "one": Invalid Version: one',
      },
    ],
  ])('%s', (_name, installed, affected, expected) => {
    expect(decideRow(installed, affected, 'semver')).toEqual(expected);
  });
});

describe('the interval fast path agrees with isAffected', () => {
  it('on 20,000 random rows and versions (semver, deb, apk, pep440)', async () => {
    const { prng } = await import('../../../test/support/fuzz.js');
    const { decideRowGeneral } = await import('./decide.js');
    const rand = prng(0xdec1de);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
    const spaces = {
      semver: () => `${pick([0, 1, 2])}.${pick([0, 1, 2, 10])}.${pick([0, 1, 9])}${pick(['', '', '-rc.1'])}`,
      deb: () =>
        `${pick(['', '1:'])}${pick([1, 2])}.${pick([0, 1, 10])}-${pick(['1', '2', '1~deb12u1', '1+b1'])}`,
      apk: () => `${pick([1, 2])}.${pick([0, 1, 10])}${pick(['', 'a', '_rc1', '_p2'])}-r${pick([0, 1, 2])}`,
      pep440: () => `${pick([1, 2])}.${pick([0, 1, 10])}${pick(['', 'rc1', '.post1', '.dev0'])}`,
    } as const;
    const mismatches: unknown[] = [];
    for (let i = 0; i < 20_000; i++) {
      const scheme = pick(Object.keys(spaces) as (keyof typeof spaces)[]);
      const v = spaces[scheme];
      type Ev = { introduced: string } | { fixed: string } | { last_affected: string };
      // 1-2 ranges of 1-2 introduced/bound pairs each, sometimes out of order or overlapping
      const rangeOf = (): AffectedPackage['ranges'][number] => {
        const events: Ev[] = [];
        for (let pairs = 1 + Math.floor(rand() * 2); pairs > 0; pairs--) {
          events.push({ introduced: rand() < 0.4 ? '0' : v() });
          const bound = rand();
          if (bound < 0.6) events.push({ fixed: v() });
          else if (bound < 0.8) events.push({ last_affected: v() });
        }
        if (rand() < 0.1) events.reverse();
        return { type: rand() < 0.05 ? 'GIT' : 'ECOSYSTEM', events };
      };
      const state = pick(['fixed', 'unfixed', 'will-not-fix', 'deferred'] as const);
      const affected: AffectedPackage = {
        vulnId: 'X',
        namespace: 'n',
        packageName: 'p',
        fixState: state,
        ranges: rand() < 0.7 ? [rangeOf()] : [rangeOf(), rangeOf()],
      };
      if (rand() < 0.05) affected.fixedVersion = v();
      const installed = rand() < 0.02 ? 'garbage version!' : v();
      const fast = decideRow(installed, affected, scheme);
      const slow = decideRowGeneral(installed, affected, scheme);
      if (JSON.stringify(fast) !== JSON.stringify(slow))
        mismatches.push({ scheme, installed, events, state, fast, slow });
    }
    expect(mismatches.slice(0, 3)).toEqual([]);
  });
});
