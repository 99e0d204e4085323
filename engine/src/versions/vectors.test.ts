/**
 * Every line of every vector file in testdata/: `<scheme>-versions.txt` (hand-picked from each
 * scheme's specification and upstream test data) and `<scheme>-versions-generated.txt` (native
 * tools' answers, written by test/generators/). Each comparison is checked both ways
 * (antisymmetry), each `!V` line must be rejected with ENG_VERSION_INVALID, and all versions of a
 * scheme, sorted, must be in a consistent total order.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compareVersions, isValidVersion } from './index.js';
import { SCHEME_IDS, type SchemeId } from './types.js';

const TESTDATA = join(dirname(fileURLToPath(import.meta.url)), 'testdata');

interface Comparison {
  line: number;
  a: string;
  b: string;
  expected: -1 | 0 | 1;
}

interface VectorFile {
  comparisons: Comparison[];
  rejected: { line: number; raw: string }[];
}

/**
 * Versions left out of the total-order check because the upstream ordering itself is not
 * transitive there (the pairwise vectors still pin them). Maven's ComparableVersion is not a total
 * order once versions start with a qualifier or a zero ("Hoxton.SR1" > "0" > "0-SNAPSHOT" but
 * "Hoxton.SR1" < "0-SNAPSHOT"), or nest a list under "-0." ("1-0.alpha" < "1" < "1-sp" but
 * "1-0.alpha" > "1-sp"); maven-artifact 3.9.6 answers the same, pair by pair.
 */
const NOT_TRANSITIVE: Partial<Record<SchemeId, (v: string) => boolean>> = {
  maven: (v) => !/^[1-9]/.test(v) || v.includes('-0.'),
};

const OPS: Readonly<Record<string, -1 | 0 | 1>> = { '<': -1, '=': 0, '>': 1 };

function readVectors(path: string): VectorFile {
  const out: VectorFile = { comparisons: [], rejected: [] };
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      const line = i + 1;
      if (text.startsWith('#') || text.trim() === '') return;
      if (text.startsWith('!')) {
        out.rejected.push({ line, raw: text.slice(1) });
        return;
      }
      const m = /^(\S+) ([<=>]) (\S+)(?:\s+#.*)?$/.exec(text);
      if (!m) throw new Error(`${path}:${line}: cannot read ${JSON.stringify(text)}`);
      out.comparisons.push({ line, a: m[1]!, b: m[3]!, expected: OPS[m[2]!]! });
    });
  return out;
}

const files = readdirSync(TESTDATA).filter((f) => /^[a-z0-9]+-versions(-generated)?\.txt$/.test(f));

function schemeOf(file: string): SchemeId {
  const id = file.split('-')[0]!;
  if (!(SCHEME_IDS as readonly string[]).includes(id)) throw new Error(`${file}: unknown scheme ${id}`);
  return id as SchemeId;
}

function safeCompare(scheme: SchemeId, a: string, b: string): number | string {
  try {
    return compareVersions(scheme, a, b);
  } catch (error) {
    return (error as Error).message;
  }
}

describe.each(files)('%s', (file) => {
  const scheme = schemeOf(file);
  const vectors = readVectors(join(TESTDATA, file));

  it('orders every pair as the vector says, both ways', () => {
    const failures = vectors.comparisons
      .map((c) => ({ ...c, got: safeCompare(scheme, c.a, c.b), back: safeCompare(scheme, c.b, c.a) }))
      .filter((c) => c.got !== c.expected || c.back !== -c.expected)
      .map(
        (c) => `line ${c.line}: ${c.a} vs ${c.b}: expected ${c.expected}, got ${c.got} / reverse ${c.back}`,
      );
    expect(failures).toEqual([]);
    expect(vectors.comparisons.length).toBeGreaterThan(0);
  });

  it('rejects every "!" version with ENG_VERSION_INVALID', () => {
    const failures = vectors.rejected
      .filter(({ raw }) => {
        try {
          compareVersions(scheme, raw, raw);
          return true;
        } catch (error) {
          return (error as { code?: string }).code !== 'ENG_VERSION_INVALID';
        }
      })
      .map(({ line, raw }) => `line ${line}: ${JSON.stringify(raw)} accepted`);
    expect(failures).toEqual([]);
  });
});

describe.each(SCHEME_IDS)('%s vectors as a whole', (scheme) => {
  const mine = files.filter((f) => schemeOf(f) === scheme).map((f) => readVectors(join(TESTDATA, f)));

  it('has at least 100 hand-picked or generated comparisons', () => {
    expect(mine.reduce((n, v) => n + v.comparisons.length, 0)).toBeGreaterThanOrEqual(100);
  });

  it('sorts all its versions into one consistent total order', () => {
    const versions = [...new Set(mine.flatMap((v) => v.comparisons.flatMap((c) => [c.a, c.b])))].filter(
      (v) => isValidVersion(scheme, v) && !NOT_TRANSITIVE[scheme]?.(v),
    );
    const sorted = [...versions].sort((a, b) => compareVersions(scheme, a, b));
    const bad: string[] = [];
    for (let i = 0; i < sorted.length && bad.length < 5; i++) {
      for (let j = i + 1; j < sorted.length && bad.length < 5; j++) {
        if (compareVersions(scheme, sorted[i]!, sorted[j]!) > 0)
          bad.push(`${sorted[i]} > ${sorted[j]} after sorting`);
      }
    }
    expect(bad).toEqual([]);
  });
});
