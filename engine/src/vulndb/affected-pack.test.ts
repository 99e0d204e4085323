import { describe, expect, it } from 'vitest';
import { packElement, unpackRow } from './affected-pack.js';
import { KeyFilter } from './key-filter.js';

/** Stored JSON texts as JSON.stringify writes them, with the shapes that could break a round trip. */
const STORED = [
  '{}',
  '{"fixState":"fixed","ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.0.1"}]}],"fixedVersion":"1.0.1"}',
  // integer-like keys come first in JSON.stringify output and stay first after a parse
  JSON.stringify({ fixState: 'unfixed', ranges: [], extra: { b: 1, 2: 'two', 10: null } }),
  // an own "__proto__" member, escapes, non-ASCII, an astral character, a lone surrogate, -0 and exponents
  JSON.stringify(
    JSON.parse(
      '{"fixState":"will-not-fix","ranges":[],"extra":{"__proto__":"x","quote":"\\"\\\\\\n\\u0000","name":"ü€😀","lone":"\\ud800"},"versions":["1e21","0.1"]}',
    ),
  ),
  JSON.stringify({ fixState: 'fixed', ranges: [], extra: { n: -0, big: 1e21, small: 5e-7, f: 0.1 + 0.2 } }),
];

describe('packed affected rows', () => {
  it('append vulnId and source as the last members and restore the stored JSON byte for byte', () => {
    const text = `[${STORED.map((json, i) => packElement(json, `CVE-${i}`, i % 2 ? 'debian' : 'ghs"a')).join(',')}]`;
    const parsed = JSON.parse(text) as Record<string, unknown>[];
    expect(parsed.map((o) => Object.keys(o).slice(-2))).toEqual(STORED.map(() => ['vulnId', 'source']));
    expect(parsed[0]).toEqual({ vulnId: 'CVE-0', source: 'ghs"a' });
    expect(unpackRow('x.db', 'npm', 'a', text)).toEqual(
      STORED.map((json, i) => ({
        namespace: 'npm',
        packageName: 'a',
        vulnId: `CVE-${i}`,
        source: i % 2 ? 'debian' : 'ghs"a',
        json,
      })),
    );
  });

  it.each([
    ['not JSON', '[{', /is not JSON/],
    ['not a list', '{"vulnId":"a","source":"b"}', /is not a list/],
    ['an element that is not an object', '[1]', /is not an object/],
    ['an element without vulnId', '[{"source":"b"}]', /has no vulnId or source/],
  ])('refuse a row that is %s with ENG_DB_CORRUPT', (_, text, message) => {
    expect(() => unpackRow('x.db', 'npm', 'a', text)).toThrow(
      expect.objectContaining({ code: 'ENG_DB_CORRUPT', message: expect.stringMatching(message) }),
    );
  });
});

describe('KeyFilter', () => {
  const keys = Array.from({ length: 20_000 }, (_, i) => [i % 3 ? 'npm' : 'debian:12', `pkg-${i}`] as const);

  it('never rules out a key it holds, rules out almost every other, and is sized by the key count', () => {
    const filter = KeyFilter.sized(keys.length);
    // 20,000 keys × 10 bits → the next power of two: 262,144 bits
    expect(filter.bits.length * 8).toBe(262_144);
    for (const [ns, name] of keys) filter.add(ns, name);
    expect(keys.filter(([ns, name]) => !filter.mayHave(ns, name))).toEqual([]);
    const others = Array.from({ length: 20_000 }, (_, i) => ['npm', `other-${i}`] as const);
    const falsePositives = others.filter(([ns, name]) => filter.mayHave(ns, name)).length;
    // 13 bits a key, 7 probes: ≈ 0.3 % expected; the hash is deterministic, so is this count
    expect(falsePositives).toBeLessThan(200);
    // the namespace and the name are separated: moving a character across the boundary is another key
    expect(filter.mayHave('npm', 'pkg-1') && !filter.mayHave('npmp', 'kg-1')).toBe(true);
  });

  it('accepts only power-of-two bit arrays and sane probe counts (a stored filter may be damaged)', () => {
    expect(KeyFilter.valid(new Uint8Array(8), 7)).toBe(true);
    expect(KeyFilter.valid(new Uint8Array(12), 7)).toBe(false);
    expect(KeyFilter.valid(new Uint8Array(4), 7)).toBe(false);
    expect(KeyFilter.valid(new Uint8Array(8), 0)).toBe(false);
    expect(KeyFilter.valid(new Uint8Array(8), 1.5)).toBe(false);
  });
});
