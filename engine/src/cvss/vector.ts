/**
 * Strict reading of CVSS vector strings, before any scoring.
 *
 * Specifications:
 * - v2.0: https://www.first.org/cvss/v2/guide §2.4 (no prefix; NVD sometimes wraps it in parentheses)
 * - v3.0: https://www.first.org/cvss/v3.0/specification-document §6
 * - v3.1: https://www.first.org/cvss/v3.1/specification-document §6
 * - v4.0: https://www.first.org/cvss/v4.0/specification-document §7
 *
 * The scoring library (ae-cvss-calculator) checks metric names and values but is lenient about the
 * rest: a repeated metric silently wins, `E:P:Q` reads as `E:P`, empty segments are ignored, a
 * missing base metric scores 0. Those are the rules written here: one `NAME:VALUE` per segment,
 * each metric once, every base metric present. Metric order is not enforced (v3.x allows any order;
 * feeds reorder v4.0 vectors too). One trailing `/` is tolerated because GitHub advisories publish
 * vectors like `CVSS:3.1/…/RC:C/`.
 */
import type { CvssVersion } from '../model/vulnerability.js';
import { EngineError } from '../errors.js';

/** A vector split into its parts; metric names and values are not yet checked against the version. */
export interface CvssVectorParts {
  version: CvssVersion;
  /** metrics in the order written */
  metrics: Array<[name: string, value: string]>;
  /** the vector as the scoring library reads it (v2 without prefix or parentheses) */
  text: string;
}

/** Base metrics every vector of a version must set (spec tables: v2 §2.4, v3.x Table 15, v4.0 Table 23). */
export const BASE_METRICS: Readonly<Record<CvssVersion, readonly string[]>> = {
  '2.0': ['AV', 'AC', 'Au', 'C', 'I', 'A'],
  '3.0': ['AV', 'AC', 'PR', 'UI', 'S', 'C', 'I', 'A'],
  '3.1': ['AV', 'AC', 'PR', 'UI', 'S', 'C', 'I', 'A'],
  '4.0': ['AV', 'AC', 'AT', 'PR', 'UI', 'VC', 'VI', 'VA', 'SC', 'SI', 'SA'],
};

/** Longer than any vector the specifications allow (a v4.0 vector with every metric is ~300 chars). */
export const MAX_VECTOR_LENGTH = 512;

const PREFIX = /^CVSS:(\d+\.\d+)\//;
const SEGMENT = /^([A-Za-z]+):([A-Za-z]+)$/;

function invalid(vector: string, why: string): EngineError {
  const shown = vector.length > 120 ? `${vector.slice(0, 120)}…` : vector;
  return new EngineError('ENG_CVSS_INVALID', `invalid CVSS vector ${JSON.stringify(shown)}: ${why}`);
}

/**
 * Splits a vector string into version and metrics and checks its shape.
 *
 * @param vector `CVSS:3.1/AV:N/…`, `CVSS:3.0/…`, `CVSS:4.0/…`, or a v2 vector `AV:N/AC:L/Au:N/C:P/I:P/A:P`
 *   (bare, in parentheses, or with a `CVSS:2.0/` prefix). Surrounding white space is ignored.
 * @returns version, metrics and the text to hand to the scoring library
 * @throws EngineError ENG_CVSS_INVALID for a non-string, an unknown version prefix, a malformed or
 *   repeated metric, or a missing base metric
 */
export function splitCvssVector(vector: unknown): CvssVectorParts {
  if (typeof vector !== 'string') throw invalid(String(vector), 'not a string');
  if (vector.length > MAX_VECTOR_LENGTH) throw invalid(vector, `longer than ${MAX_VECTOR_LENGTH} characters`);
  let body = vector.trim();
  let version: CvssVersion;
  const prefix = PREFIX.exec(body);
  if (prefix) {
    const v = prefix[1];
    if (v !== '2.0' && v !== '3.0' && v !== '3.1' && v !== '4.0')
      throw invalid(vector, `unsupported CVSS version ${v}`);
    version = v;
    body = body.slice(prefix[0].length);
  } else {
    if (body.startsWith('(') && body.endsWith(')')) body = body.slice(1, -1);
    if (body.startsWith('CVSS:2.0/')) body = body.slice('CVSS:2.0/'.length);
    else if (body.startsWith('CVSS:')) throw invalid(vector, 'malformed version prefix');
    version = '2.0';
  }
  if (body.endsWith('/')) body = body.slice(0, -1);
  if (body === '') throw invalid(vector, 'no metrics');

  const metrics: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (const segment of body.split('/')) {
    const m = SEGMENT.exec(segment);
    if (!m) throw invalid(vector, `malformed metric ${JSON.stringify(segment.slice(0, 40))}`);
    const [, name, value] = m as unknown as [string, string, string];
    if (seen.has(name)) throw invalid(vector, `metric ${name} given twice`);
    seen.add(name);
    metrics.push([name, value]);
  }
  const missing = BASE_METRICS[version].filter((name) => !seen.has(name));
  if (missing.length > 0) {
    const hint = version === '2.0' && seen.has('PR') ? ' (a v3 vector needs its CVSS:3.x/ prefix)' : '';
    throw invalid(vector, `CVSS ${version} base metric(s) ${missing.join(', ')} missing${hint}`);
  }
  const joined = metrics.map(([n, v]) => `${n}:${v}`).join('/');
  return { version, metrics, text: version === '2.0' ? joined : `CVSS:${version}/${joined}` };
}
