import { describe, expect, it } from 'vitest';
import { isEngineError } from '../errors.js';
import { scoreCvss } from './score.js';

/**
 * Expected scores: the v2/v3.x/v4.0 vectors below are ones NVD scores in the realdata pages
 * (feeds/nvd, `cvssData.baseScore`), or are fixed by the specifications (no impact → 0.0), or are
 * FIRST calculator values quoted in public issues (v4.0 SC:H/SI:H/SA:H → 10, VA:H alone → 8.7).
 * Severities follow ./severity.ts (v3.x/v4.0 qualitative scale with NONE → LOW; NVD v2 scale).
 */
describe('scoreCvss', () => {
  it.each([
    // v2 (NVD v2 scale: 0–3.9 LOW, 4–6.9 MEDIUM, 7–10 HIGH, never CRITICAL)
    ['AV:N/AC:L/Au:N/C:P/I:P/A:P', '2.0', 7.5, 'HIGH'],
    ['(AV:N/AC:L/Au:N/C:P/I:P/A:P)', '2.0', 7.5, 'HIGH'],
    ['CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P', '2.0', 7.5, 'HIGH'],
    ['  AV:N/AC:L/Au:N/C:P/I:P/A:P\n', '2.0', 7.5, 'HIGH'],
    ['AV:N/AC:L/Au:N/C:C/I:C/A:C', '2.0', 10, 'HIGH'],
    ['AV:N/AC:M/Au:N/C:N/I:P/A:N', '2.0', 4.3, 'MEDIUM'],
    ['AV:L/AC:M/Au:N/C:P/I:N/A:N', '2.0', 1.9, 'LOW'],
    ['AV:N/AC:L/Au:N/C:N/I:N/A:N', '2.0', 0, 'LOW'],
    // temporal metrics do not change the base score
    ['AV:N/AC:L/Au:N/C:P/I:P/A:P/E:U/RL:OF/RC:C', '2.0', 7.5, 'HIGH'],
    // v3.1
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', '3.1', 9.8, 'CRITICAL'],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', '3.1', 7.5, 'HIGH'],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N', '3.1', 5.3, 'MEDIUM'],
    ['CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N', '3.1', 6.1, 'MEDIUM'],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N', '3.1', 0, 'LOW'],
    // metric order is free in v3.x
    ['CVSS:3.1/C:H/I:H/A:H/AV:N/AC:L/PR:N/UI:N/S:U', '3.1', 9.8, 'CRITICAL'],
    // GitHub's trailing slash and temporal metrics (base score only)
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C/', '3.1', 9.8, 'CRITICAL'],
    // v3.0 (9.0 is the CRITICAL boundary)
    ['CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:H/A:H', '3.0', 9, 'CRITICAL'],
    ['CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:C/C:N/I:H/A:N', '3.0', 6.5, 'MEDIUM'],
    ['CVSS:3.0/AV:N/AC:L/PR:L/UI:R/S:U/C:L/I:L/A:L', '3.0', 5.5, 'MEDIUM'],
    // v4.0 (CVSS-B: base metrics only)
    [
      'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N/E:X/CR:X/IR:X/AR:X/MAV:X/MAC:X/MAT:X/MPR:X/MUI:X/MVC:X/MVI:X/MVA:X/MSC:X/MSI:X/MSA:X/S:X/AU:X/R:X/V:X/RE:X/U:X',
      '4.0',
      6.9,
      'MEDIUM',
    ],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N', '4.0', 6.9, 'MEDIUM'],
    ['CVSS:4.0/AV:A/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N', '4.0', 8.5, 'HIGH'],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N', '4.0', 8.7, 'HIGH'],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H', '4.0', 10, 'CRITICAL'],
    // threat metric E:P lowers the overall score (9.3 in FIRST's calculator), not CVSS-B
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:P', '4.0', 10, 'CRITICAL'],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N', '4.0', 0, 'LOW'],
  ])('%s', (vector, version, baseScore, severity) => {
    expect(scoreCvss(vector)).toEqual({ version, baseScore, severity });
  });

  it.each([
    ['', 'no metrics'],
    ['garbage', 'malformed metric'],
    ['CVSS:3.1/', 'no metrics'],
    ['CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 'unsupported CVSS version 3.2'],
    ['CVSS:3/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 'malformed version prefix'],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H', 'base metric(s) A missing'],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:Q', 'Unknown component value Q'],
    ['CVSS:3.1/AV:N/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 'metric AV given twice'],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1', 'malformed metric "ZZ:1"'],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:Y', 'Unknown component ZZ'],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P:Q', 'malformed metric "E:P:Q"'],
    ['CVSS:3.1/AV:N//AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 'malformed metric ""'],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H//', 'malformed metric ""'],
    ['CVSS:3.1/av:n/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 'base metric(s) AV missing'],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:X', 'not defined'],
    ['AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 'Au missing (a v3 vector needs its CVSS:3.x/ prefix)'],
    ['AV:N/AC:L/Au:N/C:P/I:P/A:ND', 'not defined'],
    ['(AV:N/AC:L/Au:N/C:P/I:P/A:P', 'malformed metric "(AV:N"'],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H', 'VA, SC, SI, SA missing'],
    ['CVSS:4.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 'AT, VC, VI, VA, SC, SI, SA missing'],
    ['CVSS:3.1/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', 'S, C, I, A missing'],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/AT:N', 'Unknown component AT'],
    [`CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H${'/E:P'.repeat(200)}`, 'longer than 512 characters'],
  ])('rejects %j', (vector, message) => {
    let error: unknown;
    try {
      scoreCvss(vector);
    } catch (e) {
      error = e;
    }
    expect(isEngineError(error) && error.code).toBe('ENG_CVSS_INVALID');
    expect((error as Error).message).toContain(message);
  });

  it('rejects a value that is not a string', () => {
    expect(() => scoreCvss(null as unknown as string)).toThrow(
      expect.objectContaining({
        code: 'ENG_CVSS_INVALID',
        message: 'invalid CVSS vector "null": not a string',
      }),
    );
  });

  it('returns a fresh object on a cached vector', () => {
    const a = scoreCvss('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H');
    a.baseScore = 0;
    expect(scoreCvss('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H').baseScore).toBe(9.8);
  });
});
