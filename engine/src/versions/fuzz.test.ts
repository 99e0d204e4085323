/**
 * Fuzzes every scheme's parse() with mutations of its own vector versions: 10,000 inputs per
 * scheme. The only exception allowed is EngineError ENG_VERSION_INVALID; whatever parses must
 * compare without throwing, equal itself, and compare antisymmetrically with a seed version.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fuzz } from '../../../test/support/fuzz.js';
import { isEngineError } from '../errors.js';
import { VERSION_SCHEMES } from './registry.js';
import { SCHEME_IDS, type VersionScheme } from './types.js';

const TESTDATA = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const ITERATIONS = 10_000;

function seedVersions(scheme: string): string[] {
  const text = readFileSync(join(TESTDATA, `${scheme}-versions.txt`), 'utf8');
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^(\S+) [<=>] (\S+)/.exec(line);
    if (m) out.add(m[1]!).add(m[2]!);
  }
  return [...out];
}

describe.each(SCHEME_IDS)('%s parse under fuzzing', (id) => {
  it(`throws nothing but ENG_VERSION_INVALID on ${ITERATIONS} mutated versions`, async () => {
    const scheme = VERSION_SCHEMES[id] as VersionScheme<unknown>;
    const seeds = seedVersions(id);
    const parsedSeeds = seeds.map((s) => scheme.parse(s));
    const encoding = id === 'maven' || id === 'rpm' ? 'utf8' : 'latin1';
    let accepted = 0;
    const failures = await fuzz(
      seeds.map((s) => Buffer.from(s, 'utf8')),
      ITERATIONS,
      (input) => {
        const raw = input.toString(encoding);
        let v: unknown;
        try {
          v = scheme.parse(raw);
        } catch (error) {
          if (isEngineError(error) && error.code === 'ENG_VERSION_INVALID') return;
          throw error;
        }
        accepted++;
        if (scheme.compare(v, v) !== 0) throw new Error(`${JSON.stringify(raw)} does not equal itself`);
        const other = parsedSeeds[raw.length % parsedSeeds.length];
        if (scheme.compare(v, other) !== -scheme.compare(other, v))
          throw new Error(`${JSON.stringify(raw)}: not antisymmetric`);
      },
      { seed: 0x7e55 },
    );
    expect(failures.map((f) => ({ input: f.input.toString('latin1'), error: String(f.error) }))).toEqual([]);
    // the mutations must also produce valid versions, or the compare checks above prove nothing
    expect(accepted).toBeGreaterThan(ITERATIONS / 50);
  });
});
