import { describe, expect, it } from 'vitest';
import { ghsaRangeToEvents } from './ghsa-range.js';

describe('ghsaRangeToEvents', () => {
  it.each([
    // [range, first patched, expected]
    [
      '>= 1.0, < 1.2.3',
      '1.2.3',
      {
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '1.0' }, { fixed: '1.2.3' }] }],
        versions: [],
        fixState: 'fixed',
        fixedVersion: '1.2.3',
      },
    ],
    [
      '< 0.1.11',
      null,
      {
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '0.1.11' }] }],
        versions: [],
        fixState: 'fixed',
        fixedVersion: '0.1.11',
      },
    ],
    // GitHub's patched version wins as the reported fix; the range end stays the "<" bound
    [
      '< 2.0.0',
      '2.0.1',
      {
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '2.0.0' }] }],
        versions: [],
        fixState: 'fixed',
        fixedVersion: '2.0.1',
      },
    ],
    [
      '<= 1.0.8',
      null,
      {
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { last_affected: '1.0.8' }] }],
        versions: [],
        fixState: 'unfixed',
      },
    ],
    [
      '<= 1.0.8',
      '1.0.9',
      {
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { last_affected: '1.0.8' }] }],
        versions: [],
        fixState: 'fixed',
        fixedVersion: '1.0.9',
      },
    ],
    [
      '>= 0.0.1',
      null,
      {
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0.0.1' }] }],
        versions: [],
        fixState: 'unfixed',
      },
    ],
    [
      '>= 4.3.0',
      '4.3.5',
      {
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '4.3.0' }, { fixed: '4.3.5' }] }],
        versions: [],
        fixState: 'fixed',
        fixedVersion: '4.3.5',
      },
    ],
    [
      '> 2.1.1, < 5.0.1',
      '5.0.1',
      {
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '2.1.1' }, { fixed: '5.0.1' }] }],
        versions: [],
        fixState: 'fixed',
        fixedVersion: '5.0.1',
      },
    ],
    ['= 0.2.0', null, { ranges: [], versions: ['0.2.0'], fixState: 'unfixed' }],
    ['= 0.2.0', '0.2.1', { ranges: [], versions: ['0.2.0'], fixState: 'fixed', fixedVersion: '0.2.1' }],
    [
      '>=1.0,<2.0',
      null,
      {
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '1.0' }, { fixed: '2.0' }] }],
        versions: [],
        fixState: 'fixed',
        fixedVersion: '2.0',
      },
    ],
    [
      '  >=  3.1.0-rc.1 ,  <  3.1.0  ',
      undefined,
      {
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '3.1.0-rc.1' }, { fixed: '3.1.0' }] }],
        versions: [],
        fixState: 'fixed',
        fixedVersion: '3.1.0',
      },
    ],
    // no range at all: every version before the patch
    [
      null,
      '1.5.0',
      {
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.5.0' }] }],
        versions: [],
        fixState: 'fixed',
        fixedVersion: '1.5.0',
      },
    ],
    [
      '',
      null,
      { ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }], versions: [], fixState: 'unfixed' },
    ],
  ])('%j patched %j', (range, patched, expected) => {
    expect(ghsaRangeToEvents(range, patched)).toEqual({ ok: true, ...expected });
  });

  it.each([
    ['>= 1.0, >= 2.0', /two lower bounds/],
    ['< 1.0, <= 2.0', /two upper bounds/],
    ['= 1.0, < 2.0', /"=" mixed with bounds/],
    ['= 1.0, = 2.0', /two exact versions/],
    ['~> 1.0', /cannot read constraint "~> 1.0"/],
    ['>= 1.0,', /cannot read constraint ""/],
    ['1.0', /cannot read constraint "1.0"/],
    ['>= 1 2', /cannot read constraint ">= 1 2"/],
    ['!= 1.0', /cannot read constraint/],
  ])('%j is refused', (range, message) => {
    const result = ghsaRangeToEvents(range, null);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toMatch(message);
  });

  it('refuses a patched version with spaces or commas', () => {
    expect(ghsaRangeToEvents('< 2', '1, 2')).toEqual({ ok: false, message: 'bad patched version "1, 2"' });
  });
});
