/**
 * Red Hat Security Data API CVE documents (https://access.redhat.com/hydra/rest/securitydata/cve/CVE-2023-4863.json,
 * documented at https://docs.redhat.com/en/documentation/red_hat_security_data_api/) → a record
 * for the CVE. Offline input only (the online feed reads CSAF VEX, which carries the same states).
 *
 * - `affected_release[]` (cpe, `package` as source NEVR `bind-32:9.11.36-5.el8`, advisory) →
 *   fixed rows, `extra.advisory`; modular entries (`nodejs:12-8030020201124152102.229f0a1c`) name
 *   a module build, not an rpm, and are skipped;
 * - `package_state[]` (cpe, package_name, fix_state) → "Affected" / "Under investigation" /
 *   "New" → unfixed, "Will not fix" / "Out of support scope" → will-not-fix, "Fix deferred" →
 *   deferred, "Not affected" → not-affected; `module:stream/name` names a module's package.
 * Only RHEL release CPEs count (see products.ts); the package names are source rpm names.
 */
import type { AffectedPackage, CvssEntry, FixState, Vulnerability } from '../../model/vulnerability.js';
import type { FeedRecord } from '../types.js';
import { vendorSeverity } from './csaf.js';
import { evr, rhelNamespace } from './products.js';

const NEVR = /^([^:\s]+)-(?:(\d+):)?([^-:\s]+)-([^-:\s]+)$/;

const STATES: Record<string, FixState> = {
  affected: 'unfixed',
  'under investigation': 'unfixed',
  new: 'unfixed',
  'will not fix': 'will-not-fix',
  'out of support scope': 'will-not-fix',
  'fix deferred': 'deferred',
  'not affected': 'not-affected',
};

/** Is this parsed JSON a Security Data API CVE document? */
export function isHydraDocument(doc: unknown): doc is Record<string, unknown> {
  return (
    isObject(doc) &&
    typeof doc.name === 'string' &&
    ('affected_release' in doc || 'package_state' in doc || 'threat_severity' in doc)
  );
}

/** Maps one Security Data API CVE document (see isHydraDocument). */
export function hydraRecords(doc: Record<string, unknown>, name: string): FeedRecord[] {
  const id = str(doc.name);
  if (!id || !/^CVE-\d{4}-\d{4,}$/.test(id))
    return [{ type: 'malformed', message: 'document without a CVE id', ref: name }];
  const bad: FeedRecord[] = [];
  const rows: AffectedPackage[] = [];
  const seen = new Set<string>();
  const push = (row: AffectedPackage) => {
    const key = JSON.stringify(row);
    if (!seen.has(key)) {
      seen.add(key);
      rows.push(row);
    }
  };
  (Array.isArray(doc.affected_release) ? doc.affected_release : []).forEach((r: unknown, i: number) => {
    const ns = isObject(r) ? namespace(r.cpe) : undefined;
    if (!isObject(r) || !ns) return;
    const pkg = str(r.package);
    if (pkg && /^[^-]+:[^-]+-\d+\.[0-9a-f]+$/.test(pkg)) return; // a module build
    const m = pkg ? NEVR.exec(pkg) : null;
    if (!m) {
      bad.push({
        type: 'malformed',
        message: `unreadable package ${JSON.stringify(pkg ?? null)}`,
        ref: `${id}/affected_release[${i}]`,
      });
      return;
    }
    const fixed = evr(m[2], `${m[3]}-${m[4]}`);
    const row: AffectedPackage = {
      vulnId: id,
      namespace: ns,
      packageName: m[1]!,
      fixState: 'fixed',
      ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }],
      fixedVersion: fixed,
    };
    const advisory = str(r.advisory);
    if (advisory) row.extra = { advisory };
    push(row);
  });
  (Array.isArray(doc.package_state) ? doc.package_state : []).forEach((s: unknown, i: number) => {
    const ns = isObject(s) ? namespace(s.cpe) : undefined;
    if (!isObject(s) || !ns) return;
    const state = STATES[(str(s.fix_state) ?? '').toLowerCase()];
    const pkg = str(s.package_name)?.trim();
    const m = pkg ? /^(?:([^/\s]+:[^/\s]+)\/)?([A-Za-z0-9][A-Za-z0-9._+-]*)$/.exec(pkg) : null;
    if (!state || !m) {
      bad.push({ type: 'malformed', message: `unusable package state`, ref: `${id}/package_state[${i}]` });
      return;
    }
    const row: AffectedPackage = {
      vulnId: id,
      namespace: ns,
      packageName: m[2]!,
      fixState: state,
      ranges: [],
    };
    if (m[1]) row.extra = { module: m[1] };
    push(row);
  });
  const vulnerability: Vulnerability = {
    id,
    aliases: [],
    cvss: cvss(doc),
    vendorSeverities: str(doc.threat_severity) ? [vendorSeverity(str(doc.threat_severity)!)] : [],
    cwes: [...new Set(String(doc.cwe ?? '').match(/CWE-\d+/g) ?? [])],
    references: references(doc),
  };
  const bug = isObject(doc.bugzilla) ? doc.bugzilla : {};
  const title = str(bug.description);
  if (title) vulnerability.title = title;
  const details = Array.isArray(doc.details)
    ? doc.details.filter((x): x is string => typeof x === 'string')
    : [];
  if (details.length) vulnerability.description = details.join('\n\n');
  const published = str(doc.public_date);
  if (published) vulnerability.published = published;
  return [...bad, { type: 'vulnerability', vulnerability, affected: rows }];
}

const namespace = (cpe: unknown) => (typeof cpe === 'string' ? rhelNamespace(cpe) : undefined);

function cvss(doc: Record<string, unknown>): CvssEntry[] {
  const out: CvssEntry[] = [];
  for (const [key, vectorKey, scoreKey] of [
    ['cvss3', 'cvss3_scoring_vector', 'cvss3_base_score'],
    ['cvss', 'cvss_scoring_vector', 'cvss_base_score'],
  ] as const) {
    const c = doc[key];
    const vector = isObject(c) ? str(c[vectorKey]) : undefined;
    if (!isObject(c) || !vector) continue;
    const version = /^CVSS:(3\.0|3\.1|4\.0)\//.exec(vector)?.[1] ?? (key === 'cvss' ? '2.0' : undefined);
    if (!version) continue;
    const entry: CvssEntry = { version: version as CvssEntry['version'], vector, source: 'redhat' };
    const score = Number(c[scoreKey]);
    if (c[scoreKey] !== undefined && Number.isFinite(score)) entry.baseScore = score;
    out.push(entry);
  }
  return out;
}

function references(doc: Record<string, unknown>): string[] {
  const out: string[] = [];
  const bug = isObject(doc.bugzilla) ? str(doc.bugzilla.url) : undefined;
  if (bug) out.push(bug);
  // entries are often several URLs in one string, one per line
  for (const r of Array.isArray(doc.references) ? doc.references : [])
    if (typeof r === 'string') for (const u of r.split(/\s+/)) if (/^https?:\/\//.test(u)) out.push(u);
  return [...new Set(out)];
}

const str = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v : undefined);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
