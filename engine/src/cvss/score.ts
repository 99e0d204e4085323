/**
 * CVSS base scores for v2.0, v3.0, v3.1 and v4.0 vectors.
 *
 * The arithmetic is ae-cvss-calculator's ({metæffekt}, Apache-2.0, no dependencies; it implements
 * all four FIRST specifications, v4.0 with the official macro-vector lookup table). Vigil adds the
 * strict shape checks of ./vector.ts in front of it and picks the *base* score:
 * - v2 / v3.x: the base score; temporal and environmental metrics in the vector are ignored.
 * - v4.0: CVSS-B, the score of the base metrics alone (threat metrics at their default E:X, no
 *   environmental metrics). A vector carrying `E:U` or `MAV:P` still gets its base score, as NVD
 *   and GitHub publish it; the threat- or environment-adjusted score is the consumer's business.
 */
import cvssLib from 'ae-cvss-calculator';
import type { CvssVersion } from '../model/vulnerability.js';
import type { Severity } from '../model/severity.js';
import { EngineError, isEngineError } from '../errors.js';
import { severityFromScore } from './severity.js';
import { splitCvssVector } from './vector.js';

/** What scoreCvss returns. */
export interface CvssScore {
  version: CvssVersion;
  /** base score 0.0–10.0, one decimal, recomputed from the vector */
  baseScore: number;
  /** the base score on Vigil's scale (v3.x/v4.0 qualitative scale, v2 on NVD's v2 scale) */
  severity: Severity;
}

const { Cvss2, Cvss3P0, Cvss3P1, Cvss4P0 } = cvssLib;

/**
 * Vectors repeat a lot (the realdata NVD files hold 653 metrics but 131 distinct vectors; a v3.x
 * base vector has only 2,592 possible values), and the library takes 0.2–0.8 ms a score on this
 * machine: remember answers, by the vector as given and as normalised. Emptied when full (a run
 * past the limit only loses speed).
 */
const CACHE_LIMIT = 32_768;
const cache = new Map<string, CvssScore>();

function remember(key: string, score: CvssScore): void {
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, score);
}

function compute(version: CvssVersion, text: string): number {
  const vector =
    version === '2.0'
      ? new Cvss2(text)
      : version === '3.0'
        ? new Cvss3P0(text)
        : version === '3.1'
          ? new Cvss3P1(text)
          : new Cvss4P0(text);
  if (!vector.isBaseFullyDefined()) throw new Error('a base metric is set to X / ND (not defined)');
  if (vector instanceof Cvss4P0) return vector.calculateScores().baseMetricsOnly ?? Number.NaN;
  return vector.calculateScores().base ?? Number.NaN;
}

/**
 * Scores a CVSS vector.
 *
 * @param vector `CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H`, `CVSS:3.0/…`, `CVSS:4.0/…`, or a v2
 *   vector `AV:N/AC:L/Au:N/C:P/I:P/A:P` (also `(AV:…)` and `CVSS:2.0/AV:…`)
 * @returns `{ version, baseScore, severity }`; pure, no I/O
 * @throws EngineError ENG_CVSS_INVALID when the string is not a valid vector of a supported version
 *   (unknown prefix, unknown metric or value, a metric given twice, a base metric missing)
 */
export function scoreCvss(vector: string): CvssScore {
  const hit = cache.get(vector);
  if (hit) return { ...hit };
  const parts = splitCvssVector(vector);
  const known = cache.get(parts.text);
  if (known) {
    remember(vector, known);
    return { ...known };
  }
  let score: number;
  try {
    score = compute(parts.version, parts.text);
  } catch (e) {
    if (isEngineError(e)) throw e;
    // the library throws plain Errors for unknown metric names and values
    throw new EngineError(
      'ENG_CVSS_INVALID',
      `invalid CVSS vector ${JSON.stringify(vector)}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  if (!Number.isFinite(score) || score < 0 || score > 10)
    throw new EngineError('ENG_CVSS_INVALID', `invalid CVSS vector ${JSON.stringify(vector)}: no base score`);
  const result: CvssScore = {
    version: parts.version,
    baseScore: score,
    severity: severityFromScore(parts.version, score),
  };
  remember(parts.text, result);
  remember(vector, result);
  return { ...result };
}
