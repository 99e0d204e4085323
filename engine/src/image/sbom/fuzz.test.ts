/**
 * Fuzzing the SBOM reader on mutated CycloneDX and SPDX documents (third-party shaped ones from
 * testdata and our own outputs): parseSbom may only fail with ENG_SBOM_INVALID, and whatever it
 * returns is a well-formed inventory.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzz, prng } from '../../../../test/support/fuzz.js';
import { isEngineError } from '../../errors.js';
import { ECOSYSTEMS } from '../../model/package.js';
import type { ScanResult } from '../../model/scan.js';
import { mutateJson } from '../../policy/testdata/json-mutate.js';
import { toCycloneDx } from '../../report/cyclonedx.js';
import { toSpdx } from '../../report/spdx.js';
import { alpineScan, mixedScan } from '../../report/testdata/scans.js';
import { parseSbom } from './index.js';

const TESTDATA = join(import.meta.dirname, 'testdata');
const sbomError = (e: unknown) => isEngineError(e) && e.code === 'ENG_SBOM_INVALID';

function check(r: ScanResult): void {
  for (const p of r.packages) {
    if (!p.name || !p.version || !(ECOSYSTEMS as readonly string[]).includes(p.ecosystem) || !p.foundBy) {
      throw new Error(`malformed package ${JSON.stringify(p)}`);
    }
  }
  if (r.artifact.kind !== 'sbom' || typeof r.artifact.name !== 'string')
    throw new Error('malformed artifact');
  if (r.os && (typeof r.os.family !== 'string' || typeof r.os.version !== 'string'))
    throw new Error('malformed os');
}

const seeds = [
  readFileSync(join(TESTDATA, 'trivy-alpine.cdx.json')),
  readFileSync(join(TESTDATA, 'syft-debian.cdx.json')),
  readFileSync(join(TESTDATA, 'trivy-alpine.spdx.json')),
  Buffer.from(
    toCycloneDx(alpineScan(), {
      serialNumber: 'urn:uuid:00000000-0000-4000-8000-000000000000',
      timestamp: new Date(0),
    }),
  ),
  Buffer.from(toSpdx(mixedScan(), { created: new Date(0), namespace: 'https://vigil.invalid/spdx/fuzz' })),
];

const summary = (failures: { iteration: number; error: unknown }[]) =>
  failures.map(
    (f) =>
      `#${f.iteration}: ${f.error instanceof Error ? `${f.error.name}: ${f.error.message}` : String(f.error)}`,
  );

describe('SBOM reader fuzzing', () => {
  it('reads 10,000 byte-mutated SBOMs with only ENG_SBOM_INVALID', async () => {
    const failures = await fuzz(seeds, 10_000, (input) => check(parseSbom(input, { name: 'fuzz' })), {
      allowed: sbomError,
      seed: 0x5b0,
    });
    expect(summary(failures)).toEqual([]);
  });

  it('reads 5,000 structure-mutated SBOMs with only ENG_SBOM_INVALID', () => {
    const rand = prng(0x5b1);
    const docs = seeds.map((s) => JSON.parse(s.toString('utf8')) as unknown);
    const failures: { iteration: number; error: unknown }[] = [];
    for (let i = 0; i < 5_000 && failures.length < 5; i++) {
      try {
        check(parseSbom(JSON.stringify(mutateJson(docs[i % docs.length], rand)), { name: 'fuzz' }));
      } catch (error) {
        if (!sbomError(error)) failures.push({ iteration: i, error });
      }
    }
    expect(summary(failures)).toEqual([]);
  });
});
