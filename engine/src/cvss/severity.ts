/**
 * CVSS base score → Vigil severity.
 *
 * - v3.0, v3.1 and v4.0 use the FIRST qualitative rating scale (v3.1 spec §5, v4.0 spec §6):
 *   None 0.0, Low 0.1–3.9, Medium 4.0–6.9, High 7.0–8.9, Critical 9.0–10.0. Vigil's scale has no
 *   NONE: a 0.0 score (no impact on C/I/A) maps to LOW — it is still a published vulnerability,
 *   and UNKNOWN would wrongly say that nobody scored it.
 * - v2.0 has no qualitative scale in its spec; NVD's v2 scale is used
 *   (https://nvd.nist.gov/vuln-metrics/cvss): Low 0.0–3.9, Medium 4.0–6.9, High 7.0–10.0.
 *   v2 never yields CRITICAL.
 */
import type { CvssVersion } from '../model/vulnerability.js';
import type { Severity } from '../model/severity.js';

/**
 * Maps a base score of a CVSS version to a severity.
 * @param version CVSS version the score was computed with
 * @param score base score, 0.0–10.0 (one decimal)
 * @returns CRITICAL | HIGH | MEDIUM | LOW (never UNKNOWN)
 */
export function severityFromScore(version: CvssVersion, score: number): Severity {
  if (version === '2.0') {
    if (score >= 7) return 'HIGH';
    if (score >= 4) return 'MEDIUM';
    return 'LOW';
  }
  if (score >= 9) return 'CRITICAL';
  if (score >= 7) return 'HIGH';
  if (score >= 4) return 'MEDIUM';
  return 'LOW';
}
