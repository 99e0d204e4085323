/**
 * Maps one NVD CVE API 2.0 `cve` object onto Vigil's Vulnerability model.
 *
 * Format: https://nvd.nist.gov/developers/vulnerabilities and the schema
 * https://csrc.nist.gov/schema/nvd/api/2.0/cve_api_json_2.0.schema (cvssMetricV40 and ssvcV203
 * are newer than the published schema; unknown metric kinds are ignored).
 *
 * Decisions:
 * - `vulnStatus: Rejected`, or an English description starting `** REJECT **` (the pre-2023
 *   marking), is a withdrawal: the CVE is removed from the NVD source.
 * - CWE ids are kept as `CWE-<n>`, de-duplicated in order of appearance. NVD's placeholders
 *   `NVD-CWE-Other` and `NVD-CWE-noinfo` say "some other weakness" / "not enough information":
 *   they name no weakness, so they are dropped.
 * - No vendor severities: V2's `baseSeverity` and the V3/V4 `baseSeverity` are derived from the
 *   base scores, which the engine re-computes from the vectors.
 * - NVD supplies no affected packages: its CPE configurations are kept as published
 *   (`cpeConfigurations`) and never used to match OS or language packages.
 * - NVD timestamps carry no zone and are UTC: a `Z` is appended so they compare with other feeds.
 * - A member that is present with the wrong type makes the record malformed (counted, skipped).
 */
import type { CvssEntry, CvssVersion, Vulnerability } from '../../model/vulnerability.js';
import type { FeedRecord } from '../types.js';

const CVE_ID = /^CVE-\d{4}-\d{4,}$/;
const CWE_ID = /^CWE-\d+$/;
const ZONELESS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/;

/** NVD metric arrays in the order Vigil lists them, with the CVSS version each holds. */
const METRICS: readonly [string, CvssVersion][] = [
  ['cvssMetricV40', '4.0'],
  ['cvssMetricV31', '3.1'],
  ['cvssMetricV30', '3.0'],
  ['cvssMetricV2', '2.0'],
];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Thrown inside the mapper for a wrongly typed member; becomes a malformed record. */
class Bad extends Error {}

function optArray(o: Obj, key: string, where: string): unknown[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Bad(`${where}.${key} is not an array`);
  return v;
}

function optString(o: Obj, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new Bad(`${where}.${key} is not a string`);
  return v;
}

function timestamp(o: Obj, key: string, where: string): string | undefined {
  const v = optString(o, key, where);
  return v !== undefined && ZONELESS.test(v) ? `${v}Z` : v;
}

function englishDescription(cve: Obj, where: string): string | undefined {
  for (const [i, d] of optArray(cve, 'descriptions', where).entries()) {
    if (!isObj(d)) throw new Bad(`${where}.descriptions[${i}] is not an object`);
    const lang = optString(d, 'lang', `${where}.descriptions[${i}]`);
    const value = optString(d, 'value', `${where}.descriptions[${i}]`);
    if (value !== undefined && (lang === 'en' || lang?.startsWith('en-'))) return value;
  }
  return undefined;
}

function cvssEntries(cve: Obj, where: string): CvssEntry[] {
  const metrics = cve.metrics;
  if (metrics === undefined || metrics === null) return [];
  if (!isObj(metrics)) throw new Bad(`${where}.metrics is not an object`);
  const out: CvssEntry[] = [];
  const seen = new Set<string>();
  for (const [key, version] of METRICS) {
    for (const [i, m] of optArray(metrics, key, `${where}.metrics`).entries()) {
      const at = `${where}.metrics.${key}[${i}]`;
      if (!isObj(m) || !isObj(m.cvssData)) throw new Bad(`${at} has no cvssData object`);
      const vector = optString(m.cvssData, 'vectorString', `${at}.cvssData`);
      const source = optString(m, 'source', at);
      if (!vector || !source) throw new Bad(`${at} lacks vectorString or source`);
      const entry: CvssEntry = { version, vector, source };
      const score = m.cvssData.baseScore;
      if (typeof score === 'number' && score >= 0 && score <= 10) entry.baseScore = score;
      if (m.type === 'Primary' || m.type === 'Secondary') entry.type = m.type;
      const k = `${version}\0${vector}\0${source}\0${entry.type ?? ''}`;
      if (!seen.has(k)) {
        seen.add(k);
        out.push(entry);
      }
    }
  }
  return out;
}

function cwes(cve: Obj, where: string): string[] {
  const out = new Set<string>();
  for (const [i, w] of optArray(cve, 'weaknesses', where).entries()) {
    if (!isObj(w)) throw new Bad(`${where}.weaknesses[${i}] is not an object`);
    for (const [j, d] of optArray(w, 'description', `${where}.weaknesses[${i}]`).entries()) {
      if (!isObj(d)) throw new Bad(`${where}.weaknesses[${i}].description[${j}] is not an object`);
      const v = optString(d, 'value', `${where}.weaknesses[${i}].description[${j}]`);
      if (v !== undefined && CWE_ID.test(v)) out.add(v);
    }
  }
  return [...out];
}

function references(cve: Obj, where: string): string[] {
  const out = new Set<string>();
  for (const [i, r] of optArray(cve, 'references', where).entries()) {
    if (!isObj(r)) throw new Bad(`${where}.references[${i}] is not an object`);
    const url = optString(r, 'url', `${where}.references[${i}]`);
    if (url) out.add(url);
  }
  return [...out];
}

/**
 * Maps one `cve` object. Returns a `vulnerability` record (affected: [], NVD names no packages),
 * `withdrawn` for a rejected CVE, or `malformed` (with `where` in the message) when the object
 * has no valid CVE id or a member of the wrong type. Never throws.
 */
export function mapCve(cve: unknown, where: string): FeedRecord {
  if (!isObj(cve)) return { type: 'malformed', message: `${where} is not an object` };
  const id = cve.id;
  if (typeof id !== 'string' || !CVE_ID.test(id))
    return { type: 'malformed', message: `${where} has no valid CVE id` };
  try {
    const description = englishDescription(cve, where);
    const status = optString(cve, 'vulnStatus', where);
    if (status === 'Rejected' || description?.startsWith('** REJECT **')) return { type: 'withdrawn', id };
    const vulnerability: Vulnerability = {
      id,
      aliases: [],
      cvss: cvssEntries(cve, where),
      vendorSeverities: [],
      cwes: cwes(cve, where),
      references: references(cve, where),
    };
    if (description !== undefined) vulnerability.description = description;
    const published = timestamp(cve, 'published', where);
    const modified = timestamp(cve, 'lastModified', where);
    if (published !== undefined) vulnerability.published = published;
    if (modified !== undefined) vulnerability.modified = modified;
    const configurations = optArray(cve, 'configurations', where);
    if (configurations.length > 0) vulnerability.cpeConfigurations = configurations;
    return { type: 'vulnerability', vulnerability, affected: [] };
  } catch (e) {
    if (e instanceof Bad) return { type: 'malformed', message: e.message, ref: id };
    throw e;
  }
}
