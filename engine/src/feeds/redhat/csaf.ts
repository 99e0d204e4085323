/**
 * Red Hat CSAF 2.0 documents → normalised records. Two document categories:
 * - `csaf_vex`: one CVE per document, every product's state
 *   (https://security.access.redhat.com/data/csaf/v2/vex/, guide:
 *   https://redhatproductsecurity.github.io/security-data-guidelines/csaf-vex/) → a record for the CVE;
 * - `csaf_security_advisory`: one RHSA/RHBA/RHEA erratum, the packages it fixes for its CVEs
 *   (https://security.access.redhat.com/data/csaf/v2/advisories/) → a record for the erratum id,
 *   its CVEs in `related` (an erratum is a fix, not the flaw: it does not replace the CVE's record).
 *
 * Product states (CSAF §3.2.3.9 product_status, refined by §3.2.3.12 remediations as Red Hat uses
 * them, which is also how trivy-db reads them):
 * - fixed / first_fixed, or a `vendor_fix` remediation → fixed, at the product's version
 *   (`E:V-R`, epoch left out when 0);
 * - known_affected / first_affected / last_affected / under_investigation → unfixed, unless a
 *   remediation says otherwise: `no_fix_planned` ("Will not fix", "Out of support scope") →
 *   will-not-fix, `none_available` "Deferred" / "Fix deferred" → deferred;
 * - known_not_affected → not-affected.
 * Trimmed documents without product_status still carry their remediations, which then decide.
 *
 * Package names: the source rpm (the `arch=src` product) — what Vigil's rpm matcher keys on
 * (SOURCERPM). Trivy keys on binary rpm names instead and skips the src products. When a
 * document names no source rpm for a release (and module), its binary rpm names are used, marked
 * `extra.binary`. Rows on the same release with the same state and version collapse (arches,
 * BaseOS/AppStream/CRB repositories). Module streams go to `extra.module` ("nodejs:18").
 *
 * Severity: the `impact` threats (Critical → CRITICAL, Important → HIGH, Moderate → MEDIUM,
 * Low → LOW) per product on the rows, the document-wide one (a threat without products, else
 * `aggregate_severity`) on the record; `scores[].cvss_v3`/`cvss_v2` become CVSS entries with
 * source `redhat`.
 */
import { EngineError } from '../../errors.js';
import type { Severity } from '../../model/severity.js';
import type {
  AffectedPackage,
  CvssEntry,
  FixState,
  VendorSeverity,
  Vulnerability,
} from '../../model/vulnerability.js';
import type { FeedRecord } from '../types.js';
import { ProductTree } from './products.js';

const CVE_ID = /^CVE-\d{4}-\d{4,}$/;
const ERRATUM_ID = /^RH[SBE]A-\d{4}:\d+$/;

/** Red Hat impact → Vigil's scale. */
export function impactSeverity(impact: string): Severity {
  switch (impact.trim().toLowerCase()) {
    case 'critical':
      return 'CRITICAL';
    case 'important':
      return 'HIGH';
    case 'moderate':
      return 'MEDIUM';
    case 'low':
      return 'LOW';
    default:
      return 'UNKNOWN';
  }
}

export const vendorSeverity = (rating: string): VendorSeverity => ({
  source: 'redhat',
  rating,
  severity: impactSeverity(rating),
});

/**
 * Maps one parsed CSAF document.
 * @throws EngineError ENG_FEED_FORMAT when it is not a CSAF VEX or security advisory document.
 */
export function csafRecords(doc: unknown, name: string): FeedRecord[] {
  const d = isObject(doc) ? doc : {};
  const document = isObject(d.document) ? d.document : undefined;
  const category = document?.category;
  if (!document || (category !== 'csaf_vex' && category !== 'csaf_security_advisory'))
    throw new EngineError('ENG_FEED_FORMAT', `${name}: not a CSAF VEX or security advisory document`);
  if (!Array.isArray(d.vulnerabilities))
    throw new EngineError('ENG_FEED_FORMAT', `${name}: CSAF document without vulnerabilities`);
  const tree = new ProductTree(d.product_tree);
  const tracking = isObject(document.tracking) ? document.tracking : {};
  const aggregate = isObject(document.aggregate_severity) ? str(document.aggregate_severity.text) : undefined;
  const docRefs = urls(document.references);
  const out: FeedRecord[] = [];

  if (category === 'csaf_vex') {
    d.vulnerabilities.forEach((v: unknown, i: number) => {
      const cve = isObject(v) ? str(v.cve) : undefined;
      if (!isObject(v) || !cve || !CVE_ID.test(cve)) {
        out.push({ type: 'malformed', message: 'vulnerability without a CVE id', ref: `${name}#${i}` });
        return;
      }
      const { rows, errata, bad } = productRows(v, cve, tree, true);
      out.push(...bad);
      const vulnerability: Vulnerability = {
        id: cve,
        aliases: [],
        cvss: cvssEntries(v.scores),
        vendorSeverities: [],
        cwes: cwes(v),
        references: unique([...urls(v.references), ...remediationUrls(v), ...docRefs]),
      };
      if (errata.length) vulnerability.related = errata;
      const title = str(v.title) ?? noteText(v.notes, 'summary') ?? str(document.title);
      if (title) vulnerability.title = title;
      const description = noteText(v.notes, 'description');
      if (description) vulnerability.description = description;
      const published = str(v.release_date) ?? str(tracking.initial_release_date);
      if (published) vulnerability.published = published;
      const modified = str(tracking.current_release_date);
      if (modified) vulnerability.modified = modified;
      const overall = documentImpact(v) ?? aggregate;
      if (overall) vulnerability.vendorSeverities.push(vendorSeverity(overall));
      out.push({ type: 'vulnerability', vulnerability, affected: rows });
    });
    return out;
  }

  // an erratum: one record for its id over every CVE it fixes
  const id = str(tracking.id);
  if (!id || !ERRATUM_ID.test(id)) {
    return [{ type: 'malformed', message: 'security advisory without an RHSA/RHBA/RHEA id', ref: name }];
  }
  const related: string[] = [];
  const rows: AffectedPackage[] = [];
  const seen = new Set<string>();
  d.vulnerabilities.forEach((v: unknown, i: number) => {
    if (!isObject(v)) {
      out.push({ type: 'malformed', message: 'vulnerability is not an object', ref: `${name}#${i}` });
      return;
    }
    const cve = str(v.cve);
    if (cve && CVE_ID.test(cve) && !related.includes(cve)) related.push(cve);
    const got = productRows(v, id, tree, false);
    out.push(...got.bad);
    for (const r of got.rows) {
      const key = JSON.stringify(r);
      if (!seen.has(key)) {
        seen.add(key);
        rows.push(r);
      }
    }
  });
  const vulnerability: Vulnerability = {
    id,
    aliases: [],
    cvss: [],
    vendorSeverities: aggregate ? [vendorSeverity(aggregate)] : [],
    cwes: [],
    references: docRefs,
  };
  if (related.length) vulnerability.related = related;
  const title = str(document.title);
  if (title) vulnerability.title = title;
  const description = noteText(document.notes, 'general') ?? noteText(document.notes, 'summary');
  if (description) vulnerability.description = description;
  const published = str(tracking.initial_release_date);
  if (published) vulnerability.published = published;
  const modified = str(tracking.current_release_date);
  if (modified) vulnerability.modified = modified;
  out.push({ type: 'vulnerability', vulnerability, affected: rows });
  return out;
}

const STATUS_LISTS: [string, FixState][] = [
  ['fixed', 'fixed'],
  ['first_fixed', 'fixed'],
  ['known_not_affected', 'not-affected'],
  ['known_affected', 'unfixed'],
  ['first_affected', 'unfixed'],
  ['last_affected', 'unfixed'],
  ['under_investigation', 'unfixed'],
];

/** The affected rows of one vulnerability entry, the errata fixing it, and malformed products. */
function productRows(
  v: Record<string, unknown>,
  vulnId: string,
  tree: ProductTree,
  withAdvisory: boolean,
): { rows: AffectedPackage[]; errata: string[]; bad: FeedRecord[] } {
  const states = new Map<string, FixState>();
  const status = isObject(v.product_status) ? v.product_status : {};
  for (const [list, state] of STATUS_LISTS)
    for (const id of strings(status[list])) if (!states.has(id)) states.set(id, state);
  const advisory = new Map<string, string>();
  const errata: string[] = [];
  for (const r of Array.isArray(v.remediations) ? v.remediations : []) {
    if (!isObject(r)) continue;
    const details = str(r.details) ?? '';
    const ids = strings(r.product_ids);
    switch (r.category) {
      case 'vendor_fix': {
        const erratum = str(r.url)?.split('/').pop();
        const known = erratum && ERRATUM_ID.test(erratum) ? erratum : undefined;
        if (known && !errata.includes(known)) errata.push(known);
        for (const id of ids) {
          if (!states.has(id)) states.set(id, 'fixed');
          if (known && !advisory.has(id)) advisory.set(id, known);
        }
        break;
      }
      case 'no_fix_planned':
        for (const id of ids) if ((states.get(id) ?? 'unfixed') === 'unfixed') states.set(id, 'will-not-fix');
        break;
      case 'none_available': {
        const next: FixState = /defer/i.test(details) ? 'deferred' : 'unfixed';
        for (const id of ids) if ((states.get(id) ?? 'unfixed') === 'unfixed') states.set(id, next);
        break;
      }
    }
  }
  const impacts = productImpacts(v.threats);
  const bad: FeedRecord[] = [];
  type Row = { row: AffectedPackage; source: boolean; group: string };
  const found: Row[] = [];
  const seen = new Set<string>();
  for (const [productId, state] of states) {
    const p = tree.resolve(productId);
    if (!p) continue;
    if (state === 'fixed' && p.evr === undefined) {
      bad.push({
        type: 'malformed',
        message: 'fixed product without a version',
        ref: `${vulnId}:${productId}`,
      });
      continue;
    }
    const row: AffectedPackage = {
      vulnId,
      namespace: p.namespace,
      packageName: p.name,
      fixState: state,
      ranges: [],
    };
    if (state === 'fixed') {
      row.ranges = [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: p.evr! }] }];
      row.fixedVersion = p.evr!;
    }
    const impact = impacts.get(productId);
    if (impact) row.severity = vendorSeverity(impact);
    const extra: Record<string, string | boolean> = {};
    if (p.module) extra.module = p.module;
    const erratum = advisory.get(productId);
    if (withAdvisory && state === 'fixed' && erratum) extra.advisory = erratum;
    if (!p.source) extra.binary = true;
    if (Object.keys(extra).length) row.extra = extra;
    const key = JSON.stringify(row);
    if (seen.has(key)) continue;
    seen.add(key);
    found.push({ row, source: p.source, group: `${p.namespace}\u0000${p.module ?? ''}` });
  }
  // binary names only where the document names no source rpm for the release and module
  const withSource = new Set(found.filter((f) => f.source).map((f) => f.group));
  const rows = found.filter((f) => f.source || !withSource.has(f.group)).map((f) => f.row);
  return { rows, errata, bad };
}

function productImpacts(threats: unknown): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of Array.isArray(threats) ? threats : []) {
    if (!isObject(t) || t.category !== 'impact') continue;
    const impact = str(t.details);
    if (impact) for (const id of strings(t.product_ids)) if (!out.has(id)) out.set(id, impact);
  }
  return out;
}

/** The impact of a threat that names no products (it covers the whole document). */
function documentImpact(v: Record<string, unknown>): string | undefined {
  for (const t of Array.isArray(v.threats) ? v.threats : [])
    if (isObject(t) && t.category === 'impact' && strings(t.product_ids).length === 0) {
      const impact = str(t.details);
      if (impact) return impact;
    }
  return undefined;
}

function cvssEntries(scores: unknown): CvssEntry[] {
  const out: CvssEntry[] = [];
  for (const s of Array.isArray(scores) ? scores : []) {
    if (!isObject(s)) continue;
    for (const key of ['cvss_v3', 'cvss_v2', 'cvss_v4']) {
      const c = s[key];
      if (!isObject(c)) continue;
      const vector = str(c.vectorString);
      if (!vector) continue;
      const version = /^CVSS:(3\.0|3\.1|4\.0)\//.exec(vector)?.[1] ?? (key === 'cvss_v2' ? '2.0' : undefined);
      if (!version || out.some((e) => e.vector === vector)) continue;
      const entry: CvssEntry = { version: version as CvssEntry['version'], vector, source: 'redhat' };
      if (typeof c.baseScore === 'number' && Number.isFinite(c.baseScore)) entry.baseScore = c.baseScore;
      out.push(entry);
    }
  }
  return out;
}

function cwes(v: Record<string, unknown>): string[] {
  const out: string[] = [];
  const add = (c: unknown) => {
    const id = isObject(c) ? str(c.id) : undefined;
    if (id && /^CWE-\d+$/.test(id) && !out.includes(id)) out.push(id);
  };
  add(v.cwe);
  if (Array.isArray(v.cwes)) v.cwes.forEach(add);
  return out;
}

function remediationUrls(v: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const r of Array.isArray(v.remediations) ? v.remediations : [])
    if (isObject(r) && r.category === 'vendor_fix') {
      const u = str(r.url);
      if (u) out.push(u);
    }
  return out;
}

function noteText(notes: unknown, category: string): string | undefined {
  for (const n of Array.isArray(notes) ? notes : [])
    if (isObject(n) && n.category === category) {
      const t = str(n.text);
      if (t) return t;
    }
  return undefined;
}

function urls(refs: unknown): string[] {
  const out: string[] = [];
  for (const r of Array.isArray(refs) ? refs : []) {
    const u = isObject(r) ? str(r.url) : undefined;
    if (u) out.push(u);
  }
  return unique(out);
}

const unique = (xs: string[]) => [...new Set(xs)];
const str = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x !== '') : [];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
